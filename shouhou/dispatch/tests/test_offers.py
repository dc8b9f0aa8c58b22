"""Dispatch modes: auto, offer (timeout and decline move on), pool, manual; nobody left;
the first-dispatch success rate; tenancy of offers and pool entries."""

from __future__ import annotations

import datetime as dt

import pytest
from django.http import Http404
from django.utils import timezone, translation

from shouhou.core.testing.factories import ServiceTypeFactory
from shouhou.dispatch.models import (
    AttemptOutcome,
    DispatchAttempt,
    DispatchMode,
    DispatchModeOverride,
)
from shouhou.dispatch.offers import (
    OfferClosed,
    PoolJobNotEligible,
    PoolJobTaken,
    offer_accept,
    offer_decline,
    offers_expire_due,
    pool_grab,
    pool_publish,
)
from shouhou.dispatch.selectors import (
    first_dispatch_success_rate,
    offer_get_for_technician,
    offer_list_for_technician,
    pool_entry_get_for_technician,
    pool_list_for_technician,
)
from shouhou.workorders.services import (
    Actor,
    workorder_accept,
    workorder_accept_assignment,
    workorder_assign_technician,
    workorder_decline_assignment,
)

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _english():
    """Messages are asserted in English whatever an earlier test left active."""
    with translation.override("en"):
        yield


def accept(order, agent):
    return workorder_accept(work_order=order, actor=Actor(agent, "agent"))


def attempts(order):
    return list(
        DispatchAttempt.objects.filter(work_order=order)
        .order_by("sequence")
        .values_list("mode", "technician_id", "outcome")
    )


def event_types(order):
    return list(order.events.order_by("pk").values_list("type", flat=True))


def as_tech(technician):
    return Actor(technician.user, "technician")


# --- manual ------------------------------------------------------------------------------------


def test_manual_mode_leaves_the_order_with_the_dispatcher(crew, agent):
    # given
    crew.policy.mode = DispatchMode.MANUAL
    crew.policy.save()
    order = crew.order()
    # when
    accepted = accept(order, agent)
    # then
    assert accepted.status == "accepted"
    assert attempts(order) == []
    # a dispatcher's assignment is recorded as a manual attempt, answered on the workbench
    workorder_assign_technician(work_order=order, technician=crew.ted, actor=Actor(agent, "agent"))
    assert attempts(order) == [("manual", crew.ted.pk, "pending")]
    workorder_accept_assignment(work_order=order, technician=crew.ted, actor=as_tech(crew.ted))
    assert attempts(order) == [("manual", crew.ted.pk, "accepted")]


# --- auto --------------------------------------------------------------------------------------


def test_auto_mode_assigns_the_best_ranked_technician_with_the_explanation(crew, agent):
    # given
    crew.policy.mode = DispatchMode.AUTO
    crew.policy.save()
    order = crew.order()
    # when
    accepted = accept(order, agent)
    # then
    assert accepted.status == "assigned"
    assert accepted.technician_id == crew.tom.pk
    assert attempts(order) == [("auto", crew.tom.pk, "pending")]
    assigned = order.events.get(type="technician_assigned")
    assert assigned.actor_role == "dispatch"
    assert assigned.data["explanation"]["mode"] == "auto"
    assert assigned.data["explanation"]["place"] == 1


def test_auto_mode_gives_a_declined_job_to_the_next_technician(crew, agent):
    # given
    crew.policy.mode = DispatchMode.AUTO
    crew.policy.save()
    order = crew.order()
    accept(order, agent)
    # when
    after = workorder_decline_assignment(
        work_order=order, technician=crew.tom, actor=as_tech(crew.tom), reason="太远"
    )
    # then
    assert after.status == "assigned"
    assert after.technician_id == crew.ted.pk
    assert attempts(order) == [
        ("auto", crew.tom.pk, "declined"),
        ("auto", crew.ted.pk, "pending"),
    ]


# --- offer -------------------------------------------------------------------------------------


def test_offer_mode_offers_the_best_technician_for_three_minutes(crew, agent):
    # given
    order = crew.order()
    before = timezone.now()
    # when
    accepted = accept(order, agent)
    # then
    assert accepted.status == "accepted"
    assert accepted.technician_id is None
    offer = DispatchAttempt.objects.get(work_order=order)
    assert (offer.mode, offer.technician_id, offer.outcome) == ("offer", crew.tom.pk, "pending")
    assert offer.expires_at - offer.offered_at == dt.timedelta(minutes=3)
    assert offer.offered_at >= before
    assert event_types(order)[-1] == "offered"
    assert [o.pk for o in offer_list_for_technician(user=crew.tom.user)] == [offer.pk]
    assert offer_list_for_technician(user=crew.ted.user) == []


