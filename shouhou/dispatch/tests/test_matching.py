"""The ranking engine: every hard constraint, the soft terms, and the explanation."""

from __future__ import annotations

import datetime as dt
import itertools
from decimal import Decimal

import pytest
from django.utils import timezone

from shouhou.dispatch.matching import Weights, build_pool, rank
from shouhou.dispatch.models import DayOff, Shift, TechnicianSkill
from shouhou.dispatch.selectors import explanation_for, technician_pool, technician_suggestions

JOB = (30.2741, 120.1551)  # 杭州 西湖


def tech(id_, *, north_km=0.0, **overrides):
    row = {
        "id": id_,
        "name": f"T{id_}",
        "latitude": JOB[0] + north_km / 111.2,
        "longitude": JOB[1],
        "skills": {"cooling": 3},
        "load": 0,
        "capacity": 6,
        "rating": 4.5,
        "radius_km": 25,
        "on_shift": True,
        "on_duty": True,
    }
    row.update(overrides)
    return row


def ids(ranking):
    return [candidate.technician_id for candidate in ranking.candidates]


def test_nearest_qualified_technician_ranks_first_with_a_breakdown():
    pool = build_pool([tech(1, north_km=8), tech(2, north_km=2), tech(3, north_km=5)])
    ranking = rank(pool, latitude=JOB[0], longitude=JOB[1], required_skills=["cooling"])
    assert ids(ranking) == [2, 3, 1]
    best = ranking.candidates[0].breakdown
    assert best["distance_km"] == pytest.approx(2 * 1.35, abs=0.05)
    assert best["travel_minutes"] == pytest.approx(2 * 1.35 / 25 * 60, abs=0.2)
    assert set(best["terms"]) == {"travel", "load", "rating", "first_time_fix", "skill_level"}
    assert ranking.candidates[0].score == pytest.approx(sum(best["terms"].values()), abs=1e-3)


@pytest.mark.parametrize(
    ("override", "reason"),
    [
        ({"skills": {"washing": 4}}, "missing_skill"),
        ({"on_shift": False}, "not_on_shift"),
        ({"on_duty": False}, "off_duty"),
        ({"load": 6, "capacity": 6}, "at_capacity"),
        ({"radius_km": 1}, "outside_service_area"),
    ],
)
def test_each_hard_constraint_excludes(override, reason):
    pool = build_pool(
        [tech(1, north_km=3), tech(2, north_km=1.5, **override)], skill_codes=["cooling", "washing"]
    )
    ranking = rank(pool, latitude=JOB[0], longitude=JOB[1], required_skills=["cooling"])
    assert ids(ranking) == [1]
    assert ranking.excluded == {reason: 1}


def test_a_skill_nobody_has_excludes_everyone():
    pool = build_pool([tech(1), tech(2)])
    ranking = rank(pool, latitude=JOB[0], longitude=JOB[1], required_skills=["ev-battery"])
    assert ids(ranking) == []
    assert ranking.excluded == {"missing_skill": 2}


def test_load_rating_and_first_time_fix_break_ties():
    pool = build_pool(
        [
            tech(1, load=4),
            tech(2, rating=3.0),
            tech(3, first_time_fix={"no-cooling": 0.2}),
            tech(4, first_time_fix={"no-cooling": 1.0}),
        ]
    )
    ranking = rank(pool, latitude=JOB[0], longitude=JOB[1], fault_code="no-cooling")
    # terms (weights 0.2 load, 0.15 rating, 0.1 first-time fix): 1 pays 0.133 for load,
    # 2 pays 0.056 for its rating, 3 pays 0.08 for its fix rate, 4 pays nothing
    assert ids(ranking) == [4, 2, 3, 1]


def test_urgent_jobs_weigh_travel_more():
    # 1 is near but busy; 2 is far but free: normal jobs go to 2, urgent ones to 1
    pool = build_pool([tech(1, north_km=1, load=3), tech(2, north_km=9.26, load=0)])
    weights = Weights(travel=0.3, load=0.4, rating=0.1, first_time_fix=0.1, skill_level=0.1)
    normal = rank(pool, latitude=JOB[0], longitude=JOB[1], weights=weights)
    urgent = rank(pool, latitude=JOB[0], longitude=JOB[1], weights=weights, priority="urgent")
    assert ids(normal)[0] == 2
    assert ids(urgent)[0] == 1


