"""Subscribing a browser to push: the API, the settings page, /sw.js, the admin."""

from __future__ import annotations

import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from django.urls import reverse
from rest_framework.test import APIClient

from shouhou.core.testing.factories import UserFactory
from shouhou.notifications.models import PushSubscription
from shouhou.notifications.providers import b64url_encode, private_key_b64, public_key_b64
from shouhou.notifications.testing.webpush import FakePushService

URL = "/api/v1/me/push-subscriptions/"
ENDPOINT = "https://fcm.googleapis.com/fcm/send/abc:APA91bHxyz"


@pytest.fixture
def vapid(settings):
    key = ec.generate_private_key(ec.SECP256R1())
    settings.WEBPUSH_VAPID_PRIVATE_KEY = private_key_b64(key)
    settings.WEBPUSH_VAPID_PUBLIC_KEY = public_key_b64(key)
    settings.WEBPUSH_VAPID_SUBJECT = "mailto:ops@shouhou.example"
    return settings.WEBPUSH_VAPID_PUBLIC_KEY


@pytest.fixture
def browser(vapid):
    """A browser subscription's JSON, made like a browser makes it (real keys)."""
    service = FakePushService().start()
    subscription = service.subscribe(vapid)
    service.stop()
    data = subscription.as_json()
    data["endpoint"] = ENDPOINT
    return data


def api(user, language: str = "en") -> APIClient:
    client = APIClient(HTTP_ACCEPT_LANGUAGE=language, HTTP_USER_AGENT="TestBrowser/1.0")
    client.force_authenticate(user)
    return client


# --- API --------------------------------------------------------------------------------------


def test_post_stores_the_subscription_and_get_lists_it_with_the_public_key(
    db, technician, browser, vapid
):
    # when
    response = api(technician).post(URL, browser, format="json")
    # then
    assert response.status_code == 201
    row = PushSubscription.objects.get()
    assert (row.user, row.endpoint, row.p256dh, row.auth, row.user_agent) == (
        technician,
        ENDPOINT,
        browser["keys"]["p256dh"],
        browser["keys"]["auth"],
        "TestBrowser/1.0",
    )
    assert response.json()["id"] == row.pk
    listing = api(technician).get(URL).json()
    assert listing["enabled"] is True
    assert listing["public_key"] == vapid
    assert [r["endpoint"] for r in listing["results"]] == [ENDPOINT]


def test_posting_the_same_endpoint_again_updates_the_row(db, technician, browser):
    api(technician).post(URL, browser, format="json")
    browser["keys"]["auth"] = b64url_encode(b"\x01" * 16)
    response = api(technician).post(URL, {**browser, "user_agent": "Phone"}, format="json")
    assert response.status_code == 200
    row = PushSubscription.objects.get()
    assert (row.auth, row.user_agent) == (browser["keys"]["auth"], "Phone")


def test_a_browser_subscribed_by_another_user_moves_to_the_caller(db, technician, browser):
    api(UserFactory()).post(URL, browser, format="json")
    assert api(technician).post(URL, browser, format="json").status_code == 200
    assert PushSubscription.objects.get().user == technician


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"endpoint": "http://fcm.googleapis.com/x"}, "must be a full https:// URL"),
        ({"endpoint": "not a url"}, "must be a full https:// URL"),
        ({"endpoint": "https://127.0.0.1/push"}, "must be a public push service"),
        ({"endpoint": "https://localhost/push"}, "must be a public push service"),
        ({"keys": {"p256dh": "abc", "auth": "tBHItJI5svbpez7KI4CCXg"}}, "P-256 public key"),
        ({"keys": {"p256dh": b64url_encode(b"\x04" + b"\x00" * 64), "auth": "x"}}, "P-256"),
        ({"keys": {"p256dh": None, "auth": "tBHItJI5svbpez7KI4CCXg"}}, "null"),
    ],
)
def test_invalid_subscriptions_are_refused_in_english(db, technician, browser, change, message):
    response = api(technician).post(URL, {**browser, **change}, format="json")
    assert response.status_code == 400
    assert message in str(response.json())
    assert PushSubscription.objects.count() == 0


