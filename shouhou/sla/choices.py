"""The SLA targets an order is measured against, with the milestone that meets each."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

from django.db import models
from django.utils.translation import gettext_lazy as _

from shouhou.workorders.choices import WorkOrderStatus as S


class SlaTarget(models.TextChoices):
    RESPONSE = "response", _("Response")  # 响应: submitted → accepted
    ARRIVAL = "arrival", _("Arrival / start")  # 上门/接机: accepted → in service
    RESOLUTION = "resolution", _("Resolution")  # 完工: submitted → completed


T = SlaTarget

# The statuses that meet each target: reaching any of them stops the clock (met).
MET_BY: Final[Mapping[str, frozenset[str]]] = {
    T.RESPONSE: frozenset(
        {S.ACCEPTED, S.ASSIGNED, S.SCHEDULED, S.IN_SERVICE, S.ON_HOLD, S.COMPLETED, S.CLOSED}
    ),
    T.ARRIVAL: frozenset({S.IN_SERVICE, S.COMPLETED, S.CLOSED}),
    T.RESOLUTION: frozenset({S.COMPLETED, S.CLOSED}),
}

# What a clock says about itself on pages and in the API.
CLOCK_STATES: Final[Mapping[str, object]] = {
    "running": _("Running"),
    "warning": _("Due soon"),
    "overdue": _("Overdue"),
    "paused": _("Paused (on hold)"),
    "met": _("Met"),
    "met_late": _("Met late"),
    "cancelled": _("Cancelled"),
}
CLOCK_STATE_COLOURS: Final[Mapping[str, str]] = {
    "running": "blue",
    "warning": "orange",
    "overdue": "red",
    "paused": "grey",
    "met": "green",
    "met_late": "orange",
    "cancelled": "grey",
}
