from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from shouhou.dispatch.offers import offers_expire_due


class Command(BaseCommand):
    help = "Expire due dispatch offers (moving each to the next technician) and pool entries."

    def handle(self, *args: Any, **options: Any) -> None:
        closed = offers_expire_due()
        self.stdout.write(f"{closed} offer(s) or pool entries expired")