def test_an_auth_secret_of_the_wrong_length_is_refused(db, technician, browser):
    browser["keys"]["auth"] = b64url_encode(b"\x01" * 15)
    response = api(technician).post(URL, browser, format="json")
    assert response.status_code == 400
    assert response.json() == {
        "detail": "The auth secret must be 16 bytes in base64url (22 characters).",
        "code": "push_subscription_invalid",
    }


def test_post_without_vapid_keys_answers_409(db, technician, browser, settings):
    settings.WEBPUSH_VAPID_PUBLIC_KEY = ""
    response = api(technician).post(URL, browser, format="json")
    assert response.status_code == 409
    assert response.json()["code"] == "push_not_configured"
    assert api(technician).get(URL).json()["enabled"] is False


def test_delete_by_endpoint_in_body_or_query(db, technician, browser):
    api(technician).post(URL, browser, format="json")
    response = api(technician).delete(URL, {"endpoint": ENDPOINT}, format="json")
    assert response.status_code == 204
    assert PushSubscription.objects.count() == 0
    api(technician).post(URL, browser, format="json")
    assert api(technician).delete(f"{URL}?endpoint={ENDPOINT}").status_code == 204
    assert PushSubscription.objects.count() == 0


def test_deleting_another_users_subscription_answers_404_and_keeps_it(db, technician, browser):
    api(technician).post(URL, browser, format="json")
    response = api(UserFactory()).delete(URL, {"endpoint": ENDPOINT}, format="json")
    assert response.status_code == 404
    assert PushSubscription.objects.get().user == technician


def test_the_list_shows_only_the_callers_browsers(db, technician, browser):
    api(UserFactory()).post(URL, browser, format="json")
    assert api(technician).get(URL).json()["results"] == []


def test_anonymous_callers_are_refused(db):
    assert APIClient().get(URL).status_code == 401


def test_the_endpoint_is_in_the_schema_with_examples(db, client, alice):
    client.force_login(alice)
    schema = client.get("/api/schema/?format=json").json()
    operations = schema["paths"]["/api/v1/me/push-subscriptions/"]
    assert set(operations) >= {"get", "post", "delete"}
    assert "examples" in operations["post"]["requestBody"]["content"]["application/json"]


# --- the settings page ------------------------------------------------------------------------


def test_settings_page_offers_push_with_the_public_key(db, client, technician, vapid):
    client.force_login(technician)
    response = client.get(reverse("notifications:preferences"), HTTP_ACCEPT_LANGUAGE="en")
    html = response.content.decode()
    assert f'data-public-key="{vapid}"' in html
    assert "Receive push in this browser" in html
    assert "shouhou/push.js" in html


def test_settings_page_says_push_is_off_without_keys(db, client, technician, settings):
    settings.WEBPUSH_VAPID_PUBLIC_KEY = ""
    client.force_login(technician)
    html = client.get(reverse("notifications:preferences"), HTTP_ACCEPT_LANGUAGE="en")
    assert "Browser push is not switched on for this site." in html.content.decode()
    assert "push.js" not in html.content.decode()


def test_page_form_subscribes_this_browser(db, client, technician, browser):
    client.force_login(technician)
    response = client.post(
        reverse("notifications:push-subscribe"),
        {"endpoint": ENDPOINT, **browser["keys"]},
        HTTP_USER_AGENT="Mozilla/5.0 Phone",
        HTTP_ACCEPT_LANGUAGE="en",
        follow=True,
    )
    assert response.redirect_chain[-1][0].endswith("/inbox/settings/#push")
    assert "This browser will now receive push notifications." in response.content.decode()
    row = PushSubscription.objects.get()
    assert (row.user, row.user_agent) == (technician, "Mozilla/5.0 Phone")
    assert "Mozilla/5.0 Phone" in response.content.decode()  # listed on the page


