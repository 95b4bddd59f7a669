"""What the sign-in page offers besides the allauth form: the SSO button and password login."""

from __future__ import annotations

from django import template
from django.conf import settings

register = template.Library()


@register.simple_tag
def sso_button_label() -> str:
    """'Sign in with <AUTH_CUSTOM_NAME>' when SSO is configured, else ''."""
    return f"Sign in with {settings.SSO_NAME}" if settings.SSO_ENABLED else ""


@register.simple_tag
def password_login_enabled() -> bool:
    return settings.PASSWORD_LOGIN_ENABLED
