"""A small per-process cache with a time limit, for reads that are hot and rarely change.

Used on the intake path (the API principal behind a token, catalog rows, price estimates) so a
busy web process does not ask the database the same question hundreds of times a second. Each
cache names the setting that holds its lifetime in seconds; 0 turns it off (the test settings
do, so tests always see the database). Writes in this process clear the cache at once (see the
signal receivers of each user); other processes see a change when the entry expires, so the
lifetime is also the longest time a change can take to be seen everywhere.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

from django.conf import settings

V = TypeVar("V")


class TtlCache(Generic[V]):
    """``get_or_compute(key, compute)`` with entries that live ``settings.<setting>`` seconds."""

    def __init__(self, setting: str, *, max_entries: int = 10_000) -> None:
        self.setting = setting
        self.max_entries = max_entries
        self._entries: dict[Hashable, tuple[float, V]] = {}
        self._lock = threading.Lock()

    def seconds(self) -> float:
        return float(getattr(settings, self.setting, 0))

    def get_or_compute(self, key: Hashable, compute: Callable[[], V]) -> V:
        lifetime = self.seconds()
        if lifetime <= 0:
            return compute()
        now = time.monotonic()
        entry = self._entries.get(key)
        if entry is not None and entry[0] > now:
            return entry[1]
        value = compute()
        with self._lock:
            if len(self._entries) >= self.max_entries:
                self._entries.clear()
            self._entries[key] = (now + lifetime, value)
        return value

    def clear(self, *_args: object, **_kwargs: object) -> None:
        """Forget everything (also usable directly as a signal receiver)."""
        with self._lock:
            self._entries.clear()

    def __len__(self) -> int:
        return len(self._entries)
