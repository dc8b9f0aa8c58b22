"""Periodic jobs of the outbox, run by the scheduler inside ``shouhou worker``."""

from __future__ import annotations

import datetime as dt

from django.conf import settings

from shouhou.core.scheduler import periodic
from shouhou.notifications.tasks import follow_ups, sweep_messages, sweep_outbox

periodic("outbox.sweep", every=dt.timedelta(seconds=settings.EVENT_SWEEP_INTERVAL_SECONDS))(
    sweep_outbox
)

periodic("notifications.messages", every=dt.timedelta(seconds=60))(sweep_messages)
periodic("notifications.follow_up", every=dt.timedelta(minutes=10))(follow_ups)