def test_offer_accept_assigns_and_takes_the_job(crew, agent):
    # given
    order = crew.order()
    accept(order, agent)
    offer = DispatchAttempt.objects.get(work_order=order)
    # when
    after = offer_accept(attempt=offer, technician=crew.tom, actor=as_tech(crew.tom))
    # then
    assert after.status == "assigned"
    assert after.technician_id == crew.tom.pk
    assert after.assignment_accepted_at is not None
    assert attempts(order) == [("offer", crew.tom.pk, "accepted")]
    assert event_types(order)[-2:] == ["technician_assigned", "assignment_accepted"]
    assigned = order.events.get(type="technician_assigned")
    assert assigned.data["explanation"]["mode"] == "offer"
    assert assigned.data["explanation"]["place"] == 1


def test_offer_timeout_moves_to_the_next_technician(crew, agent):
    # given
    order = crew.order()
    accept(order, agent)
    first = DispatchAttempt.objects.get(work_order=order)
    # when: nothing is due before the time is up, then it is
    assert offers_expire_due(now=first.expires_at - dt.timedelta(seconds=1)) == 0
    closed = offers_expire_due(now=first.expires_at)
    # then
    assert closed == 1
    assert attempts(order) == [
        ("offer", crew.tom.pk, "expired"),
        ("offer", crew.ted.pk, "pending"),
    ]
    second = DispatchAttempt.objects.get(work_order=order, sequence=2)
    assert second.offered_at == first.expires_at
    assert second.expires_at == first.expires_at + dt.timedelta(minutes=3)
    assert event_types(order)[-3:] == ["offered", "offer_expired", "offered"]
    # running it again at the same moment changes nothing
    assert offers_expire_due(now=first.expires_at) == 0


def test_configured_offer_time_is_used(crew, agent):
    crew.policy.offer_timeout_seconds = 60
    crew.policy.save()
    order = crew.order()
    accept(order, agent)
    offer = DispatchAttempt.objects.get(work_order=order)
    assert offer.expires_at - offer.offered_at == dt.timedelta(seconds=60)


def test_accepting_a_late_offer_is_refused_and_the_offer_moves_on(crew, agent):
    # given
    order = crew.order()
    accept(order, agent)
    offer = DispatchAttempt.objects.get(work_order=order)
    # when / then
    with pytest.raises(OfferClosed, match="run out"):
        offer_accept(
            attempt=offer, technician=crew.tom, actor=as_tech(crew.tom), now=offer.expires_at
        )
    order.refresh_from_db()
    assert order.technician_id is None
    assert attempts(order) == [
        ("offer", crew.tom.pk, "expired"),
        ("offer", crew.ted.pk, "pending"),
    ]


def test_decline_moves_to_the_next_and_decliners_are_not_asked_again(crew, agent):
    # given
    order = crew.order()
    accept(order, agent)
    # when: Tom declines, Ted lets it expire
    first = DispatchAttempt.objects.get(work_order=order)
    offer_decline(attempt=first, technician=crew.tom, actor=as_tech(crew.tom), reason="在忙")
    second = DispatchAttempt.objects.get(work_order=order, sequence=2)
    offers_expire_due(now=second.expires_at)
    # then
    assert attempts(order) == [
        ("offer", crew.tom.pk, "declined"),
        ("offer", crew.ted.pk, "expired"),
        ("offer", crew.tina.pk, "pending"),
    ]
    assert DispatchAttempt.objects.get(work_order=order, sequence=1).reason == "在忙"
    declined = order.events.get(type="offer_declined")
    assert (declined.actor_id, declined.reason, declined.is_internal) == (
        crew.tom.user.pk,
        "在忙",
        True,
    )


