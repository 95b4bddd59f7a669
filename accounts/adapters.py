"""How django-allauth fits this server: sign-up follows AUTH_DISABLE_SIGNUP."""

from __future__ import annotations

from allauth.account.adapter import DefaultAccountAdapter
from django.conf import settings
from django.http import HttpRequest


class AccountAdapter(DefaultAccountAdapter):
    def is_open_for_signup(self, request: HttpRequest) -> bool:
        """ACCOUNT_ALLOW_REGISTRATION is `not AUTH_DISABLE_SIGNUP` (see settings)."""
        return getattr(settings, "ACCOUNT_ALLOW_REGISTRATION", True)
