from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DispatchConfig(AppConfig):
    name = "shouhou.dispatch"
    label = "dispatch"
    verbose_name = _("Dispatch")

    def ready(self) -> None:
        # Dispatch follows the work order without workorders importing dispatch: the
        # work-order services call these hooks inside their own transactions.
        from shouhou.dispatch import offers
        from shouhou.workorders import hooks

        hooks.register(hooks.ACCEPTED, offers.on_accepted)
        hooks.register(hooks.TECHNICIAN_ASSIGNED, offers.on_technician_assigned)
        hooks.register(hooks.ASSIGNMENT_ANSWERED, offers.on_assignment_answered)
