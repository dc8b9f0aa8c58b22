"""Print a new VAPID key pair for browser push, as environment lines (docs/configuration.md)."""

from __future__ import annotations

from typing import Any

from cryptography.hazmat.primitives.asymmetric import ec
from django.core.management.base import BaseCommand, CommandParser

from shouhou.notifications.providers import private_key_b64, public_key_b64


class Command(BaseCommand):
    help = "Print a new VAPID key pair (WEBPUSH_VAPID_PRIVATE_KEY / WEBPUSH_VAPID_PUBLIC_KEY)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--subject",
            default="mailto:ops@example.com",
            help="The contact push services may write to (mailto: or https:).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        key = ec.generate_private_key(ec.SECP256R1())
        self.stdout.write(f"WEBPUSH_VAPID_PRIVATE_KEY={private_key_b64(key)}")
        self.stdout.write(f"WEBPUSH_VAPID_PUBLIC_KEY={public_key_b64(key)}")
        self.stdout.write(f"WEBPUSH_VAPID_SUBJECT={options['subject']}")