def test_nobody_eligible_left_returns_the_order_to_the_dispatcher_with_an_event(crew, agent):
    # given: Tina is off duty, so only Tom and Ted can be asked
    crew.tina.status = "off_duty"
    crew.tina.save()
    order = crew.order()
    accept(order, agent)
    # when both decline
    for technician in (crew.tom, crew.ted):
        offer = DispatchAttempt.objects.get(work_order=order, outcome="pending")
        offer_decline(attempt=offer, technician=technician, actor=as_tech(technician))
    # then
    order.refresh_from_db()
    assert (order.status, order.technician_id) == ("accepted", None)
    assert not DispatchAttempt.objects.filter(work_order=order, outcome="pending").exists()
    unmatched = order.events.get(type="dispatch_unmatched")
    assert unmatched.data == {"mode": "offer", "refused": 2}
    assert unmatched.is_internal is True


def test_an_offer_cannot_be_answered_twice_or_by_someone_else(crew, agent):
    order = crew.order()
    accept(order, agent)
    offer = DispatchAttempt.objects.get(work_order=order)
    with pytest.raises(OfferClosed):
        offer_accept(attempt=offer, technician=crew.ted, actor=as_tech(crew.ted))
    offer_decline(attempt=offer, technician=crew.tom, actor=as_tech(crew.tom))
    with pytest.raises(OfferClosed, match="closed"):
        offer_accept(attempt=offer, technician=crew.tom, actor=as_tech(crew.tom))


def test_a_dispatcher_assigning_meanwhile_withdraws_the_offer(crew, agent):
    order = crew.order()
    accept(order, agent)
    offer = DispatchAttempt.objects.get(work_order=order)
    workorder_assign_technician(work_order=order, technician=crew.tina, actor=Actor(agent, "agent"))
    assert attempts(order) == [
        ("offer", crew.tom.pk, "withdrawn"),
        ("manual", crew.tina.pk, "pending"),
    ]
    with pytest.raises(OfferClosed):
        offer_accept(attempt=offer, technician=crew.tom, actor=as_tech(crew.tom))


def test_service_type_override_wins_over_the_organisation_mode(crew, agent):
    install = ServiceTypeFactory(organization=crew.world.org, kind="install", name="安装")
    DispatchModeOverride.objects.create(
        organization=crew.world.org, service_type=install, mode=DispatchMode.POOL
    )
    order = crew.order(service_type=install)
    accept(order, agent)
    assert attempts(order) == [("pool", None, "pending")]


# --- pool --------------------------------------------------------------------------------------


@pytest.fixture
def pooled(crew, agent):
    crew.policy.mode = DispatchMode.POOL
    crew.policy.save()
    order = crew.order()
    accept(order, agent)
    return order, DispatchAttempt.objects.get(work_order=order)


def test_pool_mode_publishes_and_qualified_nearby_technicians_see_it(crew, pooled):
    order, entry = pooled
    assert (entry.mode, entry.technician_id, entry.outcome) == ("pool", None, "pending")
    assert entry.expires_at - entry.offered_at == dt.timedelta(minutes=30)
    assert event_types(order)[-1] == "pool_published"
    jobs = pool_list_for_technician(user=crew.ted.user)
    assert [(job.attempt.pk, job.work_order.pk) for job in jobs] == [(entry.pk, order.pk)]
    assert jobs[0].distance_km == pytest.approx(3 * 1.35, abs=0.1)


def test_pool_hides_jobs_from_technicians_who_fail_a_hard_constraint(crew, pooled):
    # given: Tina lacks the skill, Ted's service area is too small
    crew.tina.skill_levels.all().delete()
    crew.ted.service_radius_km = 0
    crew.ted.home_latitude = crew.ted.last_latitude
    crew.ted.save()
    _order, entry = pooled
    # then
    assert pool_list_for_technician(user=crew.tina.user) == []
    assert pool_list_for_technician(user=crew.ted.user) == []
    with pytest.raises(PoolJobNotEligible):
        pool_grab(attempt=entry, technician=crew.tina, actor=as_tech(crew.tina))


def test_the_first_grab_wins_and_the_second_is_told(crew, pooled):
    order, entry = pooled
    # when
    after = pool_grab(attempt=entry, technician=crew.ted, actor=as_tech(crew.ted))
    # then
    assert (after.status, after.technician_id) == ("assigned", crew.ted.pk)
    assert after.assignment_accepted_at is not None
    assert attempts(order) == [("pool", crew.ted.pk, "accepted")]
    with pytest.raises(PoolJobTaken, match="first"):
        pool_grab(attempt=entry, technician=crew.tom, actor=as_tech(crew.tom))
    assert pool_list_for_technician(user=crew.tom.user) == []


