"""The console's webhook pages end to end: create → test event → the delivery logged with the
answer of a real local receiver that checks the signature itself; edit, rotate, enable/disable,
delete, the deliveries log and its filter, replay; validation in zh-hans and English; only
administrators; another organisation's endpoint or delivery answers 404 on every URL."""

from __future__ import annotations

import json
import re

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from shouhou.accounts.models import User
from shouhou.core.testing.factories import WorkOrderFactory
from shouhou.notifications.services import event_deliver
from shouhou.webhooks.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint
from shouhou.webhooks.services import (
    webhook_deliver,
    webhook_endpoint_create,
    webhook_endpoint_set_active,
)
from shouhou.workorders.choices import EventType
from shouhou.workorders.services import Actor, workorder_log

pytestmark = pytest.mark.django_db

LIST = "/console/webhooks/"
NEW = "/console/webhooks/new/"
SECRET = re.compile(r"<code id=\"secret\"[^>]*>(whsec_[^<]+)</code>")


def client_for(user: User, language: str = "en") -> Client:
    client = Client()
    client.force_login(user)
    client.cookies["shouhou_language"] = language
    return client


def _form(url: str, **extra: object) -> dict:
    return {"url": url, "description": "ERP", "is_active": "on", **extra}


def _urge(org) -> None:
    order = WorkOrderFactory(organization=org)
    event = workorder_log(
        work_order=order, type=EventType.URGED, actor=Actor.system(), data={"count": 1}
    )
    event_deliver(event_id=event.pk)


def test_create_then_test_event_is_delivered_signed_and_logged(
    alice, receiver, django_capture_on_commit_callbacks
):
    # given Alice, administrator of A, on the console
    client = client_for(alice)
    # when she adds an endpoint for two event types
    response = client.post(NEW, _form(receiver.url, event_types=["status_changed", "completed"]))
    # then the answer shows the secret once, and is not cached
    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store"
    (secret,) = SECRET.findall(response.content.decode())
    endpoint = WebhookEndpoint.objects.get()
    assert (endpoint.secret, endpoint.url, endpoint.event_types, endpoint.is_active) == (
        secret,
        receiver.url,
        ["completed", "status_changed"],
        True,
    )
    # and the endpoint page never shows it again
    detail = client.get(f"{LIST}{endpoint.pk}/")
    assert detail.status_code == 200
    assert secret not in detail.content.decode()

    # when she sends a test event to a receiver that verifies with the secret it was shown
    receiver.secret = secret
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"{LIST}{endpoint.pk}/test/")
    delivery = WebhookDelivery.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"{LIST}deliveries/{delivery.pk}/"
    # then the receiver verified it: a signed ping with the delivery id
    (request,) = receiver.requests
    assert receiver.verifies(request, secret)
    assert request["headers"]["Shouhou-Event"] == "ping"
    assert request["headers"]["Shouhou-Delivery"] == f"whd_{delivery.pk}"
    assert json.loads(request["body"])["type"] == "ping"
    # and the delivery is logged with the receiver's response code
    delivery.refresh_from_db()
    assert (delivery.event_type, delivery.state, delivery.last_status_code, delivery.attempts) == (
        "ping",
        "delivered",
        200,
        1,
    )
    page = client.get(response["Location"]).content.decode()
    assert 'data-state="delivered"' in page
    assert "<code data-status-code>200</code>" in page
    assert "Shouhou-Signature: t=" in page  # the headers sent, with the signature
    assert "&quot;type&quot;: &quot;ping&quot;" in page  # the body sent
    assert "ok" in re.search(r"<pre class=\"sent\" data-response>(.*?)</pre>", page).group(1)
    # and the list shows the last delivery's status
    listing = client.get(LIST).content.decode()
    assert "Delivered" in listing and "<code>200</code>" in listing


