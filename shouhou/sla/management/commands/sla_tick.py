"""Run the SLA job once: warn about clocks past their warning point, record breaches."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from shouhou.sla.services import sla_tick


class Command(BaseCommand):
    help = "Record SLA warnings and breaches that are due (the worker does this every minute)."

    def handle(self, *args: Any, **options: Any) -> None:
        report = sla_tick()
        self.stdout.write(f"{len(report.warned)} warned, {len(report.breached)} breached")
