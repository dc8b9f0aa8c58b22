"""How deliveries are signed, for us and for receivers (docs/webhooks.md shows the check).

``Shouhou-Signature: t=<unix seconds>,v1=<hex>[,v1=<hex>]`` where each ``v1`` is
HMAC-SHA256(secret, "<t>.<raw body>"); during a rotation's grace period there is one ``v1`` per
valid secret. A receiver accepts when any ``v1`` matches its secret and ``t`` is recent.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable

SIGNATURE_HEADER = "Shouhou-Signature"


def sign(*, secret: str, timestamp: int, body: bytes) -> str:
    message = str(timestamp).encode() + b"." + body
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def signature_header(*, secrets: Iterable[str], timestamp: int, body: bytes) -> str:
    parts = [f"t={timestamp}"]
    parts += [f"v1={sign(secret=s, timestamp=timestamp, body=body)}" for s in secrets]
    return ",".join(parts)
