from __future__ import annotations

import os
from collections.abc import Callable, Iterator

import pytest

from shouhou.core.testing.factories import WorkOrderFactory
from shouhou.notifications import consumers as registry
from shouhou.workorders.models import WorkOrder
from shouhou.workorders.services import Actor, workorder_add_note


@pytest.fixture(autouse=True)
def _only_test_consumers() -> Iterator[None]:
    """Each test here sees only the consumers it registers (not webhooks and the like)."""
    saved = dict(registry._CONSUMERS)
    registry._CONSUMERS.clear()
    yield
    registry._CONSUMERS.clear()
    registry._CONSUMERS.update(saved)


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


# A database number of the Redis at 127.0.0.1:6379 that nothing else uses; its "default" queue
# is emptied before each test that uses it.
REDIS_URL = os.environ.get("SHOUHOU_TEST_REDIS_URL", "redis://127.0.0.1:6379/13")


@pytest.fixture
def rq_queue(settings):
    """The redis task backend (django-tasks-rq) on a real Redis, with an empty queue."""
    import django_rq
    import redis
    from django_tasks_rq import Job

    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1).ping()
    except redis.exceptions.ConnectionError:
        if os.environ.get("SHOUHOU_REQUIRE_REDIS"):  # .ci/run sets it
            pytest.fail(f"Redis is required at {REDIS_URL}")
        pytest.skip(f"no Redis at {REDIS_URL}")
    settings.RQ_QUEUES = {"default": {"URL": REDIS_URL}}
    settings.TASKS = {"default": {"BACKEND": "django_tasks_rq.RQBackend", "QUEUES": ["default"]}}
    queue = django_rq.get_queue("default", job_class=Job)
    queue.connection.flushdb()
    yield queue
    queue.connection.flushdb()
