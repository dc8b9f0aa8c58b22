"""The local push service refuses what a real one refuses (so adapter tests mean something)."""

from __future__ import annotations

import time

import pytest
import requests
from cryptography.hazmat.primitives.asymmetric import ec
from py_vapid import Vapid

from shouhou.notifications.providers import private_key_b64, public_key_b64
from shouhou.notifications.testing.webpush import FakePushService


@pytest.fixture
def service():
    push = FakePushService().start()
    yield push
    push.stop()


def _auth(service, key, *, k=None, **claims):
    vapid = Vapid.from_string(private_key_b64(key))
    claims = {"aud": service.base_url, "sub": "mailto:ops@example.com", **claims}
    header = vapid.sign(claims)["Authorization"]
    if k is not None:
        header = header.split(",k=")[0] + f",k={k}"
    return header


def _post(browser, authorization, **headers):
    return requests.post(
        browser.endpoint,
        data=b"x" * 40,
        headers={"Authorization": authorization, "Content-Encoding": "aes128gcm", **headers},
        timeout=5,
    )


def test_a_token_signed_by_another_key_is_401(service):
    key, impostor = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    browser = service.subscribe(public_key_b64(key))
    response = _post(browser, _auth(service, impostor, k=public_key_b64(key)), TTL="60")
    assert response.status_code == 401
    assert "signature" in response.text


@pytest.mark.parametrize(
    ("claims", "why"),
    [
        ({"exp": int(time.time()) + 25 * 3600}, "exp"),
        ({"aud": "https://push.example.com"}, "aud"),
    ],
)
def test_bad_claims_are_401(service, claims, why):
    key = ec.generate_private_key(ec.SECP256R1())
    browser = service.subscribe(public_key_b64(key))
    response = _post(browser, _auth(service, key, **claims), TTL="60")
    assert response.status_code == 401
    assert why in response.text


def test_missing_ttl_is_400_and_undecryptable_payload_is_400(service):
    key = ec.generate_private_key(ec.SECP256R1())
    browser = service.subscribe(public_key_b64(key))
    assert _post(browser, _auth(service, key)).status_code == 400
    response = _post(browser, _auth(service, key), TTL="60")
    assert response.status_code == 400
    assert "decrypt" in response.text
    assert service.received == []


def test_unknown_endpoint_is_404(service):
    key = ec.generate_private_key(ec.SECP256R1())
    browser = service.subscribe(public_key_b64(key))
    browser.endpoint = service.base_url + "/wpush/v2/unknown"
    assert _post(browser, _auth(service, key), TTL="60").status_code == 404
