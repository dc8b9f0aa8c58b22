"""Live work-order streams: events published after commit only, SSE resume and scoping."""

from __future__ import annotations

import asyncio
import json
import threading

import pytest
from django.db import transaction
from django.test import AsyncClient, Client

from shouhou.core import live as bus
from shouhou.core.testing.factories import CustomerFactory, UserFactory, WorkOrderFactory
from shouhou.workorders import live, services
from shouhou.workorders.models import WorkOrderEvent
from shouhou.workorders.services import Actor
from shouhou.workorders.tests.test_customer_pages import make_order, staff, tom

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def _quick_streams(settings, tmp_path):
    """Streams that end by themselves after a second, with keep-alives every 0.2 s."""
    settings.MEDIA_ROOT = tmp_path
    settings.LIVE_BACKEND = "memory"
    settings.LIVE_KEEPALIVE_SECONDS = 0.2
    settings.LIVE_STREAM_SECONDS = 1


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def parse(body: str) -> list[dict]:
    """The SSE events of a body: id, event name and JSON data of each."""
    events = []
    for block in body.split("\n\n"):
        fields = dict(
            line.split(": ", 1) for line in block.splitlines() if not line.startswith(":")
        )
        if "data" in fields:
            events.append(
                {"id": int(fields["id"]), "event": fields["event"], **json.loads(fields["data"])}
            )
    return events


def read_all(response) -> str:
    return b"".join(response.streaming_content).decode()


def run_async(scenario):
    """Run ``scenario()`` on its own event loop in its own thread: the browser tests' Playwright
    keeps a loop running in the main thread for the rest of the session."""
    outcome: dict = {}

    def target() -> None:
        try:
            outcome["value"] = asyncio.run(scenario())
        except BaseException as error:
            outcome["error"] = error

    thread = threading.Thread(target=target)
    thread.start()
    thread.join(timeout=30)
    if "error" in outcome:
        raise outcome["error"]
    return outcome["value"]


# --- publishing ------------------------------------------------------------------------------


def test_event_is_published_after_commit_to_order_organisations_and_technician(world, agent, org_b):
    # given an accepted order served by organisation B, and a listener on each channel
    order = make_order(world)
    services.workorder_accept(work_order=order, actor=staff(agent))
    order.service_organization = org_b
    order.save(update_fields=["service_organization"])
    channels = [
        f"order:{order.pk}",
        f"org:{world.org.pk}",
        f"org:{org_b.pk}",
        f"tech:{world.technician.pk}",
    ]
    subscriptions = {channel: bus.subscribe([channel]) for channel in channels}
    # when A's own technician is assigned (B stops serving it) and accepts
    services.workorder_assign_technician(
        work_order=order, technician=world.technician, actor=staff(agent)
    )
    services.workorder_accept_assignment(
        work_order=order, technician=world.technician, actor=tom(world)
    )
    # then everyone heard the assignment, B included (it just lost the order) ...
    assigned, accepted = WorkOrderEvent.objects.filter(work_order=order).order_by("-pk")[:2][::-1]
    expected = {
        "id": assigned.pk,
        "order": order.number,
        "type": "technician_assigned",
        "status": "assigned",
        "at": assigned.created_at.isoformat(),
        "internal": False,
    }
    for channel in channels:
        assert subscriptions[channel].get(timeout=1) == expected
    # ... and only the order's present channels heard the acceptance
    for channel in [channels[0], channels[1], channels[3]]:
        assert subscriptions[channel].get(timeout=1)["id"] == accepted.pk
    for subscription in subscriptions.values():
        assert subscription.get(timeout=0.05) is None
        subscription.close()


