"""Sign-in settings read from the environment (each case imports settings.py in a fresh process)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parents[2]
NAMES = [
    "EMAIL_BACKEND",
    "EMAIL_HOST",
    "EMAIL_PORT",
    "EMAIL_HOST_USER",
    "EMAIL_USE_TLS",
    "ACCOUNT_SIGNUP_FIELDS",
    "ACCOUNT_EMAIL_VERIFICATION",
    "PASSWORD_LOGIN_ENABLED",
    "SSO_ENABLED",
    "SSO_ALLOWED_DOMAINS",
    "AUTHENTICATION_BACKENDS",
]
CLEARED = ("SMTP_CONNECTION_URL", "AUTH_", "LANGFUSE_DEFAULT_ORG")


def settings_with(**env: str) -> subprocess.CompletedProcess:
    base = {k: v for k, v in os.environ.items() if not k.startswith(CLEARED)}
    code = (
        "import json; from langfuse_ui import settings as s; "
        f"print(json.dumps({{n: getattr(s, n, None) for n in {NAMES!r}}}, default=sorted))"
    )
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=BASE_DIR,
        env={**base, "DEBUG": "true", **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


def values(**env: str) -> dict:
    result = settings_with(**env)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_defaults_are_console_email_password_login_and_no_sso():
    found = values()
    assert found["EMAIL_BACKEND"] == "django.core.mail.backends.console.EmailBackend"
    assert found["PASSWORD_LOGIN_ENABLED"] is True
    assert found["ACCOUNT_EMAIL_VERIFICATION"] == "none"
    assert found["SSO_ENABLED"] is False
    assert "accounts.oidc.OidcBackend" not in found["AUTHENTICATION_BACKENDS"]


def test_smtp_connection_url_configures_the_smtp_backend():
    found = values(SMTP_CONNECTION_URL="smtp://mailer:pw@smtp.example.com:587/?tls=true")
    assert found["EMAIL_BACKEND"] == "django.core.mail.backends.smtp.EmailBackend"
    assert (found["EMAIL_HOST"], found["EMAIL_PORT"], found["EMAIL_HOST_USER"], found["EMAIL_USE_TLS"]) == (
        "smtp.example.com",
        587,
        "mailer",
        True,
    )


def test_disabling_password_login_drops_the_password_and_requires_verified_addresses():
    found = values(AUTH_DISABLE_USERNAME_PASSWORD="true")
    assert found["PASSWORD_LOGIN_ENABLED"] is False
    assert found["ACCOUNT_SIGNUP_FIELDS"] == ["email*"]
    assert found["ACCOUNT_EMAIL_VERIFICATION"] == "mandatory"


def test_verification_can_be_required():
    assert values(AUTH_EMAIL_VERIFICATION_REQUIRED="true")["ACCOUNT_EMAIL_VERIFICATION"] == "mandatory"


def test_sso_is_on_with_client_id_secret_and_issuer():
    found = values(
        AUTH_CUSTOM_CLIENT_ID="langfuse",
        AUTH_CUSTOM_CLIENT_SECRET="secret",
        AUTH_CUSTOM_ISSUER="https://idp.example.com/",
        AUTH_CUSTOM_ALLOWED_DOMAINS="Acme.test, @example.org",
    )
    assert found["SSO_ENABLED"] is True
    assert found["SSO_ALLOWED_DOMAINS"] == ["acme.test", "example.org"]
    assert "accounts.oidc.OidcBackend" in found["AUTHENTICATION_BACKENDS"]


def test_half_configured_sso_refuses_to_start_naming_what_is_missing():
    result = settings_with(AUTH_CUSTOM_CLIENT_ID="langfuse")
    assert result.returncode != 0
    assert "AUTH_CUSTOM_CLIENT_SECRET, AUTH_CUSTOM_ISSUER" in result.stderr


def test_an_unknown_default_role_refuses_to_start():
    result = settings_with(LANGFUSE_DEFAULT_ORG_ROLE="boss")
    assert "LANGFUSE_DEFAULT_ORG_ROLE='BOSS' is not a role" in result.stderr
