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
        self._clear_caches_on_change()

    def _clear_caches_on_change(self) -> None:
        """A change made in this process is seen by the next ranking at once (other processes
        see it within ``DISPATCH_CACHE_SECONDS``; docs/dispatch.md)."""
        from django.db.models.signals import post_delete, post_save

        from shouhou.catalog.models import SkillTag
        from shouhou.dispatch.models import (
            DayOff,
            DispatchModeOverride,
            DispatchPolicy,
            Shift,
            TechnicianSkill,
        )
        from shouhou.dispatch.roster import ROSTER_CACHE
        from shouhou.dispatch.selectors import policy_cache
        from shouhou.workorders.models import Visit

        watched = {
            ROSTER_CACHE: (TechnicianSkill, Shift, DayOff, SkillTag, Visit),
            policy_cache: (DispatchPolicy, DispatchModeOverride),
        }
        for cache, models in watched.items():
            for model in models:
                for signal in (post_save, post_delete):
                    signal.connect(
                        cache.clear,
                        sender=model,
                        weak=False,
                        dispatch_uid=f"dispatch-{id(cache)}-{model._meta.label}-{id(signal)}",
                    )
