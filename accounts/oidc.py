"""SSO with any OpenID Connect provider through mozilla-django-oidc (AUTH_CUSTOM_* variables).

The provider's endpoints come from {issuer}/.well-known/openid-configuration, fetched on first use
and kept for the life of the process. A person signs in when the provider vouches for a verified
email address (in an allowed domain, when AUTH_CUSTOM_ALLOWED_DOMAINS is set); the first sign-in
creates the account and, with LANGFUSE_DEFAULT_ORG_ID, adds it to that organisation with
LANGFUSE_DEFAULT_ORG_ROLE.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

import requests
from allauth.account.models import EmailAddress
from django.conf import settings
from django.contrib import messages
from django.core.exceptions import SuspiciousOperation
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from mozilla_django_oidc.auth import OIDCAuthenticationBackend
from mozilla_django_oidc.utils import import_from_settings
from mozilla_django_oidc.views import OIDCAuthenticationCallbackView, OIDCAuthenticationRequestView

from accounts.memberships import add_member
from accounts.models import Organization, OrganizationMembership, Role, User

logger = logging.getLogger(__name__)

DISCOVERY_ENDPOINTS = {
    "OIDC_OP_AUTHORIZATION_ENDPOINT": "authorization_endpoint",
    "OIDC_OP_TOKEN_ENDPOINT": "token_endpoint",
    "OIDC_OP_USER_ENDPOINT": "userinfo_endpoint",
    "OIDC_OP_JWKS_ENDPOINT": "jwks_uri",
}

_discovered: dict[str, dict[str, Any]] = {}
_discovery_lock = threading.Lock()


class SsoUnavailable(Exception):
    """The provider's discovery document cannot be fetched or lacks an endpoint."""


def discovery(issuer: str) -> dict[str, Any]:
    """The issuer's discovery document, fetched once per process (a failure is retried next time)."""
    with _discovery_lock:
        if issuer not in _discovered:
            url = f"{issuer}/.well-known/openid-configuration"
            try:
                response = requests.get(url, timeout=10)
                response.raise_for_status()
                document = response.json()
            except (requests.RequestException, ValueError) as exc:
                raise SsoUnavailable(f"cannot read {url}: {exc}") from exc
            missing = [key for key in DISCOVERY_ENDPOINTS.values() if not document.get(key)]
            if missing:
                raise SsoUnavailable(f"{url} lacks {', '.join(missing)}")
            _discovered[issuer] = document
        return _discovered[issuer]


def forget_discovery() -> None:
    with _discovery_lock:
        _discovered.clear()


def sso_setting(attr: str, *default: Any) -> Any:
    """mozilla-django-oidc's settings lookup, with the OP endpoints taken from discovery."""
    if attr in DISCOVERY_ENDPOINTS:
        if not settings.SSO_ENABLED:
            return ""
        return discovery(settings.SSO_ISSUER)[DISCOVERY_ENDPOINTS[attr]]
    return import_from_settings(attr, *default)


def email_domain(email: str) -> str:
    return email.rsplit("@", 1)[-1].lower()


