"""manage.py create_api_key --project <id> | --organization <id>: print a new key pair once."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from accounts.key_admin import create_key
from accounts.models import Organization, Project

DEFAULT_HOST = "http://127.0.0.1:3000"


class Command(BaseCommand):
    help = (
        "Create an API key pair for a project (or an organisation) and print it. "
        "The secret key is shown only now: it is stored as a salted hash and cannot be retrieved later."
    )

    def add_arguments(self, parser) -> None:
        owner = parser.add_mutually_exclusive_group(required=True)
        owner.add_argument("--project", metavar="ID", help="Id of the project the key belongs to")
        owner.add_argument(
            "--organization", metavar="ID", help="Id of the organisation, for an org-scoped key"
        )
        parser.add_argument("--note", default="", help="A note shown in the API keys list")
        parser.add_argument(
            "--host", default=DEFAULT_HOST, help=f"Server address for LANGFUSE_HOST (default {DEFAULT_HOST})"
        )

    def handle(self, *args, project: str | None, organization: str | None, note: str, host: str, **options):
        if project is not None:
            owner = Project.objects.select_related("organization").filter(pk=project).first()
            if owner is None:
                raise CommandError(f"No project with id {project!r}. {_known(Project)}")
            key, secret = create_key(None, project=owner, note=note)
            label = f"project {owner.id} ({owner.name})"
        else:
            owner = Organization.objects.filter(pk=organization).first()
            if owner is None:
                raise CommandError(f"No organisation with id {organization!r}. {_known(Organization)}")
            key, secret = create_key(None, organization=owner, note=note)
            label = f"organisation {owner.id} ({owner.name})"

        self.stdout.write(f"Created an API key for {label}.")
        self.stdout.write(f"Public key: {key.public_key}")
        self.stdout.write(f"Secret key: {secret}")
        self.stdout.write("Copy the secret key now: it is stored only as a hash and cannot be shown again.")
        self.stdout.write("")
        self.stdout.write(
            f"LANGFUSE_HOST={host.rstrip('/')} LANGFUSE_PUBLIC_KEY={key.public_key} LANGFUSE_SECRET_KEY={secret}"
        )


def _known(model) -> str:
    ids = list(model.objects.order_by("pk").values_list("pk", flat=True)[:11])
    if not ids:
        return f"There are no {model._meta.verbose_name_plural} yet."
    shown = ", ".join(ids[:10]) + (", ..." if len(ids) > 10 else "")
    return f"Known ids: {shown}"
