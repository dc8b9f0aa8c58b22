"""Points where later apps act on a work-order change without ``workorders`` importing them.

Dependencies point one way (``workorders ← dispatch``), yet accepting an order must start
dispatch in the same transaction, and a technician's answer to an assignment must reach the
dispatch attempt it belongs to. A later app registers a function for a hook in its
``AppConfig.ready()``; the work-order service calls every registered function inside its own
transaction, with the order locked, so both writes commit or neither does. This is a plain
list of functions, not Django signals: the call sites are explicit and few.

Hooks and their keyword arguments:

- ``ACCEPTED``: ``work_order``, ``actor`` — the order was just accepted (待受理 → 已受理).
- ``TECHNICIAN_ASSIGNED``: ``work_order``, ``technician``, ``actor`` — a technician was
  given the order (by anyone: a dispatcher, an offer, the pool).
- ``ASSIGNMENT_ANSWERED``: ``work_order``, ``technician``, ``actor``, ``accepted``,
  ``reason`` — the assigned technician took the job or gave it back.
- ``CREATED``: ``work_order``, ``actor`` — a new order was just written (intake, any channel).
- ``STATUS_CHANGED``: ``work_order``, ``previous``, ``to``, ``actor``, ``at`` — every status
  change, from the one transition function (``sla`` starts, pauses and stops its clocks here).

A few points are *providers* rather than hooks: one app answers a question that ``workorders``
asks without knowing the app (``provided(name)`` is the last registered function, or None):

- ``QUEUE_OVERDUE``: ``(queryset, now) -> queryset`` — the console queue's "overdue" filter
  (``sla`` registers the rule on its clocks; without it the window rule in ``selectors`` holds).

and some *collectors* gather contributions from every registered app (``collect(name, ...)``):

- ``CONSOLE_PANELS``: ``(work_order, now) -> {"template": ..., "context": {...}} | None`` —
  sections on the console's order page (``sla``: the clocks with time left).
- ``EVENT_DETAIL``: ``(event) -> list[str]`` — extra words for an event on the timeline.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from typing import Any

ACCEPTED = "accepted"
TECHNICIAN_ASSIGNED = "technician_assigned"
ASSIGNMENT_ANSWERED = "assignment_answered"
CREATED = "created"
STATUS_CHANGED = "status_changed"
QUEUE_OVERDUE = "queue_overdue"
CONSOLE_PANELS = "console_panels"
EVENT_DETAIL = "event_detail"

_registry: dict[str, list[Callable[..., Any]]] = defaultdict(list)


def register(hook: str, function: Callable[..., Any]) -> None:
    """Call ``function(**kwargs)`` whenever ``hook`` runs. Registering twice is a no-op."""
    if function not in _registry[hook]:
        _registry[hook].append(function)


def run(hook: str, **kwargs: Any) -> None:
    for function in list(_registry[hook]):
        function(**kwargs)


def collect(hook: str, **kwargs: Any) -> list[Any]:
    """Every registered function's answer, in registration order (None answers left out)."""
    answers = (function(**kwargs) for function in list(_registry[hook]))
    return [answer for answer in answers if answer is not None]


def provided(hook: str) -> Callable[..., Any] | None:
    """The function registered last for ``hook``, or None."""
    functions = _registry[hook]
    return functions[-1] if functions else None