def test_a_receiver_that_rejects_the_signature_is_logged_as_failed_once(
    alice, receiver, django_capture_on_commit_callbacks, org_a
):
    endpoint = webhook_endpoint_create(organization=org_a, url=receiver.url)
    receiver.secret = "whsec_not-the-right-one"
    with django_capture_on_commit_callbacks(execute=True):
        client_for(alice).post(f"{LIST}{endpoint.pk}/test/")
    delivery = WebhookDelivery.objects.get()
    # a test ping is tried once, not retried for a day
    assert (delivery.state, delivery.last_status_code, delivery.last_error) == (
        "failed",
        401,
        "HTTP 401",
    )
    page = client_for(alice).get(f"{LIST}deliveries/{delivery.pk}/").content.decode()
    assert "bad signature" in page


@pytest.mark.parametrize(
    ("language", "message"),
    [
        ("en", "Webhook URLs must start with https://."),
        ("zh-hans", "网络钩子网址必须以 https:// 开头。"),
    ],
)
def test_plain_http_is_refused_in_the_users_language(alice, settings, language, message):
    settings.WEBHOOK_ALLOW_HTTP_HOSTS = []
    response = client_for(alice, language).post(NEW, _form("http://erp.example.com/hooks"))
    assert response.status_code == 400
    assert message in response.content.decode()
    assert WebhookEndpoint.objects.count() == 0


@pytest.mark.parametrize(
    ("language", "message"),
    [
        ("en", "Select a valid choice. note_added is not one of the available choices."),
        ("zh-hans", "选择一个有效的选项。 note_added 不在可用的选项中。"),
    ],
)
def test_internal_or_unknown_event_types_are_refused(alice, language, message):
    response = client_for(alice, language).post(
        NEW, _form("https://erp.example.com/hooks", event_types=["note_added"])
    )
    assert response.status_code == 400
    assert message in response.content.decode()
    assert WebhookEndpoint.objects.count() == 0


def test_a_missing_url_is_refused_in_chinese(alice):
    response = client_for(alice, "zh-hans").post(NEW, {"url": "", "description": "x"})
    assert response.status_code == 400
    assert "此项为必填项。" in response.content.decode()


def test_edit_changes_the_settings_and_enabling_clears_the_reason(alice, org_a):
    endpoint = webhook_endpoint_create(organization=org_a, url="https://a.example.com/hooks")
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(
        is_active=False, disabled_reason="failing", disabled_detail="HTTP 500"
    )
    response = client_for(alice).post(
        f"{LIST}{endpoint.pk}/edit/",
        _form("https://b.example.com/hooks", event_types=["completed"], description="CRM"),
    )
    assert response.status_code == 302
    endpoint.refresh_from_db()
    assert (
        endpoint.url,
        endpoint.description,
        endpoint.event_types,
        endpoint.is_active,
        endpoint.disabled_reason,
        endpoint.disabled_detail,
        endpoint.failing_since,
    ) == ("https://b.example.com/hooks", "CRM", ["completed"], True, "", "", None)


def test_edit_page_is_prefilled(alice, org_a):
    endpoint = webhook_endpoint_create(
        organization=org_a, url="https://a.example.com/hooks", event_types=["completed"]
    )
    html = client_for(alice).get(f"{LIST}{endpoint.pk}/edit/").content.decode()
    assert 'value="https://a.example.com/hooks"' in html
    assert re.search(r'value="completed"[^>]*checked', html)


def test_rotate_shows_the_new_secret_once_and_keeps_the_old_one_signing(alice, org_a):
    endpoint = webhook_endpoint_create(organization=org_a, url="https://a.example.com/hooks")
    old = endpoint.secret
    response = client_for(alice).post(f"{LIST}{endpoint.pk}/rotate-secret/")
    endpoint.refresh_from_db()
    assert SECRET.findall(response.content.decode()) == [endpoint.secret]
    assert response["Cache-Control"] == "no-store"
    assert (endpoint.previous_secret, endpoint.secret != old) == (old, True)
    assert endpoint.previous_secret_expires_at is not None
    assert "every delivery is signed with both" in response.content.decode()
    # GET does not rotate
    assert client_for(alice).get(f"{LIST}{endpoint.pk}/rotate-secret/").status_code == 405


