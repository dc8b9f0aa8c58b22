"""A local Web Push service (RFC 8030) that checks VAPID (RFC 8292) and decrypts (RFC 8291).

``FakePushService.subscribe()`` plays the browser: it makes a P-256 key pair and a 16-byte auth
secret, like ``PushManager.subscribe()``, and returns the endpoint and keys a real browser would
hand to the page. A POST to that endpoint is accepted (201 Created with a ``Location``) only if

- ``Authorization: vapid t=<jwt>,k=<key>`` carries an ES256 JWT signed by ``k``, ``k`` is the
  application server key the subscription was made with (else 403), the audience is this
  service's origin, ``exp`` lies in the future and at most 24 hours ahead and ``sub`` is a
  ``mailto:`` or ``https:`` contact (else 401);
- a ``TTL`` header is present (else 400) and the body is ``Content-Encoding: aes128gcm`` that
  decrypts with the subscription's private key and auth secret (else 400).

The plaintext, TTL and Urgency of each accepted message are recorded in ``received``. Tests can
make the next posts answer 404/410/429/500 (``answer_next``), or drop a subscription so it
answers 410 Gone (``unsubscribe``) like a browser that revoked permission.
"""

from __future__ import annotations

import base64
import itertools
import json
import os
import secrets
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import http_ece
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

from shouhou.notifications.testing._server import FakeHandler, LocalServer


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@dataclass
class BrowserSubscription:
    """What a browser's PushManager.subscribe() gives the page, plus its private half."""

    endpoint: str
    private_key: ec.EllipticCurvePrivateKey
    auth_secret: bytes
    application_server_key: str

    @property
    def p256dh(self) -> str:
        point = self.private_key.public_key().public_bytes(
            serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
        )
        return _b64(point)

    @property
    def auth(self) -> str:
        return _b64(self.auth_secret)

    def as_json(self) -> dict[str, Any]:
        """The shape of ``PushSubscription.toJSON()`` in a browser."""
        return {
            "endpoint": self.endpoint,
            "expirationTime": None,
            "keys": {"p256dh": self.p256dh, "auth": self.auth},
        }


@dataclass
class Received:
    endpoint: str
    plaintext: bytes
    ttl: int
    urgency: str
    claims: dict[str, Any]

    def json(self) -> Any:
        return json.loads(self.plaintext.decode("utf-8"))