def test_an_ungrabbed_pool_job_returns_to_the_dispatcher(crew, pooled):
    order, entry = pooled
    assert offers_expire_due(now=entry.expires_at) == 1
    assert attempts(order) == [("pool", None, "expired")]
    assert event_types(order)[-1] == "pool_expired"
    order.refresh_from_db()
    assert (order.status, order.technician_id) == ("accepted", None)


def test_a_dispatcher_can_pool_an_order_in_manual_mode(crew, agent):
    crew.policy.mode = DispatchMode.MANUAL
    crew.policy.save()
    order = crew.order()
    accept(order, agent)
    entry = pool_publish(work_order=order, actor=Actor(agent, "agent"))
    assert attempts(order) == [("pool", None, "pending")]
    assert entry.expires_at - entry.offered_at == dt.timedelta(minutes=30)


# --- tenancy -----------------------------------------------------------------------------------


def test_other_tenants_offers_and_pool_entries_answer_404(crew, agent, other_org_user, pooled):
    _order, entry = pooled
    with pytest.raises(Http404):
        pool_entry_get_for_technician(user=other_org_user, pk=entry.pk)
    crew.policy.mode = DispatchMode.OFFER
    crew.policy.save()
    second = crew.order()
    accept(second, agent)
    offer = DispatchAttempt.objects.get(work_order=second)
    with pytest.raises(Http404):
        offer_get_for_technician(user=other_org_user, pk=offer.pk)
    with pytest.raises(Http404):
        offer_get_for_technician(user=crew.ted.user, pk=offer.pk)
    assert offer_get_for_technician(user=crew.tom.user, pk=offer.pk).pk == offer.pk


# --- success rate ------------------------------------------------------------------------------


def test_first_dispatch_success_rate_counts_each_orders_first_attempt(crew, agent):
    # given: order 1 taken at once; order 2 declined first then taken; order 3 expired first;
    # order 4 still waiting (not counted)
    one, two, three, four = (crew.order() for _ in range(4))
    for order in (one, two, three, four):
        accept(order, agent)

    def pending(order):
        return DispatchAttempt.objects.get(work_order=order, outcome="pending")

    offer_accept(attempt=pending(one), technician=crew.tom, actor=as_tech(crew.tom))
    offer_decline(attempt=pending(two), technician=crew.tom, actor=as_tech(crew.tom))
    offer_accept(attempt=pending(two), technician=crew.ted, actor=as_tech(crew.ted))
    offers_expire_due(now=pending(three).expires_at)
    # when
    now = timezone.now()
    rate = first_dispatch_success_rate(
        organization_ids={crew.world.org.pk},
        since=now - dt.timedelta(hours=1),
        until=now + dt.timedelta(hours=1),
    )
    other = first_dispatch_success_rate(
        organization_ids={crew.world.other_order.organization_id},
        since=now - dt.timedelta(hours=1),
        until=now + dt.timedelta(hours=1),
    )
    # then
    assert (rate.orders, rate.succeeded, rate.declined, rate.expired) == (3, 1, 1, 1)
    assert rate.rate == pytest.approx(0.3333)
    assert rate.by_mode == {"offer": {"accepted": 1, "declined": 1, "expired": 1}}
    assert (other.orders, other.rate) == (0, None)
    assert pending(four).outcome == AttemptOutcome.PENDING


def test_carry_in_orders_stay_with_the_dispatcher_in_every_mode(crew, agent):
    crew.policy.mode = DispatchMode.AUTO
    crew.policy.save()
    order = crew.order(fulfilment_mode="carry_in")
    accepted = accept(order, agent)
    assert (accepted.status, accepted.technician_id) == ("accepted", None)
    assert attempts(order) == []


def test_the_offer_explanation_gives_the_place_among_all_eligible(crew, agent):
    order = crew.order()
    accept(order, agent)
    first = DispatchAttempt.objects.get(work_order=order)
    offer_decline(attempt=first, technician=crew.tom, actor=as_tech(crew.tom))
    second = DispatchAttempt.objects.get(work_order=order, sequence=2)
    assert (first.explanation["place"], first.explanation["of"]) == (1, 3)
    assert (second.explanation["place"], second.explanation["of"]) == (2, 3)
    assert second.explanation["distance_km"] == pytest.approx(3 * 1.35, abs=0.1)


