from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from shouhou.core.testing.factories import WorkOrderFactory
from shouhou.notifications import consumers as registry
from shouhou.workorders.models import WorkOrder
from shouhou.workorders.services import Actor, workorder_add_note


@pytest.fixture
def register_consumer() -> Iterator[Callable[..., Callable]]:
    """Register test consumers for one test; unregistered afterwards."""
    names: list[str] = []

    def register(name: str, handler: Callable, **options: object) -> Callable:
        names.append(name)
        return registry.consumer(name, **options)(handler)  # type: ignore[arg-type]

    yield register
    for name in names:
        registry.unregister(name)


@pytest.fixture
def work_order(db: None) -> WorkOrder:
    return WorkOrderFactory()


@pytest.fixture
def add_event(work_order: WorkOrder) -> Callable[..., int]:
    def add(text: str = "note") -> int:
        return workorder_add_note(work_order=work_order, actor=Actor.system(), text=text).pk

    return add
