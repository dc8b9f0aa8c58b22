"""core.inserts.insert: a new row with a cached statement, the same row Model.save() writes."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.db import connection
from django.db.models import F, Value
from django.db.models.signals import pre_save
from django.test.utils import CaptureQueriesContext

from shouhou.core import inserts
from shouhou.core.inserts import insert
from shouhou.core.testing.factories import CustomerFactory, WorkOrderFactory
from shouhou.customers.models import Address, Customer
from shouhou.workorders.models import WorkOrderEvent

pytestmark = pytest.mark.django_db


def _row(model, pk):
    return model.objects.filter(pk=pk).values().get()


def test_the_row_equals_what_save_writes_and_the_instance_is_saved():
    customer = CustomerFactory()
    fields = dict(
        customer=customer,
        city="杭州市",
        district="西湖区",
        address="文三路 90 号",
        latitude=Decimal("30.280000"),
        longitude=Decimal("120.130000"),
    )
    # when one address is inserted and one saved the usual way
    fast = insert(Address(**fields))
    usual = Address.objects.create(**fields)
    # then the fast one has its key and state like a saved instance ...
    assert fast.pk is not None and fast.pk != usual.pk
    assert fast._state.adding is False and fast._state.db == "default"
    # ... auto_now_add / auto_now were applied ...
    assert fast.created_at is not None and fast.updated_at is not None
    # ... and the stored rows match field by field (except key and times)
    a, b = _row(Address, fast.pk), _row(Address, usual.pk)
    for row in (a, b):
        del row["id"], row["created_at"], row["updated_at"]
    assert a == b
    assert a["latitude"] == Decimal("30.280000") and a["is_default"] is False
    # and the instance can be updated afterwards like any saved one
    fast.label = "家"
    fast.save()
    assert Address.objects.get(pk=fast.pk).label == "家"
    assert Address.objects.count() == 2


def test_json_nullable_foreign_keys_and_unicode_are_stored():
    order = WorkOrderFactory()
    when = dt.datetime(2026, 11, 22, 9, 30, tzinfo=dt.UTC)
    event = insert(
        WorkOrderEvent(
            work_order=order,
            type="note",
            actor=None,
            actor_role="system",
            reason="客户说:下午在家",
            data={"text": "备注", "n": [1, 2]},
            created_at=when,
        )
    )
    stored = WorkOrderEvent.objects.get(pk=event.pk)
    assert stored.work_order_id == order.pk and stored.actor_id is None
    assert stored.data == {"text": "备注", "n": [1, 2]}
    assert stored.reason == "客户说:下午在家" and stored.created_at == when


def test_the_statement_is_built_once_per_model(django_assert_num_queries):
    customer = CustomerFactory()
    insert(Address(customer=customer, city="杭州市", address="一号"))
    statement = inserts._statements[(Address, "default", False)]
    assert statement is not None
    with CaptureQueriesContext(connection) as queries:
        insert(Address(customer=customer, city="杭州市", address="二号"))
    assert inserts._statements[(Address, "default", False)] is statement
    (query,) = queries.captured_queries
    assert query["sql"].startswith('INSERT INTO "customers_address"')
    assert "RETURNING" in query["sql"]


def test_an_explicit_primary_key_is_written():
    customer = CustomerFactory()
    chosen = Address.objects.create(customer=customer, city="杭州市", address="x").pk + 100
    address = insert(Address(pk=chosen, customer=customer, city="杭州市", address="y"))
    assert address.pk == chosen
    assert Address.objects.get(pk=chosen).address == "y"


def test_an_unsaved_related_object_is_refused_and_nothing_written():
    unsaved = Customer(name="王女士", phone="+8613800138000")
    with pytest.raises(ValueError, match="unsaved related object"):
        insert(Address(customer=unsaved, city="杭州市", address="x"))
    assert Address.objects.count() == 0


def test_with_a_pre_save_receiver_save_runs_and_the_receiver_sees_it():
    seen: list[str] = []

    def receiver(sender, instance, **kwargs):
        seen.append(instance.address)

    pre_save.connect(receiver, sender=Address, dispatch_uid="test-inserts")
    try:
        insert(Address(customer=CustomerFactory(), city="杭州市", address="有人在听"))
    finally:
        pre_save.disconnect(dispatch_uid="test-inserts", sender=Address)
    assert seen == ["有人在听"]
    assert Address.objects.filter(address="有人在听").exists()


def test_an_expression_value_goes_through_save():
    customer = CustomerFactory()
    address = Address(customer=customer, city="杭州市", address=Value("表达式"))
    insert(address)
    assert Address.objects.get(pk=address.pk).address == "表达式"
    with pytest.raises(ValueError, match=r"F\(\) expressions can only be used to update"):
        insert(Address(customer=customer, city=F("address"), address="x"))


def test_a_failed_insert_inside_an_atomic_block_marks_it_for_rollback():
    from django.db import IntegrityError, transaction

    customer = CustomerFactory()
    taken = Address.objects.create(customer=customer, city="杭州市", address="x").pk
    with transaction.atomic():
        with pytest.raises(IntegrityError):
            insert(Address(pk=taken, customer=customer, city="杭州市", address="dup"))
        # as after a failed save(): the block must roll back, nothing more runs in it
        assert transaction.get_rollback() is True
    # leaving the block rolled back to its savepoint; the earlier row is untouched
    assert Address.objects.filter(pk=taken, address="x").exists()
