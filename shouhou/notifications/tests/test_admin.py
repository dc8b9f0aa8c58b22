"""Operators see deliveries and replay them; organisation admins do not see the plumbing."""

from __future__ import annotations

from django.urls import reverse

from shouhou.notifications.models import EventDelivery
from shouhou.notifications.services import event_deliver


def test_platform_operator_replays_a_delivery_from_the_admin(
    client, platform_admin, register_consumer, add_event
):
    # given a delivered event
    calls: list[int] = []
    register_consumer("replay-me", lambda e, d: calls.append(e.pk))
    event_id = add_event()
    event_deliver(event_id=event_id)
    delivery = EventDelivery.objects.get()
    client.force_login(platform_admin)
    url = reverse("admin:notifications_eventdelivery_changelist")
    # when the operator opens the list and asks to deliver it again
    assert client.get(url).status_code == 200
    response = client.post(
        url, {"action": "replay", "_selected_action": [delivery.pk]}, follow=True
    )
    # then (immediate backend) the consumer ran again
    assert response.status_code == 200
    assert calls == [event_id, event_id]
    assert EventDelivery.objects.get().state == "delivered"


def test_organisation_admin_cannot_open_deliveries_or_jobs(client, alice):
    client.force_login(alice)
    for name in ("notifications_eventdelivery", "core_periodicjobstate"):
        assert client.get(reverse(f"admin:{name}_changelist")).status_code == 403