@dataclass
class FakePushService(LocalServer):
    received: list[Received] = field(default_factory=list)
    rejected: list[tuple[str, int, str]] = field(default_factory=list)  # endpoint, status, why

    def __post_init__(self) -> None:
        super().__init__()
        self._subscriptions: dict[str, BrowserSubscription] = {}
        self._gone: set[str] = set()
        self._forced: list[tuple[int, str | None, str | None]] = []  # status, retry-after, path
        self._locations = itertools.count(1)

    # --- the browser side ---------------------------------------------------------------------

    def subscribe(self, application_server_key: str) -> BrowserSubscription:
        subscription = BrowserSubscription(
            endpoint=f"{self.base_url}/wpush/v2/{secrets.token_urlsafe(32)}",
            private_key=ec.generate_private_key(ec.SECP256R1()),
            auth_secret=os.urandom(16),
            application_server_key=application_server_key.rstrip("="),
        )
        with self.lock:
            self._subscriptions[urlsplit(subscription.endpoint).path] = subscription
        return subscription

    def unsubscribe(self, subscription: BrowserSubscription) -> None:
        """The browser revoked it: its endpoint answers 410 Gone from now on."""
        with self.lock:
            path = urlsplit(subscription.endpoint).path
            self._subscriptions.pop(path, None)
            self._gone.add(path)

    def answer_next(
        self,
        status: int,
        *,
        retry_after: str | None = None,
        times: int = 1,
        subscription: BrowserSubscription | None = None,
    ) -> None:
        """The next ``times`` authentic posts (to ``subscription`` only, if given) answer
        ``status`` instead of delivering."""
        path = urlsplit(subscription.endpoint).path if subscription else None
        with self.lock:
            self._forced.extend([(status, retry_after, path)] * times)

    # --- the push service ---------------------------------------------------------------------

    def handle(self, method: str, handler: FakeHandler) -> None:
        path = urlsplit(handler.path).path
        body = handler.body()
        if method != "POST":
            handler.answer(405)
            return
        with self.lock:
            status, headers, why = self._post(path, handler, body)
        if status >= 400:
            self.rejected.append((self.base_url + path, status, why))
        handler.answer(status, why.encode("utf-8") if status >= 400 else b"", headers)

    def _post(
        self, path: str, handler: FakeHandler, body: bytes
    ) -> tuple[int, dict[str, str], str]:
        if path in self._gone:
            return 410, {}, "subscription expired or unsubscribed"
        subscription = self._subscriptions.get(path)
        if subscription is None:
            return 404, {}, "no such subscription"
        authorization = handler.headers.get("Authorization", "")
        status, why, claims = self._check_vapid(authorization, subscription)
        if status:
            return status, {}, why
        ttl = handler.headers.get("TTL")
        if ttl is None or not ttl.isdigit():
            return 400, {}, "missing or invalid TTL header"
        for index, (forced, retry_after, only) in enumerate(self._forced):
            if only is None or only == path:
                del self._forced[index]
                return forced, ({"Retry-After": retry_after} if retry_after else {}), "forced"
        if handler.headers.get("Content-Encoding", "").lower() != "aes128gcm":
            return 400, {}, "Content-Encoding must be aes128gcm"
        try:
            plaintext = http_ece.decrypt(
                body,
                private_key=subscription.private_key,
                auth_secret=subscription.auth_secret,
                version="aes128gcm",
            )
        except Exception as exc:  # http_ece raises several kinds of errors on bad input
            return 400, {}, f"payload does not decrypt: {exc}"
        self.received.append(
            Received(
                endpoint=subscription.endpoint,
                plaintext=plaintext,
                ttl=int(ttl),
                urgency=handler.headers.get("Urgency", "normal"),
                claims=claims,
            )
        )
        return 201, {"Location": f"{self.base_url}/message/{next(self._locations)}"}, ""

    def _check_vapid(
        self, authorization: str, subscription: BrowserSubscription
    ) -> tuple[int, str, dict[str, Any]]:
        scheme, _sep, params = authorization.partition(" ")
        if scheme.lower() != "vapid":
            return 401, "Authorization must use the vapid scheme", {}
        parts = dict(p.strip().split("=", 1) for p in params.split(",") if "=" in p)
        token, key = parts.get("t", ""), parts.get("k", "").rstrip("=")
        if key != subscription.application_server_key:
            return 403, "k is not the key this subscription was made with", {}
        try:
            header_b64, claims_b64, signature_b64 = token.split(".")
            header = json.loads(_unb64(header_b64))
            claims = json.loads(_unb64(claims_b64))
            signature = _unb64(signature_b64)
            public = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), _unb64(key))
        except ValueError:
            return 401, "the VAPID token is malformed", {}
        if header.get("alg") != "ES256" or len(signature) != 64:
            return 401, "the VAPID token must be ES256", {}
        der = encode_dss_signature(
            int.from_bytes(signature[:32], "big"), int.from_bytes(signature[32:], "big")
        )
        try:
            public.verify(
                der, f"{header_b64}.{claims_b64}".encode("ascii"), ec.ECDSA(hashes.SHA256())
            )
        except InvalidSignature:
            return 401, "the VAPID signature does not verify", {}
        if claims.get("aud") != self.base_url:
            return 401, f"aud must be {self.base_url}", {}
        exp = claims.get("exp")
        now = time.time()
        if not isinstance(exp, int) or exp <= now or exp > now + 24 * 3600:
            return 401, "exp must be in the next 24 hours", {}
        sub = str(claims.get("sub", ""))
        if not sub.startswith(("mailto:", "https://")):
            return 401, "sub must be a mailto: or https: contact", {}
        return 0, "", claims
