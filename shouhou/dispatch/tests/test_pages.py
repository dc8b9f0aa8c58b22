"""The technician's offer and pool pages, and the console's dispatch panel, end to end."""

from __future__ import annotations

import pytest
from django.test import Client
from django.utils import translation

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
