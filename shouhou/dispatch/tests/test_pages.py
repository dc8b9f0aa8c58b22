"""The technician's offer and pool pages, and the console's dispatch panel, end to end."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client
from django.utils import timezone, translation

from shouhou.dispatch.models import DispatchAttempt, DispatchMode
from shouhou.workorders.models import WorkOrder
from shouhou.workorders.services import Actor, workorder_accept

pytestmark = pytest.mark.django_db


def login(user) -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(user)
    return client


def accepted_order(crew, agent):
    order = crew.order()
    workorder_accept(work_order=order, actor=Actor(agent, "agent"))
    return order


def test_offer_page_shows_my_offer_with_a_countdown_and_accepting_takes_the_job(crew, agent):
    # given
    order = accepted_order(crew, agent)
    offer = DispatchAttempt.objects.get(work_order=order)
    tom = login(crew.tom.user)
    # when
    page = tom.get("/tech/offers/")
    # then
    assert page.status_code == 200
    html = page.content.decode()
    assert order.number in html
    assert 'role="timer"' in html
    assert f'action="/tech/offers/{offer.pk}/accept/"' in html
    assert crew.world.customer.name not in html  # no customer details before the job is taken
    taken = tom.post(f"/tech/offers/{offer.pk}/accept/")
    assert taken.status_code == 302
    assert taken["Location"] == f"/tech/jobs/{order.number}/"
    order.refresh_from_db()
    assert (order.status, order.technician_id) == ("assigned", crew.tom.pk)
    assert order.number not in tom.get("/tech/offers/").content.decode()


def test_declining_on_the_page_moves_the_offer_to_the_next_technician(crew, agent):
    order = accepted_order(crew, agent)
    offer = DispatchAttempt.objects.get(work_order=order)
    response = login(crew.tom.user).post(
        f"/tech/offers/{offer.pk}/decline/", {"reason": "不在附近"}, follow=True
    )
    assert response.status_code == 200
    assert "Declined. The job goes to another technician." in response.content.decode()
    assert order.number in login(crew.ted.user).get("/tech/offers/").content.decode()


def test_pool_page_lists_the_job_and_a_late_grab_is_told_someone_else_won(crew, agent):
    # given
    crew.policy.mode = DispatchMode.POOL
    crew.policy.save()
    order = accepted_order(crew, agent)
    entry = DispatchAttempt.objects.get(work_order=order)
    tom, ted = login(crew.tom.user), login(crew.ted.user)
    # when
    page = ted.get("/tech/pool/")
    won = ted.post(f"/tech/pool/{entry.pk}/grab/")
    lost = tom.post(f"/tech/pool/{entry.pk}/grab/", follow=True)
    # then
    assert order.number in page.content.decode()
    assert "about 4.1 km away" in page.content.decode()
    assert won["Location"] == f"/tech/jobs/{order.number}/"
    assert "Another technician took this job first." in lost.content.decode()
    assert WorkOrder.objects.get(pk=order.pk).technician_id == crew.ted.pk


def test_other_tenants_offer_and_pool_pages_answer_404(crew, agent, other_org_user):
    offer = DispatchAttempt.objects.get(work_order=accepted_order(crew, agent))
    crew.policy.mode = DispatchMode.POOL
    crew.policy.save()
    entry = DispatchAttempt.objects.get(work_order=accepted_order(crew, agent))
    stranger = login(other_org_user)
    assert stranger.post(f"/tech/offers/{offer.pk}/accept/").status_code == 404
    assert stranger.post(f"/tech/offers/{offer.pk}/decline/").status_code == 404
    assert stranger.post(f"/tech/pool/{entry.pk}/grab/").status_code == 404
    assert login(crew.ted.user).post(f"/tech/offers/{offer.pk}/accept/").status_code == 404
    offer.refresh_from_db()
    entry.refresh_from_db()
    assert (offer.outcome, entry.outcome) == ("pending", "pending")
    with translation.override("en"):
        assert (
            "No jobs are offered to you right now."
            in stranger.get("/tech/offers/").content.decode()
        )
        assert "The pool is empty right now." in stranger.get("/tech/pool/").content.decode()


def staff(user) -> Client:
    client = Client()
    client.force_login(user)
    client.cookies["shouhou_language"] = "en"
    return client


def test_console_detail_shows_the_open_offer_and_the_attempts_history(crew, agent):
    # given: Tom declined, the offer is now Ted's
    order = accepted_order(crew, agent)
    first = DispatchAttempt.objects.get(work_order=order)
    from shouhou.dispatch.offers import offer_decline

    offer_decline(
        attempt=first, technician=crew.tom, actor=Actor(crew.tom.user, "technician"), reason="忙"
    )
    # when
    page = staff(agent).get(f"/console/work-orders/{order.number}/")
    # then
    html = page.content.decode()
    assert page.status_code == 200
    assert 'data-mode="offer"' in html
    assert 'data-pending="offer"' in html
    assert "Offered to Ted until" in html
    assert 'data-attempt="1" data-outcome="declined"' in html
    assert 'data-attempt="2" data-outcome="pending"' in html


def test_console_detail_expires_a_due_offer_when_shown(crew, agent):
    # given: the offer's time ran out with nobody looking
    order = accepted_order(crew, agent)
    DispatchAttempt.objects.filter(work_order=order).update(
        expires_at=timezone.now() - dt.timedelta(seconds=1)
    )
    # when
    html = staff(agent).get(f"/console/work-orders/{order.number}/").content.decode()
    # then
    assert 'data-attempt="1" data-outcome="expired"' in html
    assert 'data-attempt="2" data-outcome="pending"' in html
    assert "Offered to Ted until" in html


def test_console_queue_shows_the_first_dispatch_success_rate(crew, agent):
    # given: one order taken at once, one declined first
    one, two = accepted_order(crew, agent), accepted_order(crew, agent)
    from shouhou.dispatch.offers import offer_accept, offer_decline

    as_tom = Actor(crew.tom.user, "technician")
    offer_accept(
        attempt=DispatchAttempt.objects.get(work_order=one), technician=crew.tom, actor=as_tom
    )
    offer_decline(
        attempt=DispatchAttempt.objects.get(work_order=two), technician=crew.tom, actor=as_tom
    )
    # when
    html = staff(agent).get("/console/work-orders/").content.decode()
    # then
    assert "<strong>50%</strong>" in html
    assert "(1 of 2 orders taken by the first technician asked; 1 declined, 0 timed out)" in html
