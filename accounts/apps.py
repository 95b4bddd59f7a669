from __future__ import annotations

from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "accounts"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from django.contrib.auth.signals import user_logged_in

        from accounts.audit import record_sign_in

        # The one signal receiver of the app: every way of signing in (password, emailed code,
        # SSO) ends in django.contrib.auth.login, so sign-ins are audited in one place.
        user_logged_in.connect(record_sign_in, dispatch_uid="accounts.audit.sign_in")
