"""How django-allauth fits this server: sign-up follows AUTH_DISABLE_SIGNUP; a sign-in code proves
the address it was sent to."""

from __future__ import annotations

from typing import Any

from allauth.account.adapter import DefaultAccountAdapter
from allauth.account.authentication import get_authentication_records
from allauth.account.models import EmailAddress
from django.conf import settings
from django.http import HttpRequest, HttpResponse

from accounts.models import User


class AccountAdapter(DefaultAccountAdapter):
    def is_open_for_signup(self, request: HttpRequest) -> bool:
        """ACCOUNT_ALLOW_REGISTRATION is `not AUTH_DISABLE_SIGNUP` (see settings)."""
        return getattr(settings, "ACCOUNT_ALLOW_REGISTRATION", True)

    def pre_login(self, request: HttpRequest, user: User, **kwargs: Any) -> HttpResponse | None:
        mark_email_verified_by_code(request, user)
        return super().pre_login(request, user, **kwargs)


def mark_email_verified_by_code(request: HttpRequest, user: User) -> None:
    """After a sign-in code, the user's address counts as verified.

    allauth only marks an existing EmailAddress row verified; accounts made by invitations, the
    organisation API or LANGFUSE_INIT_* have none, and with mandatory verification they would be
    asked to verify the address the code just proved.
    """
    records = get_authentication_records(request, user)
    last = records[-1] if records else {}
    email = (last.get("email") or "").lower()
    if last.get("method") != "code" or email != user.email.lower():
        return
    address = EmailAddress.objects.filter(user=user, email__iexact=email).first()
    if address is None:
        primary = not EmailAddress.objects.filter(user=user, primary=True).exists()
        EmailAddress.objects.create(user=user, email=email, verified=True, primary=primary)
    elif not address.verified:
        address.verified = True
        address.save(update_fields=["verified"])