class OidcBackend(OIDCAuthenticationBackend):
    """Reads the endpoints lazily: a password sign-in never waits for the SSO provider."""

    get_settings = staticmethod(sso_setting)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self.OIDC_RP_CLIENT_ID = settings.OIDC_RP_CLIENT_ID
        self.OIDC_RP_CLIENT_SECRET = settings.OIDC_RP_CLIENT_SECRET
        self.OIDC_RP_SIGN_ALGO = settings.OIDC_RP_SIGN_ALGO
        self.OIDC_RP_IDP_SIGN_KEY = None
        self.UserModel = User

    @property
    def OIDC_OP_TOKEN_ENDPOINT(self) -> str:
        return sso_setting("OIDC_OP_TOKEN_ENDPOINT")

    @property
    def OIDC_OP_USER_ENDPOINT(self) -> str:
        return sso_setting("OIDC_OP_USER_ENDPOINT")

    @property
    def OIDC_OP_JWKS_ENDPOINT(self) -> str:
        return sso_setting("OIDC_OP_JWKS_ENDPOINT")

    def refuse(self, message: str) -> bool:
        logger.info("SSO sign-in refused: %s", message)
        messages.error(self.request, message)
        self.request.sso_refused = True
        return False

    def verify_claims(self, claims: dict[str, Any]) -> bool:
        email = (claims.get("email") or "").strip().lower()
        if not email or "@" not in email:
            return self.refuse(f"{settings.SSO_NAME} did not share an email address, so you cannot sign in.")
        if claims.get("email_verified") is not True:
            return self.refuse(f"{settings.SSO_NAME} has not verified the email address {email}.")
        allowed = settings.SSO_ALLOWED_DOMAINS
        if allowed and email_domain(email) not in allowed:
            return self.refuse(
                f"Sign-in with {settings.SSO_NAME} is limited to {', '.join(allowed)} addresses; "
                f"{email} is not one of them."
            )
        return True

    def filter_users_by_claims(self, claims: dict[str, Any]):
        return User.objects.filter(email__iexact=claims["email"].strip())

    def create_user(self, claims: dict[str, Any]) -> User:
        email = claims["email"].strip().lower()
        if not settings.ACCOUNT_ALLOW_REGISTRATION:  # AUTH_DISABLE_SIGNUP covers SSO too, as in Langfuse
            self.refuse(
                f"There is no account for {email} and sign-up is closed: "
                "ask an owner or admin of your organisation to invite you."
            )
            raise SuspiciousOperation("sign-up is closed")  # mozilla-django-oidc turns it into a failure
        with transaction.atomic():
            user = User.objects.create_user(email, name=claim_name(claims))  # no usable password
            EmailAddress.objects.create(user=user, email=email, verified=True, primary=True)
            provision_default_membership(user)
        return user

    def update_user(self, user: User, claims: dict[str, Any]) -> User:
        name = claim_name(claims)
        if name and not user.name:
            user.name = name
            user.save(update_fields=["name"])
        email = user.email.lower()
        EmailAddress.objects.filter(user=user, email__iexact=email, verified=False).update(verified=True)
        return user


def claim_name(claims: dict[str, Any]) -> str:
    name = claims.get("name") or " ".join(
        part for part in (claims.get("given_name"), claims.get("family_name")) if part
    )
    return str(name or "")[:200]


def provision_default_membership(user: User) -> OrganizationMembership | None:
    """LANGFUSE_DEFAULT_ORG_ID/ROLE: a new SSO user joins that organisation with that role."""
    org_id = settings.SSO_DEFAULT_ORG_ID
    if not org_id:
        return None
    org = Organization.objects.filter(pk=org_id).first()
    if org is None:
        logger.warning("LANGFUSE_DEFAULT_ORG_ID=%s names no organisation: %s joins none", org_id, user.email)
        return None
    return add_member(org, user, Role(settings.SSO_DEFAULT_ORG_ROLE), actor=user)


class SsoStartView(OIDCAuthenticationRequestView):
    """/auth/oidc/authenticate/: off (404) unless SSO is configured."""

    get_settings = staticmethod(sso_setting)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super(OIDCAuthenticationRequestView, self).__init__(*args, **kwargs)
        self.OIDC_RP_CLIENT_ID = settings.OIDC_RP_CLIENT_ID

    @property
    def OIDC_OP_AUTH_ENDPOINT(self) -> str:
        return sso_setting("OIDC_OP_AUTHORIZATION_ENDPOINT")

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not settings.SSO_ENABLED:
            raise Http404("SSO is not configured")
        try:
            return super().dispatch(request, *args, **kwargs)
        except SsoUnavailable as exc:
            logger.error("SSO provider unavailable: %s", exc)
            messages.error(request, f"{settings.SSO_NAME} cannot be reached right now; try again later.")
            return redirect_to_login()


class SsoCallbackView(OIDCAuthenticationCallbackView):
    """/auth/oidc/callback/: off (404) unless SSO is configured."""

    get_settings = staticmethod(sso_setting)

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not settings.SSO_ENABLED:
            raise Http404("SSO is not configured")
        try:
            return super().dispatch(request, *args, **kwargs)
        except SsoUnavailable as exc:
            logger.error("SSO provider unavailable: %s", exc)
            messages.error(request, f"{settings.SSO_NAME} cannot be reached right now; try again later.")
            return redirect_to_login()
        except requests.RequestException as exc:
            # The token or user-info endpoint refused (an expired or reused code) or failed: no 500.
            logger.warning("SSO code exchange failed: %s", exc)
            messages.error(request, f"Sign-in with {settings.SSO_NAME} did not succeed; try again.")
            return redirect_to_login()

    def login_failure(self) -> HttpResponse:
        if not getattr(self.request, "sso_refused", False):
            messages.error(self.request, f"Sign-in with {settings.SSO_NAME} did not succeed.")
        return super().login_failure()


def redirect_to_login() -> HttpResponse:
    return redirect(settings.LOGIN_URL)
