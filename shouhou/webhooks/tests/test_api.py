"""The webhooks API: endpoints CRUD, the secret only on create and rotate, the test ping and
replay against a real receiver, the deliveries log with filters, administrators only, and
another organisation's endpoint or delivery answering 404 on every URL and method."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from shouhou.core.testing.factories import MembershipFactory, WorkOrderFactory
from shouhou.notifications.services import event_deliver
from shouhou.webhooks.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint
from shouhou.webhooks.services import webhook_deliver, webhook_endpoint_create
from shouhou.workorders.choices import EventType
from shouhou.workorders.services import Actor, workorder_log

pytestmark = pytest.mark.django_db

ENDPOINTS = "/api/v1/webhooks/endpoints/"
DELIVERIES = "/api/v1/webhooks/deliveries/"


def client_for(user, language: str = "en") -> APIClient:
    client = APIClient(HTTP_ACCEPT_LANGUAGE=language)
    client.force_authenticate(user)
    return client


def _urge(org) -> WebhookDelivery:
    order = WorkOrderFactory(organization=org)
    event = workorder_log(
        work_order=order, type=EventType.URGED, actor=Actor.system(), data={"count": 1}
    )
    event_deliver(event_id=event.pk)
    return WebhookDelivery.objects.filter(event=event).order_by("pk").first()


def test_create_returns_the_secret_once_and_reads_never_do(alice, org_a):
    client = client_for(alice)
    response = client.post(
        ENDPOINTS,
        {
            "url": "https://erp.example.com/hooks",
            "description": "ERP",
            "event_types": ["completed", "status_changed", "completed"],
        },
        format="json",
    )
    assert response.status_code == 201
    body = response.json()
    endpoint = WebhookEndpoint.objects.get()
    assert body["secret"] == endpoint.secret
    assert (body["organization"], body["url"], body["event_types"], body["is_active"]) == (
        org_a.pk,
        "https://erp.example.com/hooks",
        ["completed", "status_changed"],
        True,
    )
    assert body["last_delivery"] is None
    # reading it back never shows the secret
    assert "secret" not in client.get(f"{ENDPOINTS}{endpoint.pk}/").json()
    (listed,) = client.get(ENDPOINTS).json()["results"]
    assert "secret" not in listed and listed["id"] == endpoint.pk


@pytest.mark.parametrize(
    ("language", "message"),
    [
        ("en", "Webhook URLs must start with https://."),
        ("zh-hans", "网络钩子网址必须以 https:// 开头。"),
    ],
)
def test_plain_http_is_refused_in_the_callers_language(alice, settings, language, message):
    settings.WEBHOOK_ALLOW_HTTP_HOSTS = []
    response = client_for(alice, language).post(
        ENDPOINTS, {"url": "http://erp.example.com/hooks"}, format="json"
    )
    assert response.status_code == 400
    assert response.json() == {"url": [message]}
    assert WebhookEndpoint.objects.count() == 0


def test_internal_event_types_are_refused(alice):
    response = client_for(alice).post(
        ENDPOINTS,
        {"url": "https://erp.example.com/hooks", "event_types": ["note_added"]},
        format="json",
    )
    assert response.status_code == 400
    assert response.json() == {"event_types": {"0": ['"note_added" is not a valid choice.']}}


def test_an_admin_of_two_organisations_must_choose_and_cannot_pick_a_stranger(alice, org_a, org_b):
    MembershipFactory(user=alice, organization=org_b, role="agent")
    client = client_for(alice)
    # admin of A only (agent of B): A is chosen for her
    assert (
        client.post(ENDPOINTS, {"url": "https://a.example.com/h"}, format="json").json()[
            "organization"
        ]
        == org_a.pk
    )
    # asking for B, where she is not an administrator, answers 404
    response = client.post(
        ENDPOINTS, {"url": "https://b.example.com/h", "organization": org_b.pk}, format="json"
    )
    assert response.status_code == 404
    assert WebhookEndpoint.objects.filter(organization=org_b).count() == 0


def test_update_patch_and_enable_clears_the_reason(alice, org_a):
    endpoint = webhook_endpoint_create(organization=org_a, url="https://a.example.com/hooks")
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(
        is_active=False, disabled_reason="failing", disabled_detail="HTTP 500"
    )
    client = client_for(alice)
    response = client.patch(f"{ENDPOINTS}{endpoint.pk}/", {"is_active": True}, format="json")
    assert response.status_code == 200
    assert (
        response.json()["is_active"],
        response.json()["disabled_reason"],
        response.json()["url"],
    ) == (True, "", "https://a.example.com/hooks")
    response = client.put(
        f"{ENDPOINTS}{endpoint.pk}/",
        {"url": "https://b.example.com/hooks", "event_types": ["completed"]},
        format="json",
    )
    assert response.status_code == 200
    endpoint.refresh_from_db()
    assert (endpoint.url, endpoint.event_types, endpoint.description, endpoint.is_active) == (
        "https://b.example.com/hooks",
        ["completed"],
        "",
        True,
    )
    assert "secret" not in response.json()


def test_delete_deletes_or_only_disables_when_deliveries_exist(alice, org_a):
    client = client_for(alice)
    empty = webhook_endpoint_create(organization=org_a, url="https://a.example.com/hooks")
    assert client.delete(f"{ENDPOINTS}{empty.pk}/").status_code == 204
    assert not WebhookEndpoint.objects.filter(pk=empty.pk).exists()

    used = webhook_endpoint_create(organization=org_a, url="https://b.example.com/hooks")
    _urge(org_a)
    response = client.delete(f"{ENDPOINTS}{used.pk}/")
    assert response.status_code == 200
    assert (response.json()["is_active"], response.json()["disabled_reason"]) == (False, "manual")
    assert WebhookDelivery.objects.filter(endpoint=used).count() == 1


def test_rotate_returns_the_new_secret_and_both_sign(alice, org_a, receiver):
    endpoint = webhook_endpoint_create(organization=org_a, url=receiver.url)
    old = endpoint.secret
    response = client_for(alice).post(f"{ENDPOINTS}{endpoint.pk}/rotate-secret/")
    assert response.status_code == 200
    new = response.json()["secret"]
    assert new != old and response.json()["previous_secret_expires_at"] is not None
    webhook_deliver(delivery_id=_urge(org_a).pk)
    (request,) = receiver.requests
    assert receiver.verifies(request, new) and receiver.verifies(request, old)


def test_test_event_reaches_a_receiver_that_verifies_it(
    alice, org_a, receiver, django_capture_on_commit_callbacks
):
    endpoint = webhook_endpoint_create(organization=org_a, url=receiver.url)
    receiver.secret = endpoint.secret
    with django_capture_on_commit_callbacks(execute=True):
        response = client_for(alice).post(f"{ENDPOINTS}{endpoint.pk}/test/")
    assert response.status_code == 202
    assert (response.json()["event_type"], response.json()["work_order"]) == ("ping", None)
    delivery_id = response.json()["id"]
    detail = client_for(alice).get(f"{DELIVERIES}{delivery_id}/").json()
    assert (detail["state"], detail["last_status_code"], detail["attempts"]) == (
        "delivered",
        200,
        1,
    )
    (attempt,) = detail["attempt_log"]
    assert attempt["status_code"] == 200 and attempt["response_excerpt"] == "ok"
    assert attempt["request_headers"]["Shouhou-Signature"].startswith("t=")
    assert '"type":"ping"' in attempt["request_body"]
    (request,) = receiver.requests
    assert receiver.verifies(request, endpoint.secret)


def test_test_event_to_a_disabled_endpoint_is_409(alice, org_a):
    endpoint = webhook_endpoint_create(
        organization=org_a, url="https://a.example.com/hooks", is_active=False
    )
    response = client_for(alice).post(f"{ENDPOINTS}{endpoint.pk}/test/")
    assert response.status_code == 409
    assert response.json()["code"] == "webhook_endpoint_inactive"
    assert WebhookDelivery.objects.count() == 0


def test_deliveries_list_filters_and_replay(alice, org_a, receiver):
    receiver.statuses = [500]
    endpoint = webhook_endpoint_create(organization=org_a, url=receiver.url)
    other = webhook_endpoint_create(organization=org_a, url=receiver.url + "/2")
    _urge(org_a)
    first = WebhookDelivery.objects.get(endpoint=endpoint)
    webhook_deliver(delivery_id=first.pk)  # 500: retrying
    for delivery in WebhookDelivery.objects.exclude(pk=first.pk):
        webhook_deliver(delivery_id=delivery.pk)
    client = client_for(alice)
    rows = client.get(DELIVERIES).json()["results"]
    assert len(rows) == 2
    retrying = client.get(DELIVERIES, {"state": "retrying"}).json()["results"]
    assert [(r["id"], r["last_status_code"], r["last_error"]) for r in retrying] == [
        (first.pk, 500, "HTTP 500")
    ]
    assert retrying[0]["last_duration_ms"] is not None
    assert [
        r["endpoint"] for r in client.get(DELIVERIES, {"endpoint": other.pk}).json()["results"]
    ] == [other.pk]
    assert len(client.get(DELIVERIES, {"event_type": "urged"}).json()["results"]) == 2
    assert client.get(DELIVERIES, {"event_type": "ping"}).json()["results"] == []
    assert client.get(DELIVERIES, {"state": "nonsense"}).status_code == 400

    # replay: sent again at once with the same delivery id
    response = client.post(f"{DELIVERIES}{first.pk}/replay/")
    assert response.status_code == 202
    first.refresh_from_db()
    assert (first.state, first.attempts) == ("delivered", 2)
    assert [
        r["headers"]["Shouhou-Delivery"]
        for r in receiver.requests
        if r["headers"]["Shouhou-Delivery"] == first.key
    ] == [first.key] * 2


def test_the_list_query_count_does_not_grow(alice, org_a):
    client = client_for(alice)
    webhook_endpoint_create(organization=org_a, url="https://a.example.com/hooks")
    _urge(org_a)
    client.get(ENDPOINTS)  # the caller's memberships are loaded once, then kept
    with CaptureQueriesContext(connection) as one_endpoint:
        client.get(ENDPOINTS)
    with CaptureQueriesContext(connection) as one_delivery:
        client.get(DELIVERIES)
    webhook_endpoint_create(organization=org_a, url="https://b.example.com/hooks")
    for _ in range(3):
        _urge(org_a)
    with CaptureQueriesContext(connection) as many_endpoints:
        client.get(ENDPOINTS)
    with CaptureQueriesContext(connection) as many_deliveries:
        client.get(DELIVERIES)
    assert len(many_endpoints) == len(one_endpoint)
    assert len(many_deliveries) == len(one_delivery)


# --- who may ---------------------------------------------------------------------------------


def _calls(endpoint_id: int, delivery_id: int) -> list[tuple[str, str, dict | None]]:
    one = f"{ENDPOINTS}{endpoint_id}/"
    return [
        ("get", one, None),
        ("put", one, {"url": "https://evil.example.com/h"}),
        ("patch", one, {"is_active": False}),
        ("delete", one, None),
        ("post", f"{one}rotate-secret/", None),
        ("post", f"{one}test/", None),
        ("get", f"{DELIVERIES}{delivery_id}/", None),
        ("post", f"{DELIVERIES}{delivery_id}/replay/", None),
    ]


def _state() -> list:
    return [
        list(WebhookEndpoint.objects.order_by("pk").values()),
        list(WebhookDelivery.objects.order_by("pk").values()),
        WebhookAttempt.objects.count(),
    ]


def test_another_organisations_endpoint_and_delivery_answer_404(other_org_user, org_a):
    endpoint = webhook_endpoint_create(organization=org_a, url="https://a.example.com/hooks")
    delivery = _urge(org_a)
    before = _state()
    client = client_for(other_org_user)
    answers = {
        (method, url): getattr(client, method)(url, data, format="json").status_code
        for method, url, data in _calls(endpoint.pk, delivery.pk)
    }
    assert set(answers.values()) == {404}
    assert _state() == before
    assert client.get(ENDPOINTS).json()["results"] == []
    assert client.get(DELIVERIES).json()["results"] == []
    assert client.get(DELIVERIES, {"endpoint": endpoint.pk}).json()["results"] == []


@pytest.mark.parametrize("role", ["agent", "finance", "auditor", "technician", "customer"])
def test_non_administrators_get_403_everywhere(request, role, org_a):
    endpoint = webhook_endpoint_create(organization=org_a, url="https://a.example.com/hooks")
    delivery = _urge(org_a)
    before = _state()
    client = client_for(request.getfixturevalue(role))
    calls = [
        ("get", ENDPOINTS, None),
        ("post", ENDPOINTS, {"url": "https://x.example.com/h"}),
        ("get", DELIVERIES, None),
        *_calls(endpoint.pk, delivery.pk),
    ]
    answers = {
        (method, url): getattr(client, method)(url, data, format="json").status_code
        for method, url, data in calls
    }
    assert set(answers.values()) == {403}
    assert _state() == before


def test_anonymous_gets_401(org_a):
    assert APIClient().get(ENDPOINTS).status_code == 401
