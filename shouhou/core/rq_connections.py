"""One Redis client per queue configuration and process for RQ.

django-rq builds a new ``Redis`` client (and a new connection pool) from the queue's URL on
every ``get_queue`` call, so each enqueued task opened a fresh TCP connection and redis-py
read the installed packages' metadata to introduce itself: measured at about a quarter of
the CPU of an intake request under load. A ``Redis`` client is thread-safe and its pool
notices a fork, so one per configuration and process is enough. Keyed by the connection
settings (not only the queue name), so a changed ``RQ_QUEUES`` gets its own client.
"""

from __future__ import annotations

import threading
from typing import Any

_clients: dict[tuple[str, bool], Any] = {}
_lock = threading.Lock()


def install() -> None:
    """Make django-rq reuse one client per queue configuration (idempotent)."""
    import django_rq
    import django_rq.queues
    from django_rq import connection_utils

    if getattr(django_rq.queues.get_connection, "shouhou_pooled", False):
        return
    original = connection_utils.get_connection

    def get_connection(name: str = "default", use_strict_redis: bool = False) -> Any:
        from django_rq.settings import QUEUES

        params = connection_utils.filter_connection_params(QUEUES[name])
        key = (repr(sorted(params.items())), use_strict_redis)
        client = _clients.get(key)
        if client is None:
            with _lock:
                client = _clients.get(key)
                if client is None:
                    client = _clients[key] = original(name, use_strict_redis)
        return client

    get_connection.shouhou_pooled = True  # type: ignore[attr-defined]
    django_rq.queues.get_connection = get_connection
    connection_utils.get_connection = get_connection
    django_rq.get_connection = get_connection  # type: ignore[attr-defined]
