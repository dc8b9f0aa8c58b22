"""PostgreSQL: seven sequences for the daily work-order count (services.workorder_number_next).

Today's sequence continues after the numbers the counter table already gave out today, so no
number is handed out twice when this runs on a live system. SQLite keeps the counter table.
"""

import datetime as dt

from django.db import migrations
from django.utils import timezone

SEQUENCES = 7


def _name(day: dt.date) -> str:
    return f"workorders_number_day{day.toordinal() % SEQUENCES}"


def create_sequences(apps, schema_editor):
    connection = schema_editor.connection
    if connection.vendor != "postgresql":
        return
    Counter = apps.get_model("workorders", "WorkOrderNumberSequence")
    today = timezone.localdate()
    with connection.cursor() as cursor:
        for slot in range(SEQUENCES):
            cursor.execute(f"CREATE SEQUENCE IF NOT EXISTS workorders_number_day{slot}")
        for offset in (-1, 0, 1):
            day = today + dt.timedelta(days=offset)
            row = Counter.objects.filter(day=day.strftime("%y%m%d"), last__gt=0).first()
            if row is not None:
                cursor.execute("SELECT setval(%s, %s, false)", [_name(day), row.last + 1])


def drop_sequences(apps, schema_editor):
    connection = schema_editor.connection
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        for slot in range(SEQUENCES):
            cursor.execute(f"DROP SEQUENCE IF EXISTS workorders_number_day{slot}")


class Migration(migrations.Migration):
    dependencies = [
        ("workorders", "0003_event_types_for_sla"),
    ]

    operations = [
        migrations.RunPython(create_sequences, drop_sequences, elidable=False),
    ]