def test_disable_and_enable(alice, org_a):
    endpoint = webhook_endpoint_create(organization=org_a, url="https://a.example.com/hooks")
    client = client_for(alice)
    client.post(f"{LIST}{endpoint.pk}/disable/")
    endpoint.refresh_from_db()
    assert (endpoint.is_active, endpoint.disabled_reason) == (False, "manual")
    assert "Disabled by an administrator" in client.get(f"{LIST}{endpoint.pk}/").content.decode()
    client.post(f"{LIST}{endpoint.pk}/enable/")
    endpoint.refresh_from_db()
    assert (endpoint.is_active, endpoint.disabled_reason, endpoint.disabled_at) == (True, "", None)


def test_a_disabled_endpoint_gets_no_test_event(alice, org_a, receiver):
    endpoint = webhook_endpoint_create(organization=org_a, url=receiver.url)
    webhook_endpoint_set_active(endpoint=endpoint, is_active=False)
    response = client_for(alice).post(f"{LIST}{endpoint.pk}/test/", follow=True)
    assert "This endpoint is disabled; enable it first." in response.content.decode()
    assert WebhookDelivery.objects.count() == 0
    assert receiver.requests == []


def test_delete_without_deliveries_deletes(alice, org_a):
    endpoint = webhook_endpoint_create(organization=org_a, url="https://a.example.com/hooks")
    client = client_for(alice)
    assert "Delete it" in client.get(f"{LIST}{endpoint.pk}/delete/").content.decode()
    response = client.post(f"{LIST}{endpoint.pk}/delete/")
    assert response.status_code == 302 and response["Location"] == LIST
    assert WebhookEndpoint.objects.count() == 0


def test_delete_with_deliveries_only_disables_and_keeps_the_log(alice, org_a, receiver):
    endpoint = webhook_endpoint_create(organization=org_a, url=receiver.url)
    _urge(org_a)
    client = client_for(alice)
    assert "Disable it" in client.get(f"{LIST}{endpoint.pk}/delete/").content.decode()
    client.post(f"{LIST}{endpoint.pk}/delete/")
    endpoint.refresh_from_db()
    assert (endpoint.is_active, WebhookDelivery.objects.filter(endpoint=endpoint).count()) == (
        False,
        1,
    )


def test_deliveries_log_shows_attempts_and_filters_by_state(alice, org_a, receiver):
    receiver.statuses = [503]
    endpoint = webhook_endpoint_create(organization=org_a, url=receiver.url)
    _urge(org_a)
    _urge(org_a)
    first, second = WebhookDelivery.objects.order_by("pk")
    webhook_deliver(delivery_id=first.pk)  # 503: will retry
    webhook_deliver(delivery_id=second.pk)  # 200: delivered
    client = client_for(alice)
    html = client.get(f"{LIST}{endpoint.pk}/").content.decode()
    assert set(re.findall(r'data-delivery="(\d+)"', html)) == {str(first.pk), str(second.pk)}
    assert "<code>503</code>" in html and "HTTP 503" in html and "<code>200</code>" in html
    retrying = client.get(f"{LIST}{endpoint.pk}/", {"state": "retrying"}).content.decode()
    assert re.findall(r'data-delivery="(\d+)"', retrying) == [str(first.pk)]
    delivered = client.get(f"{LIST}{endpoint.pk}/", {"state": "delivered"}).content.decode()
    assert re.findall(r'data-delivery="(\d+)"', delivered) == [str(second.pk)]


def test_deliveries_log_query_count_does_not_grow_with_rows(alice, org_a, receiver):
    endpoint = webhook_endpoint_create(organization=org_a, url=receiver.url)
    client = client_for(alice)
    _urge(org_a)
    client.get(f"{LIST}{endpoint.pk}/")
    with CaptureQueriesContext(connection) as one:
        client.get(f"{LIST}{endpoint.pk}/")
    for _ in range(3):
        _urge(org_a)
    with CaptureQueriesContext(connection) as four:
        client.get(f"{LIST}{endpoint.pk}/")
    assert len(four) == len(one)
    with CaptureQueriesContext(connection) as listing_one:
        client.get(LIST)
    webhook_endpoint_create(organization=org_a, url="https://b.example.com/hooks")
    with CaptureQueriesContext(connection) as listing_two:
        client.get(LIST)
    assert len(listing_two) == len(listing_one)


