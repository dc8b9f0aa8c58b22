from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SlaConfig(AppConfig):
    name = "shouhou.sla"
    label = "sla"
    verbose_name = _("SLA")

    def ready(self) -> None:
        # SLA clocks follow the work order without workorders importing sla: the work-order
        # services call these hooks inside their own transactions (workorders/hooks.py).
        from shouhou.sla import console, selectors, services
        from shouhou.workorders import hooks

        hooks.register(hooks.CREATED, services.sla_clocks_start)
        hooks.register(hooks.STATUS_CHANGED, services.sla_clocks_follow)
        hooks.register(hooks.QUEUE_OVERDUE, selectors.queue_overdue)
        hooks.register(hooks.CONSOLE_PANELS, console.sla_panel)
        hooks.register(hooks.EVENT_DETAIL, console.sla_event_detail)
