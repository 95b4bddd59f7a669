"""manage.py reset_password <email> [--password P]: for admins without email delivery set up."""

from __future__ import annotations

import secrets

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from accounts.models import User

MIN_LENGTH = 8


def generate_password() -> str:
    """24 URL-safe characters (144 random bits)."""
    return secrets.token_urlsafe(18)


class Command(BaseCommand):
    help = "Set a user's password. Without --password a strong random password is generated and printed once."

    def add_arguments(self, parser) -> None:
        parser.add_argument("email", help="The user's email address")
        parser.add_argument("--password", help=f"The new password ({MIN_LENGTH} characters or more)")

    def handle(self, *args, email: str, password: str | None, **options) -> None:
        user = User.objects.filter(email__iexact=email.strip()).first()
        if user is None:
            raise CommandError(f"No user with email {email!r}")
        generated = password is None
        if generated:
            password = generate_password()
        elif len(password) < MIN_LENGTH:
            raise CommandError(f"The password is too short: use at least {MIN_LENGTH} characters")
        else:
            try:
                validate_password(password, user)
            except ValidationError as error:
                raise CommandError(" ".join(error.messages)) from error
        user.set_password(password)
        user.save(update_fields=["password"])
        if generated:
            self.stdout.write(f"New password for {user.email}: {password}")
            self.stdout.write("It is shown only now; pass it on safely and ask the user to change it.")
        else:
            self.stdout.write(f"Password for {user.email} changed.")