def test_without_coordinates_distance_is_neither_constraint_nor_term():
    pool = build_pool([tech(1, north_km=80, radius_km=5), tech(2, load=3)])
    ranking = rank(pool, latitude=None, longitude=None)
    assert ids(ranking) == [1, 2]
    assert ranking.candidates[0].breakdown["terms"]["travel"] == 0


def test_limit_returns_the_best_few_in_order():
    pool = build_pool([tech(i, north_km=i) for i in range(1, 51)])
    ranking = rank(pool, latitude=JOB[0], longitude=JOB[1], limit=3)
    assert ids(ranking) == [1, 2, 3]
    assert ranking.considered == 50


# --- from the database --------------------------------------------------------------------


@pytest.fixture
def monday_10am():
    return timezone.make_aware(dt.datetime(2026, 11, 23, 10, 0))  # a Monday


@pytest.mark.django_db
def test_pool_from_database_applies_shifts_days_off_skills_and_load(world, monday_10am):
    from shouhou.core.testing.factories import TechnicianFactory, UserFactory, WorkOrderFactory

    tom = world.technician
    skill = world.fault_type.required_skills.model.objects.create(
        organization=world.org, name="空调制冷", code="cooling"
    )
    world.fault_type.required_skills.add(skill)
    TechnicianSkill.objects.create(technician=tom, skill=skill, level=4)
    Shift.objects.create(technician=tom, weekday=0, starts_at=dt.time(8), ends_at=dt.time(18))
    tom.status = "available"
    tom.save()
    off = TechnicianFactory(organization=world.org, user=UserFactory(), status="available")
    TechnicianSkill.objects.create(technician=off, skill=skill, level=5)
    Shift.objects.create(technician=off, weekday=0, starts_at=dt.time(8), ends_at=dt.time(18))
    DayOff.objects.create(technician=off, day=monday_10am.date())
    WorkOrderFactory(organization=world.org, technician=tom, status="assigned")
    # when
    pool = technician_pool(organization_ids={world.org.pk}, at=monday_10am)
    order = WorkOrderFactory(
        organization=world.org,
        fault_type=world.fault_type,
        latitude=Decimal("30.28"),
        longitude=Decimal("120.13"),
        priority="normal",
    )
    ranking = technician_suggestions(work_order=order, at=monday_10am)
    # then
    rows = dict(zip(pool.ids.tolist(), range(len(pool)), strict=True))
    assert bool(pool.on_shift[rows[tom.pk]]) is True
    assert bool(pool.on_shift[rows[off.pk]]) is False
    assert float(pool.load[rows[tom.pk]]) == 1
    assert ids(ranking) == [tom.pk]
    assert ranking.excluded == {"not_on_shift": 1}


@pytest.mark.django_db
def test_assignment_event_stores_the_explanation(world, agent, monday_10am):
    from rest_framework.test import APIClient

    from shouhou.core.testing.factories import WorkOrderFactory
    from shouhou.workorders.models import WorkOrderEvent

    tom = world.technician
    tom.status = "available"
    tom.save()
    for weekday in range(7):
        Shift.objects.create(
            technician=tom, weekday=weekday, starts_at=dt.time(0), ends_at=dt.time(23, 59)
        )
    order = WorkOrderFactory(
        organization=world.org,
        status="accepted",
        latitude=Decimal("30.28"),
        longitude=Decimal("120.13"),
    )
    client = APIClient(HTTP_ACCEPT_LANGUAGE="en")
    client.force_authenticate(agent)
    suggestions = client.get(f"/api/v1/work-orders/{order.number}/suggestions/").json()
    assert [row["technician"] for row in suggestions] == [tom.pk]
    client.post(
        f"/api/v1/work-orders/{order.number}/assign-technician/",
        {"technician": tom.pk},
        format="json",
    )
    event = WorkOrderEvent.objects.get(work_order=order, type="technician_assigned")
    assert event.data["explanation"]["place"] == 1
    assert event.data["explanation"]["score"] == suggestions[0]["score"]
    assert explanation_for(work_order=order, technician_id=tom.pk)["place"] == 1


