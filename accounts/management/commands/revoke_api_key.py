"""manage.py revoke_api_key <public_key>: the key stops working at once."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from accounts.key_admin import revoke_key
from accounts.models import ApiKey


class Command(BaseCommand):
    help = "Revoke an API key by its public key (pk-lf-...). Requests with it are refused from now on."

    def add_arguments(self, parser) -> None:
        parser.add_argument("public_key", help="The public key, pk-lf-...")

    def handle(self, *args, public_key: str, **options) -> None:
        key = ApiKey.objects.filter(public_key=public_key.strip()).first()
        if key is None:
            raise CommandError(f"No API key with public key {public_key!r}")
        owner = f"project {key.project_id}" if key.project_id else f"organisation {key.organization_id}"
        if key.revoked_at is not None:
            self.stdout.write(
                f"{key.public_key} ({owner}) was already revoked at {key.revoked_at:%Y-%m-%d %H:%M:%S %Z}."
            )
            return
        revoke_key(key, None)  # audited, with no user: the operator acted on the server
        self.stdout.write(f"Revoked {key.public_key} ({owner}).")
