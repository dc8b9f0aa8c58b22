"""Built-in message templates: (kind, audience, language) -> (subject, body), every channel.

These are the last fallback: a ``NotificationTemplate`` row without an organisation overrides
them for one channel, and an organisation's own row overrides that. Bodies are short enough for
one SMS. Django template syntax; the context is documented in docs/notifications.md.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

from shouhou.notifications.choices import Audience as A
from shouhou.notifications.choices import NotificationKind as K

ZH = "zh-hans"
EN = "en"

DEFAULT_TEMPLATES: Final[Mapping[tuple[str, str, str], tuple[str, str]]] = {
    # customer
    (K.ACCEPTED, A.CUSTOMER, ZH): (
        "工单{{ number }}已受理",
        "您的服务单{{ number }}已受理，我们将尽快安排工程师。进度：{{ tracking_url }}",
    ),
    (K.ACCEPTED, A.CUSTOMER, EN): (
        "Order {{ number }} accepted",
        "Your service order {{ number }} has been accepted; we will assign an engineer soon. "
        "Track it: {{ tracking_url }}",
    ),
    (K.ASSIGNED, A.CUSTOMER, ZH): (
        "工单{{ number }}已派工程师",
        "工程师{{ technician_name }}（{{ technician_phone }}）将为您服务"
        "{% if eta %}，预计{{ eta }}到达{% endif %}。进度：{{ tracking_url }}",
    ),
    (K.ASSIGNED, A.CUSTOMER, EN): (
        "Engineer assigned to {{ number }}",
        "Engineer {{ technician_name }} ({{ technician_phone }}) will serve you"
        "{% if eta %}, expected at {{ eta }}{% endif %}. Track it: {{ tracking_url }}",
    ),
    (K.APPOINTMENT_CONFIRMED, A.CUSTOMER, ZH): (
        "工单{{ number }}预约成功",
        "您的上门时间已确认：{{ appointment }}。工程师{{ technician_name }}。{{ tracking_url }}",
    ),
    (K.APPOINTMENT_CONFIRMED, A.CUSTOMER, EN): (
        "Appointment confirmed for {{ number }}",
        "Your visit is confirmed for {{ appointment }} with {{ technician_name }}. "
        "{{ tracking_url }}",
    ),
    (K.APPOINTMENT_CHANGED, A.CUSTOMER, ZH): (
        "工单{{ number }}预约时间变更",
        "您的上门时间已改为：{{ appointment }}。{{ tracking_url }}",
    ),
    (K.APPOINTMENT_CHANGED, A.CUSTOMER, EN): (
        "Appointment changed for {{ number }}",
        "Your visit is now {{ appointment }}. {{ tracking_url }}",
    ),
    (K.EN_ROUTE, A.CUSTOMER, ZH): (
        "工程师已出发",
        "工程师{{ technician_name }}（{{ technician_phone }}）已出发"
        "{% if eta %}，预计{{ eta }}到达{% endif %}，请保持电话畅通。",
    ),
    (K.EN_ROUTE, A.CUSTOMER, EN): (
        "Your engineer is on the way",
        "{{ technician_name }} ({{ technician_phone }}) is on the way"
        "{% if eta %}, expected at {{ eta }}{% endif %}. Please keep your phone on.",
    ),
    (K.COMPLETED, A.CUSTOMER, ZH): (
        "工单{{ number }}服务完成",
        "您的服务单{{ number }}已完成，请确认：{{ tracking_url }}",
    ),
    (K.COMPLETED, A.CUSTOMER, EN): (
        "Service {{ number }} completed",
        "Service order {{ number }} is completed; please confirm: {{ tracking_url }}",
    ),
    (K.RATING_INVITATION, A.CUSTOMER, ZH): (
        "请为本次服务评价",
        "感谢您的确认！请为服务单{{ number }}打分：{{ tracking_url }}",
    ),
    (K.RATING_INVITATION, A.CUSTOMER, EN): (
        "How did we do?",
        "Thank you! Please rate service order {{ number }}: {{ tracking_url }}",
    ),
    (K.FOLLOW_UP, A.CUSTOMER, ZH): (
        "服务回访",
        "服务单{{ number }}完成已两天，设备使用是否正常？有问题请回复：{{ tracking_url }}",
    ),
    (K.FOLLOW_UP, A.CUSTOMER, EN): (
        "Checking in",
        "It has been two days since order {{ number }} was completed. Is everything working? "
        "{{ tracking_url }}",
    ),
    # technician
    (K.ASSIGNED, A.TECHNICIAN, ZH): (
        "新工单{{ number }}",
        "您有新工单{{ number }}：{{ customer_name }}，{{ status }}。",
    ),
    (K.ASSIGNED, A.TECHNICIAN, EN): (
        "New job {{ number }}",
        "You have a new job {{ number }} for {{ customer_name }} ({{ status }}).",
    ),
    (K.APPOINTMENT_CONFIRMED, A.TECHNICIAN, ZH): (
        "工单{{ number }}已预约",
        "工单{{ number }}预约时间：{{ appointment }}。",
    ),
    (K.APPOINTMENT_CONFIRMED, A.TECHNICIAN, EN): (
        "Job {{ number }} booked",
        "Job {{ number }} is booked for {{ appointment }}.",
    ),
    (K.APPOINTMENT_CHANGED, A.TECHNICIAN, ZH): (
        "工单{{ number }}时间变更",
        "工单{{ number }}的时间改为：{{ appointment }}。",
    ),
    (K.APPOINTMENT_CHANGED, A.TECHNICIAN, EN): (
        "Job {{ number }} rescheduled",
        "Job {{ number }} is now {{ appointment }}.",
    ),
    (K.OFFERED, A.TECHNICIAN, ZH): (
        "新的派单邀请",
        "工单{{ number }}邀请您接单，请在{{ offer_expires }}前到“派单邀请”中接受或拒绝。",
    ),
    (K.OFFERED, A.TECHNICIAN, EN): (
        "New job offer",
        "Job {{ number }} is offered to you; accept or decline it under Offers before "
        "{{ offer_expires }}.",
    ),
    (K.URGED, A.TECHNICIAN, ZH): ("客户催单", "客户催促工单{{ number }}，请尽快处理。"),
    (K.URGED, A.TECHNICIAN, EN): (
        "Customer is waiting",
        "The customer urged job {{ number }}; please act soon.",
    ),
    # sla_warning serves the warning and the breach: sla_breached tells them apart
    (K.SLA_WARNING, A.TECHNICIAN, ZH): (
        "{% if sla_breached %}时效超时{% else %}时效预警{% endif %}",
        "工单{{ number }}{% if sla_target %}的{{ sla_target }}时效{% endif %}"
        "{% if sla_breached %}已超时{% else %}即将超时{% endif %}"
        "{% if sla_due %}（截止{{ sla_due }}）{% endif %}。",
    ),
    (K.SLA_WARNING, A.TECHNICIAN, EN): (
        "{% if sla_breached %}SLA breached{% else %}SLA warning{% endif %}",
        "Job {{ number }}{% if sla_breached %} has breached{% else %} is about to breach{% endif %}"
        "{% if sla_target %} its {{ sla_target }} target{% endif %}"
        "{% if sla_due %} (due {{ sla_due }}){% endif %}.",
    ),
    # staff
    (K.URGED, A.STAFF, ZH): ("客户催单", "客户催促工单{{ number }}（{{ status }}）。"),
    (K.URGED, A.STAFF, EN): (
        "Customer urged",
        "The customer urged order {{ number }} ({{ status }}).",
    ),
    (K.LOW_RATING, A.STAFF, ZH): ("差评提醒", "工单{{ number }}收到低分评价：{{ rating }}。"),
    (K.LOW_RATING, A.STAFF, EN): ("Low rating", "Order {{ number }} was rated {{ rating }}."),
    (K.SLA_WARNING, A.STAFF, ZH): (
        "{% if sla_breached %}时效超时{% else %}时效预警{% endif %}",
        "工单{{ number }}（{{ status }}）{% if sla_target %}的{{ sla_target }}时效{% endif %}"
        "{% if sla_breached %}已超时{% else %}即将超时{% endif %}"
        "{% if sla_due %}（截止{{ sla_due }}）{% endif %}。",
    ),
    (K.SLA_WARNING, A.STAFF, EN): (
        "{% if sla_breached %}SLA breached{% else %}SLA warning{% endif %}",
        "Order {{ number }} ({{ status }}){% if sla_breached %} has breached{% else %} is about "
        "to breach{% endif %}{% if sla_target %} its {{ sla_target }} target{% endif %}"
        "{% if sla_due %} (due {{ sla_due }}){% endif %}.",
    ),
}
