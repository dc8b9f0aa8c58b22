"""The webhook pages in a real browser on a phone-sized screen: add an endpoint, copy the secret,
send a test event to a local receiver that verifies it, and read the delivery — no page wider
than the screen."""

from __future__ import annotations

import re

import pytest
from django.test import Client

from shouhou.webhooks.models import WebhookDelivery, WebhookEndpoint

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _sign_in(page, live_server, user) -> None:
    client = Client()
    client.force_login(user)
    page.context.add_cookies(
        [
            {
                "name": "sessionid",
                "value": client.cookies["sessionid"].value,
                "url": live_server.url,
            },
            {"name": "shouhou_language", "value": "en", "url": live_server.url},
        ]
    )


def _fits(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def test_admin_adds_an_endpoint_and_sends_a_test_event_on_a_phone(
    page, live_server, alice, receiver
):
    # given Alice on her phone
    _sign_in(page, live_server, alice)
    page.goto("/console/webhooks/")
    assert _fits(page)
    # when she adds an endpoint for "Completed" events
    page.get_by_role("link", name="Add an endpoint").click()
    page.get_by_label("URL").fill(receiver.url)
    page.get_by_label("Description").fill("ERP")
    page.get_by_label("Completed", exact=True).check()
    assert _fits(page)
    page.get_by_role("button", name="Add the endpoint").click()
    # then the secret is shown once
    secret = page.locator("[data-secret]").inner_text().strip()
    assert secret == WebhookEndpoint.objects.get().secret
    assert _fits(page)
    receiver.secret = secret
    # when she sends a test event from the endpoint page
    page.get_by_role("link", name="I have stored it").click()
    assert _fits(page)
    page.get_by_role("button", name="Send test event").click()
    # then the delivery page shows the receiver's answer
    page.wait_for_url(re.compile(r"/console/webhooks/deliveries/\d+/$"))
    page.locator('[data-state="delivered"]').wait_for()
    assert page.locator("[data-status-code]").first.inner_text() == "200"
    assert "Shouhou-Signature: t=" in page.locator("[data-headers]").first.inner_text()
    assert _fits(page)
    (request,) = receiver.requests
    assert receiver.verifies(request, secret)
    assert WebhookDelivery.objects.get().state == "delivered"