def test_rolled_back_transaction_publishes_nothing(world, agent):
    order = make_order(world)
    with bus.subscribe([f"order:{order.pk}"]) as subscription:
        # when the change is rolled back
        with pytest.raises(RuntimeError), transaction.atomic():
            services.workorder_accept(work_order=order, actor=staff(agent))
            assert subscription.get(timeout=0.05) is None  # not while the transaction is open
            raise RuntimeError("the caller changes its mind")
        # then nobody heard anything, and the database has no such event
        assert subscription.get(timeout=0.1) is None
    assert not WorkOrderEvent.objects.filter(work_order=order, type="status_changed").exists()


def test_publishing_waits_for_the_outer_transaction(world, agent):
    order = make_order(world)
    with bus.subscribe([f"order:{order.pk}"]) as subscription:
        with transaction.atomic():
            services.workorder_accept(work_order=order, actor=staff(agent))
            assert subscription.get(timeout=0.05) is None
        assert subscription.get(timeout=1)["status"] == "accepted"


# --- the customer's stream -------------------------------------------------------------------


def test_tracking_stream_resumes_after_last_event_id_without_internal_events(world, agent):
    # given an order with public and internal events
    order = make_order(world)
    created = WorkOrderEvent.objects.get(work_order=order, type="created")
    services.workorder_accept(work_order=order, actor=staff(agent))
    services.workorder_add_note(work_order=order, actor=staff(agent), text="客户脾气大")
    services.workorder_assign_technician(
        work_order=order, technician=world.technician, actor=staff(agent)
    )
    public = list(
        WorkOrderEvent.objects.filter(work_order=order, is_internal=False, pk__gt=created.pk)
        .order_by("pk")
        .values_list("pk", "type")
    )
    # when the browser reconnects having seen the "created" event
    response = Client().get(
        f"/t/{order.tracking_token}/stream/", HTTP_LAST_EVENT_ID=str(created.pk)
    )
    # then it gets the later public events only, in order, with their ids
    assert response.status_code == 200
    assert response["Content-Type"] == "text/event-stream; charset=utf-8"
    assert response["X-Accel-Buffering"] == "no"
    assert response["Cache-Control"].startswith("no-cache")
    body = read_all(response)
    assert body.startswith("retry: 3000\n")
    assert [(event["id"], event["type"]) for event in parse(body)] == public
    assert [event["event"] for event in parse(body)] == ["workorder"] * len(public)
    assert "note_added" not in body and "internal" not in body and "客户" not in body
    assert ": keep-alive" in body


def test_tracking_stream_with_query_last_and_without_resume(world, agent):
    order = make_order(world)
    services.workorder_accept(work_order=order, actor=staff(agent))
    accepted = WorkOrderEvent.objects.filter(work_order=order).latest("pk")
    url = f"/t/{order.tracking_token}/stream/"
    # ?last= is honoured like the header
    assert [event["id"] for event in parse(read_all(Client().get(url, {"last": 0})))] == [
        *WorkOrderEvent.objects.filter(work_order=order, is_internal=False)
        .order_by("pk")
        .values_list("pk", flat=True)
    ]
    assert parse(read_all(Client().get(url, {"last": accepted.pk}))) == []
    # without either, nothing old is sent
    assert parse(read_all(Client().get(url))) == []


def test_tracking_stream_sends_live_events_but_never_internal_ones(world, agent):
    # given an open stream (subscribed once the first chunk is out)
    order = make_order(world)
    response = Client().get(f"/t/{order.tracking_token}/stream/")
    chunks = iter(response.streaming_content)
    assert next(chunks).startswith(b"retry:")
    # when staff write a note and accept the order in another request
    services.workorder_add_note(work_order=order, actor=staff(agent), text="内部备注")
    services.workorder_accept(work_order=order, actor=staff(agent))
    # then the stream carries the acceptance only
    body = b"".join(chunks).decode()
    accepted = WorkOrderEvent.objects.filter(work_order=order).latest("pk")
    assert parse(body) == [
        {
            "id": accepted.pk,
            "event": "workorder",
            "order": order.number,
            "type": "status_changed",
            "status": "accepted",
            "at": accepted.created_at.isoformat(),
        }
    ]


