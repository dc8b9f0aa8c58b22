"""Gathering committed events into one delivery task per batch (docs/tasks.md).

Each committed event needs its delivery enqueued. One task per event costs the request that
wrote it a task object, its serialisation and a Redis transaction (about a tenth of an intake
under load). With ``EVENT_ENQUEUE_DELAY_MS`` above 0, the commit hook only appends the event id
to this process's :class:`EventBatcher`; a background thread waits that long for more ids and
enqueues them together as one ``deliver_events`` task (at most ``max_batch`` ids each).

Nothing is lost if the process dies with ids still gathered: the events are in the outbox (the
database), and the sweeper enqueues any event without deliveries after
``EVENT_SWEEP_AFTER_SECONDS``. At a normal exit the gathered ids are enqueued first.
"""

from __future__ import annotations

import atexit
import logging
import os
import threading
from collections.abc import Callable

logger = logging.getLogger(__name__)


class EventBatcher:
    """Event ids of one process, enqueued ``delay`` seconds after the first of a batch.

    ``send`` receives each batch (a list of at most ``max_batch`` ids) on the background
    thread; an exception there is logged and the batch left to the sweeper. After a fork the
    child starts with nothing gathered and its own thread.
    """

    def __init__(
        self, send: Callable[[list[int]], object], *, delay: float, max_batch: int = 100
    ) -> None:
        self.send = send
        self.delay = delay
        self.max_batch = max_batch
        self._reset()
        os.register_at_fork(after_in_child=self._reset)
        atexit.register(self.flush)

    def _reset(self) -> None:
        self._ready = threading.Condition(threading.Lock())
        self._pending: list[int] = []
        self._thread: threading.Thread | None = None

    def add(self, event_id: int) -> None:
        with self._ready:
            self._pending.append(event_id)
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._run, name="shouhou-event-batcher", daemon=True
                )
                self._thread.start()
            if len(self._pending) == 1 or len(self._pending) >= self.max_batch:
                self._ready.notify()

    def flush(self) -> int:
        """Send what is gathered now, on the calling thread; how many ids were sent."""
        with self._ready:
            batch, self._pending = self._pending, []
        self._send(batch)
        return len(batch)

    def _run(self) -> None:
        while True:
            with self._ready:
                while not self._pending:
                    self._ready.wait()
                # The first id of a batch has arrived: wait for more, unless it is full.
                if len(self._pending) < self.max_batch:
                    self._ready.wait(self.delay)
                batch, self._pending = self._pending, []
            self._send(batch)

    def _send(self, ids: list[int]) -> None:
        for start in range(0, len(ids), self.max_batch):
            chunk = ids[start : start + self.max_batch]
            try:
                self.send(chunk)
            except Exception:
                # The events are committed; the outbox sweeper enqueues them later.
                logger.exception("Enqueuing the delivery of events %s failed", chunk)
