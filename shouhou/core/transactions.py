"""One transaction per service call, without a savepoint for every service it calls.

``@transaction.atomic`` on a service makes a savepoint whenever it runs inside another atomic
block. Services call services (accepting an order transitions it, runs the dispatch hook,
which assigns a technician, which transitions it again), so one accept made eight SAVEPOINT /
RELEASE round trips that protect nothing: no service catches another's error and carries on.

``@service_atomic`` opens a transaction, or a savepoint when the caller is not a service (a
view inside a test's transaction, a batch that keeps going after one order fails), and joins
the surrounding block without a savepoint when a service calls it. An error inside still rolls
back everything up to the nearest real savepoint or transaction, exactly as an uncaught error
would. Code that wants to catch a service's error and continue opens its own
``transaction.atomic()`` block around the call (``dispatch.services.batch_dispatch`` does).
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable
from typing import ParamSpec, TypeVar

from django.db import transaction

P = ParamSpec("P")
R = TypeVar("R")

_state = threading.local()


def service_atomic(function: Callable[P, R]) -> Callable[P, R]:
    @functools.wraps(function)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        depth: int = getattr(_state, "depth", 0)
        _state.depth = depth + 1
        try:
            with transaction.atomic(savepoint=depth == 0):
                return function(*args, **kwargs)
        finally:
            _state.depth = depth

    return wrapper
