"""Periodic jobs of dispatch, run by the scheduler inside ``shouhou worker``.

Offers and pool entries also expire lazily when a page or the API reads them, so nothing waits
for this job; it moves an unanswered offer on to the next technician even when nobody looks.
"""

from __future__ import annotations

import datetime as dt

from shouhou.core.scheduler import periodic
from shouhou.dispatch.offers import offers_expire_due


@periodic("dispatch.offers_expire", every=dt.timedelta(seconds=15), lease=dt.timedelta(minutes=2))
def offers_expire_job() -> int:
    return offers_expire_due()
