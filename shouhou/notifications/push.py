"""Browser push subscriptions: which browsers of a user receive Web Push (services, selectors).

A browser subscribes with the site's VAPID public key and hands us its push-service endpoint and
keys; ``push_subscription_save`` validates and stores them (one row per endpoint), the
``WebPushAdapter`` (channels.py) sends to every row of the recipient. See docs/notifications.md.
"""

from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit

from cryptography.hazmat.primitives.asymmetric import ec
from django.conf import settings
from django.db import transaction
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from shouhou.accounts.models import User
from shouhou.core.errors import Conflict, DomainError
from shouhou.notifications.models import PushSubscription
from shouhou.notifications.providers import b64url_decode

P256DH_BYTES = 65  # an uncompressed P-256 point: 0x04 || X || Y
AUTH_BYTES = 16
ENDPOINT_MAX = 1000


class PushSubscriptionInvalid(DomainError):
    code = "push_subscription_invalid"


class PushNotConfigured(Conflict):
    default_message = _("Browser push is not switched on for this site.")
    code = "push_not_configured"


def push_enabled() -> bool:
    """True when the site has a VAPID key pair (the real Web Push adapter is in use)."""
    return bool(getattr(settings, "WEBPUSH_VAPID_PUBLIC_KEY", ""))


def push_public_key() -> str:
    return str(getattr(settings, "WEBPUSH_VAPID_PUBLIC_KEY", ""))


def _private_host(host: str) -> bool:
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        address = ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return False
    return not address.is_global


def push_endpoint_check(endpoint: str) -> str:
    """An https URL of a public push service (plain HTTP and private addresses only for the
    hosts in ``WEBPUSH_ALLOW_HTTP_HOSTS``, for tests)."""
    endpoint = endpoint.strip()
    parts = urlsplit(endpoint)
    allowed = getattr(settings, "WEBPUSH_ALLOW_HTTP_HOSTS", [])
    if not parts.hostname or parts.scheme not in ("https", "http"):
        raise PushSubscriptionInvalid(_("The push endpoint must be a full https:// URL."))
    if len(endpoint) > ENDPOINT_MAX:
        raise PushSubscriptionInvalid(
            _("The push endpoint is longer than %(max)d characters.") % {"max": ENDPOINT_MAX}
        )
    if parts.hostname in allowed:
        return endpoint
    if parts.scheme != "https":
        raise PushSubscriptionInvalid(_("The push endpoint must be a full https:// URL."))
    if _private_host(parts.hostname):
        raise PushSubscriptionInvalid(_("The push endpoint must be a public push service."))
    return endpoint


def push_keys_check(*, p256dh: str, auth: str) -> tuple[str, str]:
    """The browser's keys in base64url: p256dh a P-256 point (65 bytes), auth 16 bytes."""
    try:
        point = b64url_decode(p256dh)
    except ValueError:
        point = b""
    try:
        if len(point) != P256DH_BYTES or point[0] != 4:
            raise ValueError
        ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), point)
    except ValueError:
        raise PushSubscriptionInvalid(
            _("The p256dh key must be a P-256 public key in base64url (65 bytes).")
        ) from None
    try:
        secret = b64url_decode(auth)
    except ValueError:
        secret = b""
    if len(secret) != AUTH_BYTES:
        raise PushSubscriptionInvalid(
            _("The auth secret must be 16 bytes in base64url (22 characters).")
        )
    return p256dh.strip().rstrip("="), auth.strip().rstrip("=")


@transaction.atomic
def push_subscription_save(
    *, user: User, endpoint: str, p256dh: str, auth: str, user_agent: str = ""
) -> tuple[PushSubscription, bool]:
    """Store (or refresh) this browser's subscription for ``user``; (row, created).

    The endpoint is unique: the same browser subscribing again updates its row, and a browser
    used by someone else after a new sign-in moves to that person. Refuses when the site has
    no VAPID keys (nothing could be sent) and invalid endpoints or keys.
    """
    if not push_enabled():
        raise PushNotConfigured()
    endpoint = push_endpoint_check(endpoint)
    p256dh, auth = push_keys_check(p256dh=p256dh, auth=auth)
    return PushSubscription.objects.update_or_create(
        endpoint=endpoint,
        defaults={"user": user, "p256dh": p256dh, "auth": auth, "user_agent": user_agent[:300]},
    )


@transaction.atomic
def push_subscription_delete(
    *, user: User, endpoint: str | None = None, pk: int | None = None
) -> None:
    """Forget one of the user's browsers (by endpoint or id); DoesNotExist for anyone else's."""
    rows = push_subscriptions_for(user=user)
    if endpoint is not None:
        row = rows.get(endpoint=endpoint.strip())
    elif pk is not None:
        row = rows.get(pk=pk)
    else:
        raise PushSubscription.DoesNotExist
    row.delete()


def push_subscriptions_for(*, user: User) -> QuerySet[PushSubscription]:
    """The user's own subscribed browsers, newest first."""
    return PushSubscription.objects.filter(user=user).order_by("-created_at", "-pk")
