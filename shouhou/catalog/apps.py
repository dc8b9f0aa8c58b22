from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CatalogConfig(AppConfig):
    name = "shouhou.catalog"
    label = "catalog"
    verbose_name = _("Catalog and prices")

    def ready(self) -> None:
        from django.db.models.signals import m2m_changed, post_delete, post_save

        from shouhou.catalog.models import FaultType
        from shouhou.catalog.selectors import catalog_cache

        # Any catalog write in this process forgets the intake cache at once.
        for model in self.get_models():
            for signal in (post_save, post_delete):
                signal.connect(
                    catalog_cache.clear,
                    sender=model,
                    dispatch_uid=f"catalog-cache-{model._meta.label}-{signal is post_save}",
                )
        # A fault's required skills live in an auto-created table that sends no post_save.
        m2m_changed.connect(
            catalog_cache.clear,
            sender=FaultType.required_skills.through,
            dispatch_uid="catalog-cache-fault-required-skills",
        )