def test_page_form_with_an_invalid_subscription_shows_the_reason(db, client, technician, browser):
    client.force_login(technician)
    response = client.post(
        reverse("notifications:push-subscribe"),
        {"endpoint": "http://insecure.example.com/x", **browser["keys"]},
        HTTP_ACCEPT_LANGUAGE="en",
        follow=True,
    )
    assert "The push endpoint must be a full https:// URL." in response.content.decode()
    assert PushSubscription.objects.count() == 0


def test_page_form_without_a_subscription_says_what_to_do(db, client, technician, vapid):
    client.force_login(technician)
    response = client.post(
        reverse("notifications:push-subscribe"), {}, HTTP_ACCEPT_LANGUAGE="en", follow=True
    )
    assert "did not hand over a push subscription" in response.content.decode()


def test_page_stop_and_remove_forget_only_ones_own_browser(db, client, technician, browser):
    api(technician).post(URL, browser, format="json")
    row = PushSubscription.objects.get()
    # someone else cannot remove it
    client.force_login(UserFactory())
    assert client.post(reverse("notifications:push-delete", args=[row.pk])).status_code == 404
    stop = reverse("notifications:push-unsubscribe")
    assert client.post(stop, {"endpoint": ENDPOINT}).status_code == 404
    assert PushSubscription.objects.count() == 1
    # the owner can, by endpoint (this browser) ...
    client.force_login(technician)
    assert client.post(stop, {"endpoint": ENDPOINT}).status_code == 302
    assert PushSubscription.objects.count() == 0
    # ... or from the list
    api(technician).post(URL, browser, format="json")
    row = PushSubscription.objects.get()
    assert client.post(reverse("notifications:push-delete", args=[row.pk])).status_code == 302
    assert PushSubscription.objects.count() == 0


def test_push_pages_need_a_login_and_post(db, client):
    response = client.post(reverse("notifications:push-subscribe"), {})
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    client.force_login(UserFactory())
    assert client.get(reverse("notifications:push-subscribe")).status_code == 405


# --- the service worker -----------------------------------------------------------------------


def test_service_worker_is_served_at_the_root_for_the_whole_site(client):
    response = client.get("/sw.js")
    assert response.status_code == 200
    assert response["Content-Type"] == "text/javascript"
    assert response["Service-Worker-Allowed"] == "/"
    body = response.content.decode()
    assert 'addEventListener("push"' in body and "showNotification" in body
    assert 'addEventListener("notificationclick"' in body and "openWindow" in body


# --- admin ------------------------------------------------------------------------------------


def test_admin_lists_own_members_subscriptions_read_only(
    db, client, alice, technician, other_org_user
):
    mine = PushSubscription.objects.create(
        user=technician, endpoint=ENDPOINT, p256dh="k", auth="secret-auth-value"
    )
    theirs = PushSubscription.objects.create(
        user=other_org_user, endpoint=ENDPOINT + "2", p256dh="k", auth="a"
    )
    customer_row = PushSubscription.objects.create(
        user=UserFactory(), endpoint=ENDPOINT + "3", p256dh="k", auth="a"
    )
    client.force_login(alice)
    changelist = client.get(reverse("admin:notifications_pushsubscription_changelist"))
    assert list(changelist.context["cl"].result_list) == [mine]
    change = "admin:notifications_pushsubscription_change"
    page = client.get(reverse(change, args=[mine.pk]))
    assert page.status_code == 200
    assert "secret-auth-value" not in page.content.decode()
    assert client.get(reverse(change, args=[theirs.pk])).status_code == 404
    assert client.get(reverse(change, args=[customer_row.pk])).status_code == 404
    add = client.get(reverse("admin:notifications_pushsubscription_add"))
    assert add.status_code == 403
    delete = client.post(reverse("admin:notifications_pushsubscription_delete", args=[mine.pk]))
    assert delete.status_code == 403
    assert PushSubscription.objects.count() == 3
