"""Helpers for input serializers on hot paths."""

from __future__ import annotations

import threading
from typing import Any

_lock = threading.Lock()


class SharedFields:
    """Bind an input serializer's fields once per class instead of once per request.

    DRF deep-copies every declared field (re-running each field's ``__init__``) each time a
    serializer is made; on the intake path that was about 4% of a request's CPU. Sharing is
    safe for a plain input serializer whose fields keep no per-request state and read no
    context (no ``HiddenField``, ``CurrentUserDefault``, model or list serializers):
    validation only reads the fields, and errors and validated data live on the instance.
    """

    @property
    def fields(self) -> Any:
        cls = type(self)
        shared = cls.__dict__.get("_shared_fields")
        if shared is None:
            with _lock:
                shared = cls.__dict__.get("_shared_fields")
                if shared is None:
                    shared = super().fields  # type: ignore[misc]
                    cls._shared_fields = shared  # type: ignore[attr-defined]
        return shared