def test_tracking_stream_of_an_unknown_token_is_404(world):
    assert Client().get("/t/not-a-real-token-at-all-0000/stream/").status_code == 404


def test_my_order_stream_is_only_for_the_orders_customer(world, customer):
    dave = UserFactory(phone="+8613700000008", display_name="Dave")
    daves = CustomerFactory(organization=world.org, name="Dave", phone=dave.phone, user=dave)
    daves_order = make_order(world, customer=daves)
    order = make_order(world)
    first = WorkOrderEvent.objects.filter(work_order=order).earliest("pk")
    mine = client_for(customer).get(f"/my/orders/{order.number}/stream/", {"last": 0})
    assert mine.status_code == 200
    assert [event["id"] for event in parse(read_all(mine))] == [first.pk]
    assert client_for(customer).get(f"/my/orders/{daves_order.number}/stream/").status_code == 404
    assert Client().get(f"/my/orders/{order.number}/stream/").status_code == 302


# --- staff and technicians -------------------------------------------------------------------


def test_console_stream_resumes_the_active_organisations_orders_only(world, agent, other_org_user):
    # given an order of A with an internal note, and B's order with an event
    order = make_order(world)
    services.workorder_add_note(work_order=order, actor=staff(agent), text="回访")
    other = world.other_order
    services.workorder_log(work_order=other, type="urged", actor=Actor.system())
    # when A's agent resumes from 0
    answer = client_for(agent).get("/console/work-orders/stream/", {"last": 0})
    # then A's events come, internal ones included (staff see them), and none of B's
    events = parse(read_all(answer))
    assert [event["id"] for event in events] == list(
        WorkOrderEvent.objects.filter(work_order=order).order_by("pk").values_list("pk", flat=True)
    )
    assert {event["order"] for event in events} == {order.number}
    # and B's administrator sees only B's
    theirs = parse(
        read_all(client_for(other_org_user).get("/console/work-orders/stream/", {"last": 0}))
    )
    assert {event["order"] for event in theirs} == {other.number}


def test_console_stream_needs_a_console_role(world, customer):
    assert client_for(customer).get("/console/work-orders/stream/").status_code == 404


def test_technician_stream_carries_own_jobs_only(world, agent, technician, customer):
    # given one order assigned to Tom and one that is not
    assigned = make_order(world)
    services.workorder_accept(work_order=assigned, actor=staff(agent))
    services.workorder_assign_technician(
        work_order=assigned, technician=world.technician, actor=staff(agent)
    )
    make_order(world)
    response = client_for(technician).get("/tech/jobs/stream/", {"last": 0})
    # then only the assigned order's events are resumed
    assert {event["order"] for event in parse(read_all(response))} == {assigned.number}
    # and a live acceptance of his own job reaches him
    response = client_for(technician).get("/tech/jobs/stream/")
    chunks = iter(response.streaming_content)
    next(chunks)
    services.workorder_accept_assignment(
        work_order=assigned, technician=world.technician, actor=tom(world)
    )
    assert [event["type"] for event in parse(b"".join(chunks).decode())] == ["assignment_accepted"]
    # someone without a technician profile has no job stream
    assert client_for(customer).get("/tech/jobs/stream/").status_code == 404


def test_pages_carry_the_live_indicator_with_their_stream(world, agent, technician):
    order = make_order(world)
    last_public = WorkOrderEvent.objects.filter(work_order=order).latest("pk").pk
    page = Client().get(f"/t/{order.tracking_token}/").content.decode()
    assert f'data-live-stream="/t/{order.tracking_token}/stream/"' in page
    assert f'data-live-last="{last_public}"' in page
    assert 'data-live-target="#order"' in page
    queue = client_for(agent).get("/console/work-orders/").content.decode()
    assert 'data-live-stream="/console/work-orders/stream/"' in queue
    detail = client_for(agent).get(f"/console/work-orders/{order.number}/").content.decode()
    assert f'data-live-order="{order.number}"' in detail
    jobs = client_for(technician).get("/tech/jobs/").content.decode()
    assert 'data-live-stream="/tech/jobs/stream/"' in jobs
    fragment = client_for(technician).get("/tech/jobs/", HTTP_HX_REQUEST="true").content.decode()
    assert fragment.startswith('<div id="tech-jobs">')


