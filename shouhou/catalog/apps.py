from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CatalogConfig(AppConfig):
    name = "shouhou.catalog"
    label = "catalog"
    verbose_name = _("Catalog and prices")

    def ready(self) -> None:
        from django.db.models.signals import post_delete, post_save

        from shouhou.catalog.selectors import catalog_cache

        # Any catalog write in this process forgets the intake cache at once.
        for model in self.get_models():
            for signal in (post_save, post_delete):
                signal.connect(
                    catalog_cache.clear,
                    sender=model,
                    dispatch_uid=f"catalog-cache-{model._meta.label}-{signal is post_save}",
                )
