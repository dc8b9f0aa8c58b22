"""The registry of event consumers.

A consumer is a named handler for work-order events (``notifications``, ``webhooks``,
``live``, ``sla`` ...). Delivering an event means running every consumer that wants it, each
exactly once per (event, consumer): ``EventDelivery`` records who is done, so a retry after a
crash skips them. Register with::

    @consumer("live", event_types={EventType.STATUS_CHANGED})
    def push_to_board(event: WorkOrderEvent, delivery: DeliveryContext) -> None: ...

A handler either

- is ``atomic=True``: it writes only to this database; it runs in the same transaction that
  marks the delivery done, so its effect is committed exactly once (a crash rolls both back); or
- is not atomic (it talks to the outside world: SMS, HTTP): it may run more than once after a
  crash, so its side effect must be idempotent keyed by ``delivery.key`` (pass it as the
  idempotency key / dedupe id to the remote side, or upsert on it locally).
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass

from shouhou.workorders.models import WorkOrderEvent


@dataclass(frozen=True)
class DeliveryContext:
    event_id: int
    consumer: str
    attempt: int  # 1 for the first try

    @property
    def key(self) -> str:
        """The idempotency key of this side effect: the same on every retry."""
        return f"event-{self.event_id}-{self.consumer}"


Handler = Callable[[WorkOrderEvent, DeliveryContext], object]


@dataclass(frozen=True)
class Consumer:
    name: str
    handler: Handler
    event_types: frozenset[str] | None  # None: every event
    atomic: bool
    max_attempts: int
    retry_base_seconds: float
    retry_max_seconds: float

    def wants(self, event: WorkOrderEvent) -> bool:
        return self.event_types is None or event.type in self.event_types

    def retry_delay(self, attempts: int) -> float:
        """Exponential back-off after the ``attempts``-th failure: base, 2·base, 4·base ..."""
        return min(self.retry_base_seconds * 2 ** max(attempts - 1, 0), self.retry_max_seconds)


_CONSUMERS: dict[str, Consumer] = {}


def consumer(
    name: str,
    *,
    event_types: Collection[str] | None = None,
    atomic: bool = False,
    max_attempts: int = 10,
    retry_base_seconds: float = 30.0,
    retry_max_seconds: float = 3600.0,
) -> Callable[[Handler], Handler]:
    """Register ``handler`` as the consumer ``name`` (see the module docstring)."""
    if len(name) > 40:
        raise ValueError(f"consumer name {name!r} is longer than 40 characters")

    def register(handler: Handler) -> Handler:
        _CONSUMERS[name] = Consumer(
            name=name,
            handler=handler,
            event_types=frozenset(event_types) if event_types is not None else None,
            atomic=atomic,
            max_attempts=max_attempts,
            retry_base_seconds=retry_base_seconds,
            retry_max_seconds=retry_max_seconds,
        )
        return handler

    return register


def unregister(name: str) -> None:
    _CONSUMERS.pop(name, None)


def consumers_for(event: WorkOrderEvent) -> list[Consumer]:
    return [c for c in _CONSUMERS.values() if c.wants(event)]


def consumer_get(name: str) -> Consumer | None:
    return _CONSUMERS.get(name)