def reference_rank(rows, *, latitude, longitude, required, fault, priority, weights, limit):
    """Everything ``rank`` decides, written out per technician in plain Python."""
    import math

    from shouhou.dispatch.matching import DEFAULT_FIRST_TIME_FIX, DEFAULT_RATING, URGENCY

    scored = []
    for row in rows:
        if not (row["on_duty"] and row["on_shift"] and row["load"] < row["capacity"]):
            continue
        if any(row["skills"].get(code, 0) == 0 for code in required):
            continue
        scale = math.cos(math.radians(latitude))

        def km(lat, lng, scale=scale):
            dy, dx = lat - latitude, (lng - longitude) * scale
            return math.hypot(dx, dy) * math.pi / 180 * 6371.0088

        if km(row["home_latitude"], row["home_longitude"]) > row["radius_km"]:
            continue
        minutes = km(row["latitude"], row["longitude"]) * weights.road_factor / weights.speed_kmh
        minutes *= 60
        rating = DEFAULT_RATING if row["rating"] is None else row["rating"]
        fix = row["first_time_fix"].get(fault, DEFAULT_FIRST_TIME_FIX)
        level = sum(row["skills"][code] for code in required) / len(required) if required else 3
        score = (
            weights.travel * (1 + URGENCY[priority]) * min(minutes / 60, 1)
            + weights.load * row["load"] / row["capacity"]
            + weights.rating * (5 - rating) / 4
            + weights.first_time_fix * (1 - fix)
            + weights.skill_level * (5 - level) / 4
        )
        scored.append((score, row["id"]))
    scored.sort()
    return scored[:limit], len(scored)


@pytest.mark.parametrize("seed", range(8))
def test_rank_agrees_with_a_plain_python_reference(seed):
    import random

    rng = random.Random(seed)
    skills = [f"s{n}" for n in range(6)]
    faults = [f"f{n}" for n in range(4)]
    rows = []
    for index in range(300):
        latitude, longitude = JOB[0] + rng.uniform(-0.2, 0.2), JOB[1] + rng.uniform(-0.2, 0.2)
        rows.append(
            tech(
                index + 1,
                latitude=latitude,
                longitude=longitude,
                home_latitude=latitude + rng.uniform(-0.05, 0.05),
                home_longitude=longitude + rng.uniform(-0.05, 0.05),
                radius_km=rng.choice([5, 15, 30]),
                load=rng.randint(0, 6),
                capacity=6,
                rating=None if rng.random() < 0.2 else round(rng.uniform(3, 5), 2),
                on_shift=rng.random() < 0.85,
                on_duty=rng.random() < 0.9,
                skills={code: rng.randint(1, 5) for code in rng.sample(skills, 3)},
                first_time_fix={code: round(rng.random(), 3) for code in rng.sample(faults, 2)},
            )
        )
    pool = build_pool(rows)
    weights = Weights(travel=0.5, load=0.2, rating=0.1, first_time_fix=0.1, skill_level=0.1)
    for _ in range(20):
        job = (JOB[0] + rng.uniform(-0.15, 0.15), JOB[1] + rng.uniform(-0.15, 0.15))
        required = rng.sample(skills, rng.choice([0, 1, 2]))
        fault = rng.choice(faults)
        priority = rng.choice(["normal", "high", "urgent"])
        ranking = rank(
            pool,
            latitude=job[0],
            longitude=job[1],
            required_skills=required,
            fault_code=fault,
            priority=priority,
            weights=weights,
            limit=5,
        )
        expected, eligible_count = reference_rank(
            rows,
            latitude=job[0],
            longitude=job[1],
            required=required,
            fault=fault,
            priority=priority,
            weights=weights,
            limit=5,
        )
        got = [(c.score, c.technician_id) for c in ranking.candidates]
        assert len(got) == len(expected)
        for (score, _id), (want, _want_id) in zip(got, expected, strict=True):
            assert score == pytest.approx(want, abs=2e-3)  # float32 arithmetic
        assert ranking.considered - sum(ranking.excluded.values()) == eligible_count
        scores = [want for want, _id in expected]
        if all(b - a > 2e-3 for a, b in itertools.pairwise(scores)):
            assert [i for _s, i in got] == [i for _s, i in expected]