# --- putting an order in the pool by hand: console button and API ------------------------------


def test_console_button_puts_an_accepted_order_in_the_pool(crew, agent):
    from django.test import Client

    crew.policy.mode = DispatchMode.MANUAL
    crew.policy.save()
    order = crew.order()
    accept(order, agent)
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(agent)
    page = client.get(f"/console/work-orders/{order.number}/").content.decode()
    assert 'data-dispatch-action="pool-publish"' in page
    response = client.post(f"/console/dispatch/orders/{order.number}/pool/", follow=True)
    assert response.status_code == 200
    assert "The order is in the job pool." in response.content.decode()
    assert attempts(order) == [("pool", None, "pending")]
    # now pending: the button is gone and a second press is refused without a change
    assert 'data-dispatch-action="pool-publish"' not in response.content.decode()
    again = client.post(f"/console/dispatch/orders/{order.number}/pool/", follow=True)
    assert "already has an open offer or is in the job pool" in again.content.decode()
    assert len(attempts(order)) == 1


def test_console_pool_button_is_for_operators_of_this_organisation_only(
    crew, agent, finance, other_org_user
):
    from django.test import Client

    crew.policy.mode = DispatchMode.MANUAL
    crew.policy.save()
    order = crew.order()
    accept(order, agent)
    url = f"/console/dispatch/orders/{order.number}/pool/"
    reader = Client(HTTP_ACCEPT_LANGUAGE="en")
    reader.force_login(finance)
    assert reader.post(url).status_code == 403
    stranger = Client(HTTP_ACCEPT_LANGUAGE="en")
    stranger.force_login(other_org_user)
    assert stranger.post(url).status_code == 404
    assert attempts(order) == []


def test_api_publish_to_pool(crew, agent, other_org_user):
    from rest_framework.test import APIClient

    crew.policy.mode = DispatchMode.MANUAL
    crew.policy.save()
    order = crew.order()
    url = f"/api/v1/work-orders/{order.number}/publish-to-pool/"
    client = APIClient(HTTP_ACCEPT_LANGUAGE="zh-hans")
    client.force_authenticate(agent)
    refused = client.post(url)  # still submitted: not waiting for dispatch
    assert refused.status_code == 409
    assert refused.json()["detail"] == "只有已受理、等待派单的工单才能放入工单池。"
    accept(order, agent)
    stranger = APIClient()
    stranger.force_authenticate(other_org_user)
    assert stranger.post(url).status_code == 404
    response = client.post(url)
    assert response.status_code == 200
    assert response.json()["number"] == order.number
    assert attempts(order) == [("pool", None, "pending")]


def test_carry_in_orders_cannot_go_to_the_pool(crew, agent):
    from shouhou.core.errors import Conflict

    order = crew.order(fulfilment_mode="carry_in")
    accept(order, agent)
    with pytest.raises(Conflict):
        pool_publish(work_order=order, actor=Actor(agent, "agent"))
    assert attempts(order) == []


def test_an_offer_reaches_the_offered_technician_at_once_even_in_quiet_hours(crew, agent):
    from shouhou.notifications.messaging import messages_create_for_event
    from shouhou.notifications.models import Message, NotificationPreference

    crew.policy.mode = DispatchMode.OFFER
    crew.policy.save()
    # Tom keeps quiet hours around the clock: an offer that expires in minutes is not deferred
    NotificationPreference.objects.create(
        user=crew.tom.user, quiet_hours=True, quiet_start=dt.time(0), quiet_end=dt.time(23, 59)
    )
    order = crew.order()
    accept(order, agent)
    event = order.events.get(type="offered")
    messages_create_for_event(event=event)
    rows = list(
        Message.objects.filter(event=event).values_list("kind", "channel", "address", "state")
    )
    assert sorted(rows) == [
        ("offered", "inapp", f"user:{crew.tom.user.pk}", "queued"),
        ("offered", "webpush", f"user:{crew.tom.user.pk}", "queued"),
    ]
    body = Message.objects.get(event=event, channel="inapp").body
    expires = timezone.localtime(DispatchAttempt.objects.get(work_order=order).expires_at)
    assert order.number in body
    assert expires.strftime("%H:%M") in body
    # the order has no technician yet, and nobody else is told
    assert order.technician_id is None
    assert not Message.objects.filter(event=event).exclude(address=f"user:{crew.tom.user.pk}")