def test_replay_sends_the_same_delivery_again(
    alice, org_a, receiver, django_capture_on_commit_callbacks
):
    webhook_endpoint_create(organization=org_a, url=receiver.url)
    _urge(org_a)
    delivery = WebhookDelivery.objects.get()
    webhook_deliver(delivery_id=delivery.pk)
    with django_capture_on_commit_callbacks(execute=True):
        response = client_for(alice).post(f"{LIST}deliveries/{delivery.pk}/replay/")
    assert response.status_code == 302
    assert [r["headers"]["Shouhou-Delivery"] for r in receiver.requests] == [delivery.key] * 2
    delivery.refresh_from_db()
    assert (delivery.state, delivery.attempts, WebhookAttempt.objects.count()) == (
        "delivered",
        2,
        2,
    )


# --- who may ---------------------------------------------------------------------------------


def _pages(endpoint_id: int, delivery_id: int) -> list[tuple[str, str]]:
    base = f"{LIST}{endpoint_id}/"
    return [
        ("get", LIST),
        ("get", NEW),
        ("get", base),
        ("get", f"{base}edit/"),
        ("post", f"{base}edit/"),
        ("post", f"{base}rotate-secret/"),
        ("post", f"{base}enable/"),
        ("post", f"{base}disable/"),
        ("get", f"{base}delete/"),
        ("post", f"{base}delete/"),
        ("post", f"{base}test/"),
        ("get", f"{LIST}deliveries/{delivery_id}/"),
        ("post", f"{LIST}deliveries/{delivery_id}/replay/"),
    ]


def _state() -> list:
    return [
        list(WebhookEndpoint.objects.order_by("pk").values()),
        list(WebhookDelivery.objects.order_by("pk").values()),
    ]


@pytest.mark.parametrize("role", ["agent", "finance", "auditor", "outlet_manager"])
def test_other_console_roles_get_403_and_change_nothing(request, role, org_a, receiver):
    endpoint = webhook_endpoint_create(organization=org_a, url=receiver.url)
    _urge(org_a)
    delivery = WebhookDelivery.objects.get()
    before = _state()
    client = client_for(request.getfixturevalue(role))
    answers = {
        url: getattr(client, method)(url).status_code
        for method, url in _pages(endpoint.pk, delivery.pk)
    }
    assert set(answers.values()) == {403}
    assert _state() == before
    assert "/console/webhooks/" not in client.get("/console/").content.decode()


def test_admins_see_the_menu_link(alice):
    assert 'href="/console/webhooks/"' in client_for(alice).get("/console/").content.decode()


def test_another_organisations_endpoint_and_delivery_answer_404_everywhere(
    other_org_user, org_a, receiver
):
    # given A's endpoint and delivery, and Oscar, administrator of B
    endpoint = webhook_endpoint_create(organization=org_a, url=receiver.url)
    _urge(org_a)
    delivery = WebhookDelivery.objects.get()
    before = _state()
    client = client_for(other_org_user)
    pages = [page for page in _pages(endpoint.pk, delivery.pk) if page[1] not in (LIST, NEW)]
    # when he opens or posts to any of its URLs, then each answers 404 and nothing changed
    answers = {url: getattr(client, method)(url).status_code for method, url in pages}
    assert set(answers.values()) == {404}
    assert _state() == before
    assert receiver.requests == []
    # and his own list does not show A's endpoint
    assert receiver.url not in client.get(LIST).content.decode()


def test_anonymous_is_sent_to_sign_in(org_a):
    response = Client().get(LIST)
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_pages_fit_a_phone(alice, org_a):
    endpoint = webhook_endpoint_create(organization=org_a, url="https://a.example.com/hooks")
    for url in (LIST, NEW, f"{LIST}{endpoint.pk}/"):
        html = client_for(alice).get(url).content.decode()
        assert 'name="viewport" content="width=device-width, initial-scale=1"' in html
        assert "@media (max-width: 760px)" in html
