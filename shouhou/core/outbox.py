"""The seam between apps that write events and the apps that deliver them.

``workorders`` records a ``WorkOrderEvent`` in the transaction of each change and calls
:func:`event_published`; after that transaction commits, every registered publisher hook runs
(``notifications`` registers the one that enqueues the delivery task). Writers never import the
consumers, so dependencies keep pointing one way (DESIGN.md section 2). If a hook fails or the
process dies before it runs, nothing is lost: the outbox sweeper finds the undelivered row.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from django.db import transaction

logger = logging.getLogger(__name__)

_HOOKS: list[Callable[[int], object]] = []


def on_event_published(hook: Callable[[int], object]) -> None:
    """Call ``hook(event_id)`` after the commit of every transaction that records an event."""
    if hook not in _HOOKS:
        _HOOKS.append(hook)


def event_published(event_id: int) -> None:
    """Announce a just-written event; the hooks run only if (and when) the transaction commits."""
    if _HOOKS:
        transaction.on_commit(lambda: _run_hooks(event_id))


def _run_hooks(event_id: int) -> None:
    for hook in _HOOKS:
        try:
            hook(event_id)
        except Exception:
            # The change is committed; the sweeper will enqueue the event later.
            logger.exception("Publishing event %s failed; the sweeper will retry", event_id)
