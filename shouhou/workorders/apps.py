from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class WorkOrdersConfig(AppConfig):
    name = "shouhou.workorders"
    label = "workorders"
    verbose_name = _("Work orders")

    def ready(self) -> None:
        from django.db.models.signals import post_delete, post_save

        from shouhou.accounts.models import Organization
        from shouhou.workorders.services import network_cache

        # A network change in this process (a partner joins, leaves or is deactivated) is seen
        # at once; other processes see it within DISPATCH_CACHE_SECONDS.
        for signal in (post_save, post_delete):
            signal.connect(
                network_cache.clear,
                sender=Organization,
                weak=False,
                dispatch_uid=f"workorders-network-{id(signal)}",
            )
