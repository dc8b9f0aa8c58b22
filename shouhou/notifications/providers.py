"""Provider configuration for the WeChat and Web Push channels, read from the environment.

``settings.py`` calls ``wechat_settings()`` and ``webpush_settings()`` at start-up. Each is all
or nothing: a half configuration (an app id without its secret, a VAPID private key without
its public key or subject, a public key that does not belong to the private key) raises
``ImproperlyConfigured`` naming the variable, like every other setting. Nothing configured
means the channel keeps its local fake (docs/notifications.md).

This module imports no models: it runs while settings load.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass, field

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from django.core.exceptions import ImproperlyConfigured

from shouhou.core.env import env_int, env_list, env_str

WECHAT_DEFAULT_BASE_URL = "https://api.weixin.qq.com"


def b64url_decode(value: str) -> bytes:
    """Base64url with or without padding (browsers send it without); ValueError if not."""
    text = value.strip()
    if not text or any(c not in _B64URL for c in text.rstrip("=")):
        raise ValueError("not base64url")
    try:
        return base64.urlsafe_b64decode(text.rstrip("=") + "=" * (-len(text.rstrip("=")) % 4))
    except (binascii.Error, ValueError) as exc:
        raise ValueError("not base64url") from exc


_B64URL = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")


def b64url_encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def vapid_private_key(value: str) -> ec.EllipticCurvePrivateKey:
    """The P-256 key from its raw 32-byte base64url form (what ``shouhou webpush_keys`` and
    ``web-push generate-vapid-keys`` print) or base64url DER; ValueError otherwise."""
    raw = b64url_decode(value)
    if len(raw) == 32:
        return ec.derive_private_key(int.from_bytes(raw, "big"), ec.SECP256R1())
    key = serialization.load_der_private_key(raw, password=None)
    if not isinstance(key, ec.EllipticCurvePrivateKey) or key.curve.name != "secp256r1":
        raise ValueError("not a P-256 private key")
    return key


def public_key_b64(key: ec.EllipticCurvePrivateKey) -> str:
    """The application server key a browser subscribes with: the uncompressed point."""
    point = key.public_key().public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
    )
    return b64url_encode(point)


def private_key_b64(key: ec.EllipticCurvePrivateKey) -> str:
    return b64url_encode(key.private_numbers().private_value.to_bytes(32, "big"))


@dataclass(frozen=True)
class WeChatSettings:
    app_id: str = ""
    app_secret: str = ""
    base_url: str = WECHAT_DEFAULT_BASE_URL
    template_ids: dict[str, str] = field(default_factory=dict)
    timeout_seconds: int = 10

    @property
    def configured(self) -> bool:
        return bool(self.app_id)


def wechat_settings(known_kinds: frozenset[str] | None = None) -> WeChatSettings:
    """WECHAT_APP_ID, WECHAT_APP_SECRET, WECHAT_TEMPLATE_IDS (``kind=template_id,...``),
    WECHAT_API_BASE_URL, WECHAT_TIMEOUT_SECONDS."""
    app_id = env_str("WECHAT_APP_ID", "").strip()
    secret = env_str("WECHAT_APP_SECRET", "").strip()
    raw_templates = env_list("WECHAT_TEMPLATE_IDS", [])
    base_url = env_str("WECHAT_API_BASE_URL", WECHAT_DEFAULT_BASE_URL).strip().rstrip("/")
    timeout = env_int("WECHAT_TIMEOUT_SECONDS", 10, minimum=1)
    if not (app_id or secret or raw_templates):
        return WeChatSettings(base_url=base_url, timeout_seconds=timeout)
    if not app_id:
        raise ImproperlyConfigured(
            "WECHAT_APP_SECRET or WECHAT_TEMPLATE_IDS is set: set WECHAT_APP_ID too."
        )
    if not secret:
        raise ImproperlyConfigured("WECHAT_APP_ID is set: set WECHAT_APP_SECRET too.")
    if not raw_templates:
        raise ImproperlyConfigured(
            "WECHAT_APP_ID is set: set WECHAT_TEMPLATE_IDS (kind=template_id,...) too."
        )
    if not base_url.startswith(("https://", "http://")):
        raise ImproperlyConfigured(f"WECHAT_API_BASE_URL={base_url!r} must be an http(s) URL.")
    templates: dict[str, str] = {}
    for item in raw_templates:
        kind, sep, template_id = (part.strip() for part in item.partition("="))
        if not sep or not kind or not template_id:
            raise ImproperlyConfigured(
                f"WECHAT_TEMPLATE_IDS: {item!r} is not kind=template_id (e.g. assigned=AbC123)."
            )
        if known_kinds is not None and kind not in known_kinds:
            raise ImproperlyConfigured(
                f"WECHAT_TEMPLATE_IDS: {kind!r} is not a notification kind "
                f"({', '.join(sorted(known_kinds))})."
            )
        templates[kind] = template_id
    return WeChatSettings(
        app_id=app_id,
        app_secret=secret,
        base_url=base_url,
        template_ids=templates,
        timeout_seconds=timeout,
    )


@dataclass(frozen=True)
class WebPushSettings:
    private_key: str = ""
    public_key: str = ""
    subject: str = ""
    ttl_seconds: int = 86400
    timeout_seconds: int = 10
    allow_http_hosts: list[str] = field(default_factory=list)

    @property
    def configured(self) -> bool:
        return bool(self.private_key)


def webpush_settings() -> WebPushSettings:
    """WEBPUSH_VAPID_PRIVATE_KEY, WEBPUSH_VAPID_PUBLIC_KEY, WEBPUSH_VAPID_SUBJECT (all or none),
    WEBPUSH_TTL_SECONDS, WEBPUSH_TIMEOUT_SECONDS, WEBPUSH_ALLOW_HTTP_HOSTS (tests only)."""
    private = env_str("WEBPUSH_VAPID_PRIVATE_KEY", "").strip()
    public = env_str("WEBPUSH_VAPID_PUBLIC_KEY", "").strip()
    subject = env_str("WEBPUSH_VAPID_SUBJECT", "").strip()
    common = {
        "ttl_seconds": env_int("WEBPUSH_TTL_SECONDS", 86400, minimum=0),
        "timeout_seconds": env_int("WEBPUSH_TIMEOUT_SECONDS", 10, minimum=1),
        "allow_http_hosts": env_list("WEBPUSH_ALLOW_HTTP_HOSTS", []),
    }
    if not (private or public or subject):
        return WebPushSettings(**common)  # type: ignore[arg-type]
    missing = [
        name
        for name, value in (
            ("WEBPUSH_VAPID_PRIVATE_KEY", private),
            ("WEBPUSH_VAPID_PUBLIC_KEY", public),
            ("WEBPUSH_VAPID_SUBJECT", subject),
        )
        if not value
    ]
    if missing:
        raise ImproperlyConfigured(
            f"Web Push is half configured: set {', '.join(missing)} too "
            "(`shouhou webpush_keys` prints a new key pair)."
        )
    try:
        key = vapid_private_key(private)
    except ValueError:
        raise ImproperlyConfigured(
            "WEBPUSH_VAPID_PRIVATE_KEY is not a P-256 private key in base64url "
            "(`shouhou webpush_keys` prints one)."
        ) from None
    if public_key_b64(key) != public.rstrip("="):
        raise ImproperlyConfigured(
            "WEBPUSH_VAPID_PUBLIC_KEY does not belong to WEBPUSH_VAPID_PRIVATE_KEY."
        )
    if not (subject.startswith("mailto:") and "@" in subject) and not subject.startswith(
        "https://"
    ):
        raise ImproperlyConfigured(
            f"WEBPUSH_VAPID_SUBJECT={subject!r} must be a mailto: address "
            "(mailto:ops@example.com) or an https:// URL."
        )
    return WebPushSettings(
        private_key=private,
        public_key=public.rstrip("="),
        subject=subject,
        **common,  # type: ignore[arg-type]
    )
