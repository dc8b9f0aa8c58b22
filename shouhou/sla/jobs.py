"""Periodic jobs of SLA clocks, run by the scheduler inside ``shouhou worker``."""

from __future__ import annotations

import datetime as dt

from shouhou.core.scheduler import periodic
from shouhou.sla.services import sla_tick


@periodic("sla.tick", every=dt.timedelta(seconds=60), lease=dt.timedelta(minutes=5))
def sla_tick_job() -> int:
    report = sla_tick()
    return len(report.warned) + len(report.breached)
