"""Through the real work-order service: accepting an order texts the customer once."""

from __future__ import annotations

from shouhou.core.sms import FakeSmsBackend
from shouhou.core.testing.factories import CustomerFactory, WorkOrderFactory
from shouhou.notifications.handlers import notify
from shouhou.notifications.models import EventDelivery, Message
from shouhou.notifications.services import event_deliver
from shouhou.workorders.choices import Priority, WorkOrderStatus
from shouhou.workorders.services import Actor, workorder_accept


def test_accepting_an_order_sends_the_customer_one_sms(
    db, register_consumer, django_capture_on_commit_callbacks
):
    # given the notifications consumer and a submitted urgent order (urgent: quiet hours do
    # not apply, whatever the time the test runs)
    register_consumer("notifications", notify, atomic=True)
    FakeSmsBackend.reset()
    order = WorkOrderFactory(
        status=WorkOrderStatus.SUBMITTED,
        priority=Priority.URGENT,
        customer=CustomerFactory(phone="+8613700000042"),
    )
    # when staff accept it (the immediate task backend runs delivery and sending after commit)
    with django_capture_on_commit_callbacks(execute=True):
        workorder_accept(work_order=order, actor=Actor.system())
    # then one SMS went to the customer, recorded as sent
    message = Message.objects.get(work_order=order)
    assert (message.kind, message.channel, message.state) == ("accepted", "sms", "sent")
    assert [(m.phone, m.text) for m in FakeSmsBackend.outbox] == [("+8613700000042", message.body)]
    assert order.number in message.body
    # and delivering the event again sends nothing more
    event_deliver(event_id=message.event_id)
    assert EventDelivery.objects.get(consumer="notifications").state == "delivered"
    assert len(FakeSmsBackend.outbox) == 1 and Message.objects.filter(work_order=order).count() == 1
