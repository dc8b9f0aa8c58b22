"""``shouhou run``: migrate, load demo data into an empty database, start worker and server."""

from __future__ import annotations

import os
import subprocess
import sys
from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandParser


class Command(BaseCommand):
    help = "Set up the database, load demo data if it is empty, and start web server + worker."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--addrport", default=os.environ.get("SHOUHOU_ADDRPORT", "127.0.0.1:8000")
        )
        parser.add_argument("--no-demo", action="store_true", help="Never load demo data.")
        parser.add_argument("--no-worker", action="store_true", help="Do not start a worker.")

    def handle(self, *args: Any, **options: Any) -> None:
        from shouhou.accounts.models import Organization

        call_command("migrate", interactive=False, verbosity=0)
        self.stdout.write("Database ready: " + str(settings.DATABASES["default"]["NAME"]))
        logins = None
        if not options["no_demo"] and not Organization.objects.exists():
            self.stdout.write("Empty database: loading demo data for all verticals ...")
            from shouhou.demo.build import build_demo

            logins = build_demo(verticals=("phone", "appliance", "auto"))
        if logins is None:
            from shouhou.demo.build import demo_logins

            logins = demo_logins()
        worker = None
        if not options["no_worker"] and settings.TASK_BACKEND != "immediate":
            # One worker: background tasks plus the periodic scheduler (outbox sweeper ...).
            worker = subprocess.Popen([sys.executable, "-m", "shouhou", "worker"])
        url = f"http://{options['addrport']}"
        self.stdout.write(self.style.SUCCESS(f"\nShouhou is starting on {url}/"))
        self.stdout.write(f"  API docs: {url}/api/docs/   admin: {url}/admin/\n")
        if logins:
            self.stdout.write("Demo logins (mobile number / password; SMS codes show in this log):")
            for login in logins:
                self.stdout.write(
                    f"  {login.role_label:<28} {login.phone}  /  {login.password}   {login.note}"
                )
        self.stdout.write("")
        try:
            call_command("runserver", options["addrport"], use_reloader=False)
        finally:
            if worker is not None:
                worker.terminate()
                worker.wait(timeout=10)
