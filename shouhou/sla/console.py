"""What the SLA app adds to the console's order page (through ``workorders.hooks``)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _

from shouhou.sla.choices import CLOCK_STATE_COLOURS, CLOCK_STATES, SlaTarget
from shouhou.sla.models import SlaClock
from shouhou.sla.selectors import clocks_for_order
from shouhou.workorders.choices import EventType
from shouhou.workorders.models import WorkOrder, WorkOrderEvent


def duration_text(delta: dt.timedelta) -> str:
    """ "2 h 05 min" style, for a positive or negative span (the sign is the caller's)."""
    minutes = int(abs(delta.total_seconds()) // 60)
    days, minutes = divmod(minutes, 24 * 60)
    hours, minutes = divmod(minutes, 60)
    if days:
        return _("%(days)d d %(hours)d h") % {"days": days, "hours": hours}
    if hours:
        return _("%(hours)d h %(minutes)02d min") % {"hours": hours, "minutes": minutes}
    return _("%(minutes)d min") % {"minutes": minutes}


def clock_row(clock: SlaClock, now: dt.datetime) -> dict[str, Any]:
    """One clock as people read it: target, due (Beijing time), time left or overdue, state."""
    state = clock.state(now)
    remaining = clock.remaining(now)
    if state in ("met", "met_late", "cancelled"):
        left = ""
    elif remaining.total_seconds() >= 0:
        left = _("%(time)s left") % {"time": duration_text(remaining)}
    else:
        left = _("overdue by %(time)s") % {"time": duration_text(remaining)}
    return {
        "clock": clock,
        "target_label": SlaTarget(clock.target).label,
        "state": state,
        "state_label": CLOCK_STATES[state],
        "colour": CLOCK_STATE_COLOURS[state],
        "due_local": timezone.localtime(clock.due_at),
        "left": left,
        "is_paused": clock.paused_at is not None,
        "paused": duration_text(dt.timedelta(seconds=clock.paused_seconds))
        if clock.paused_seconds
        else "",
    }


def sla_panel(*, work_order: WorkOrder, now: dt.datetime) -> dict[str, Any] | None:
    """The "SLA" section of the console's order page (``hooks.CONSOLE_PANELS``)."""
    clocks = clocks_for_order(work_order=work_order)
    policy = next((clock.policy for clock in clocks if clock.policy is not None), None)
    return {
        "template": "sla/partials/_console_sla.html",
        "context": {
            "rows": [clock_row(clock, now) for clock in clocks],
            "policy": policy,
        },
    }


def sla_event_detail(*, event: WorkOrderEvent) -> list[str] | None:
    """Which target and when it is due, for the SLA events on the timeline."""
    if event.type not in (EventType.SLA_WARNING, EventType.SLA_BREACHED):
        return None
    data = event.data or {}
    parts = []
    if data.get("target") in SlaTarget.values:
        parts.append(str(SlaTarget(data["target"]).label))
    due = parse_datetime(str(data.get("due_at") or ""))
    if due is not None:
        parts.append(
            _("due %(time)s") % {"time": timezone.localtime(due).strftime("%Y-%m-%d %H:%M")}
        )
    return parts
