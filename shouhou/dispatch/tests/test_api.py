"""The dispatch API end to end: offers, the pool, the success rate, and tenancy (404)."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from shouhou.dispatch.models import DispatchAttempt, DispatchMode
from shouhou.workorders.models import WorkOrder
from shouhou.workorders.services import Actor, workorder_accept

pytestmark = pytest.mark.django_db


def client_for(user) -> APIClient:
    client = APIClient(HTTP_ACCEPT_LANGUAGE="en")
    client.force_authenticate(user)
    return client


def accepted_order(crew, agent):
    order = crew.order()
    workorder_accept(work_order=order, actor=Actor(agent, "agent"))
    return order


def test_technician_lists_accepts_an_offer_through_the_api(crew, agent):
    # given
    order = accepted_order(crew, agent)
    tom = client_for(crew.tom.user)
    # when
    listed = tom.get("/api/v1/offers/")
    # then
    assert listed.status_code == 200
    [offer] = listed.json()
    assert offer["work_order"]["number"] == order.number
    address = crew.world.address
    assert offer["work_order"]["area"] == " ".join(p for p in (address.city, address.district) if p)
    assert "customer" not in offer["work_order"]
    assert 170 <= offer["seconds_left"] <= 180
    accepted = tom.post(f"/api/v1/offers/{offer['id']}/accept/")
    assert accepted.status_code == 200
    assert accepted.json() == {"number": order.number, "status": "assigned"}
    again = tom.post(f"/api/v1/offers/{offer['id']}/accept/")
    assert again.status_code == 409
    assert again.json()["code"] == "offer_closed"
    order.refresh_from_db()
    assert order.technician_id == crew.tom.pk


def test_decline_through_the_api_moves_the_offer_on(crew, agent):
    order = accepted_order(crew, agent)
    offer = DispatchAttempt.objects.get(work_order=order)
    response = client_for(crew.tom.user).post(
        f"/api/v1/offers/{offer.pk}/decline/", {"reason": "车坏了"}, format="json"
    )
    assert response.status_code == 200
    assert response.json()["outcome"] == "declined"
    [ted_offer] = client_for(crew.ted.user).get("/api/v1/offers/").json()
    assert ted_offer["work_order"]["number"] == order.number


def test_pool_list_and_grab_through_the_api_and_the_loser_gets_409(crew, agent):
    # given
    crew.policy.mode = DispatchMode.POOL
    crew.policy.save()
    order = accepted_order(crew, agent)
    ted, tom = client_for(crew.ted.user), client_for(crew.tom.user)
    # when
    [job] = ted.get("/api/v1/pool/").json()
    won = ted.post(f"/api/v1/pool/{job['id']}/grab/")
    lost = tom.post(f"/api/v1/pool/{job['id']}/grab/")
    # then
    assert job["work_order"]["number"] == order.number
    assert job["distance_km"] == pytest.approx(4.05, abs=0.1)
    assert won.status_code == 200
    assert won.json() == {"number": order.number, "status": "assigned"}
    assert lost.status_code == 409
    assert lost.json() == {
        "detail": "Another technician took this job first.",
        "code": "pool_job_taken",
    }
    assert tom.get("/api/v1/pool/").json() == []


def test_other_tenants_offers_and_pool_jobs_answer_404(crew, agent, other_org_user):
    # given: an open offer (to Tom) and a pooled job, both of organisation A
    offer_order = accepted_order(crew, agent)
    offer = DispatchAttempt.objects.get(work_order=offer_order)
    crew.policy.mode = DispatchMode.POOL
    crew.policy.save()
    pooled = DispatchAttempt.objects.get(work_order=accepted_order(crew, agent))
    stranger = client_for(other_org_user)
    # when / then
    assert stranger.get("/api/v1/offers/").json() == []
    assert stranger.get("/api/v1/pool/").json() == []
    assert stranger.post(f"/api/v1/offers/{offer.pk}/accept/").status_code == 404
    assert stranger.post(f"/api/v1/offers/{offer.pk}/decline/").status_code == 404
    assert stranger.post(f"/api/v1/pool/{pooled.pk}/grab/").status_code == 404
    # a colleague in the same organisation cannot answer Tom's offer either
    assert client_for(crew.ted.user).post(f"/api/v1/offers/{offer.pk}/accept/").status_code == 404
    offer.refresh_from_db()
    pooled.refresh_from_db()
    assert (offer.outcome, pooled.outcome) == ("pending", "pending")
    assert WorkOrder.objects.get(pk=offer_order.pk).technician_id is None


def test_success_rate_for_staff_only_of_their_organisations(crew, agent, other_org_user):
    # given: one offer taken, one declined first
    first, second = accepted_order(crew, agent), accepted_order(crew, agent)
    tom = client_for(crew.tom.user)
    tom.post(f"/api/v1/offers/{DispatchAttempt.objects.get(work_order=first).pk}/accept/")
    tom.post(f"/api/v1/offers/{DispatchAttempt.objects.get(work_order=second).pk}/decline/")
    # when
    mine = client_for(agent).get("/api/v1/dispatch/success-rate/")
    theirs = client_for(other_org_user).get("/api/v1/dispatch/success-rate/")
    foreign = client_for(other_org_user).get(
        "/api/v1/dispatch/success-rate/", {"organization": crew.world.org.pk}
    )
    # then
    assert mine.status_code == 200
    body = mine.json()
    assert (body["orders"], body["succeeded"], body["declined"], body["rate"]) == (2, 1, 1, 0.5)
    assert body["by_mode"] == {"offer": {"accepted": 1, "declined": 1}}
    assert (theirs.json()["orders"], theirs.json()["rate"]) == (0, None)
    assert foreign.status_code == 400
