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
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from typing import Any

ACCEPTED = "accepted"
TECHNICIAN_ASSIGNED = "technician_assigned"
ASSIGNMENT_ANSWERED = "assignment_answered"

_registry: dict[str, list[Callable[..., Any]]] = defaultdict(list)


def register(hook: str, function: Callable[..., Any]) -> None:
    """Call ``function(**kwargs)`` whenever ``hook`` runs. Registering twice is a no-op."""
    if function not in _registry[hook]:
        _registry[hook].append(function)


def run(hook: str, **kwargs: Any) -> None:
    for function in list(_registry[hook]):
        function(**kwargs)