def test_unrelated_order_factory_events_are_scoped(world, org_b):
    # an order of B never shows up in A's organisation scope
    order_b = WorkOrderFactory(organization=org_b)
    services.workorder_log(work_order=order_b, type="urged", actor=Actor.system())
    assert not live.organization_scope(world.org.pk).events.filter(work_order=order_b).exists()


# --- ASGI ------------------------------------------------------------------------------------


def test_under_asgi_the_stream_is_asynchronous_and_resumes(world, agent):
    # given an order with a public and an internal event
    order = make_order(world)
    services.workorder_add_note(work_order=order, actor=staff(agent), text="内部")
    services.workorder_accept(work_order=order, actor=staff(agent))
    public = list(
        WorkOrderEvent.objects.filter(work_order=order, is_internal=False)
        .order_by("pk")
        .values_list("pk", flat=True)
    )

    async def read() -> tuple[bool, str]:
        response = await AsyncClient().get(f"/t/{order.tracking_token}/stream/", {"last": 0})
        assert response.status_code == 200
        body = "".join([chunk.decode() async for chunk in response.streaming_content])
        return response.is_async, body

    # when the stream is read through Django's ASGI handler
    is_async, body = run_async(read)
    # then it is an async stream with the public events only
    assert is_async
    assert [event["id"] for event in parse(body)] == public


def test_stream_on_the_redis_bus_hears_a_change_made_elsewhere(world, agent, settings):
    # given the Redis backend (what several web processes share), with a prefix of its own
    import uuid

    import redis

    try:
        redis.Redis.from_url("redis://127.0.0.1:6379/0", socket_connect_timeout=1).ping()
    except redis.RedisError:
        pytest.skip("no Redis on 127.0.0.1:6379")
    settings.LIVE_BACKEND = "redis"
    settings.REDIS_URL = "redis://127.0.0.1:6379/0"
    settings.LIVE_CHANNEL_PREFIX = f"shouhou-test:{uuid.uuid4().hex}:"
    order = make_order(world)
    response = client_for(agent).get("/console/work-orders/stream/")
    chunks = iter(response.streaming_content)
    assert next(chunks).startswith(b"retry:")
    # when the order is accepted (published to Redis after commit)
    services.workorder_accept(work_order=order, actor=staff(agent))
    # then the console stream carries it
    events = parse(b"".join(chunks).decode())
    assert [(event["order"], event["status"]) for event in events] == [(order.number, "accepted")]


def test_idle_stream_polls_the_database_for_events_no_message_announced(
    world, agent, settings, monkeypatch
):
    # given a stream that reads the database when idle (what makes the worker's changes reach
    # pages on the in-process bus), and a change whose live message never comes
    settings.LIVE_POLL_SECONDS = 0.2
    order = make_order(world)
    response = Client().get(f"/t/{order.tracking_token}/stream/")
    chunks = iter(response.streaming_content)
    assert next(chunks).startswith(b"retry:")
    monkeypatch.setattr(bus, "publish_many", lambda channels, message: None)
    services.workorder_add_note(work_order=order, actor=staff(agent), text="内部")
    services.workorder_accept(work_order=order, actor=staff(agent))
    # then the stream still sends the (public) event, once
    accepted = WorkOrderEvent.objects.filter(work_order=order).latest("pk")
    assert [event["id"] for event in parse(b"".join(chunks).decode())] == [accepted.pk]
