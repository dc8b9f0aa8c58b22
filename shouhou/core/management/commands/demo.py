"""``shouhou demo``: build (or complete) the demo data; running it again changes nothing."""

from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand, CommandParser


class Command(BaseCommand):
    help = (
        "Load realistic demo data in Chinese: phone repair (深圳), home appliances (杭州) and "
        "car repair (成都), each with work orders in every status made through the services. "
        "Deterministic and idempotent: a second run changes nothing."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        from shouhou.demo.build import VERTICALS

        parser.add_argument(
            "--vertical",
            choices=[*VERTICALS, "all"],
            default="all",
            help="Which vertical to build (default: all).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        from shouhou.demo.build import VERTICALS, build_demo, row_counts

        verticals = VERTICALS if options["vertical"] == "all" else (options["vertical"],)
        before = row_counts()
        started = time.perf_counter()
        logins = build_demo(verticals=verticals)
        elapsed = time.perf_counter() - started
        after = row_counts()

        self.stdout.write(f"Demo data for {', '.join(verticals)}: rows created")
        for label, count in after.items():
            self.stdout.write(f"  {label:<28} {count - before[label]:>6}   (total {count})")
        created = sum(after.values()) - sum(before.values())
        self.stdout.write(
            self.style.SUCCESS(f"{created} rows created in {elapsed:.2f} s")
            if created
            else self.style.SUCCESS(f"Nothing to do: the demo data is complete ({elapsed:.2f} s)")
        )
        self.stdout.write("\nDemo logins (mobile number / password):")
        for login in logins:
            self.stdout.write(
                f"  {login.role_label:<24} {login.phone}  /  {login.password}   {login.note}"
            )
