"""Background work for dispatch: thin wrappers around services."""

from __future__ import annotations

from django_tasks import task

from shouhou.dispatch.offers import offers_expire_due


@task()
def offers_expire() -> int:
    """Expire due offers (moving each to the next technician) and due pool entries.

    Idempotent and safe to run often or twice at once; the periodic scheduler runs it every
    30 seconds or so. Pages also expire lazily, so offers move on without a worker too."""
    return offers_expire_due()
