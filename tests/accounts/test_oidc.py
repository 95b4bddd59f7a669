"""The SSO backend's decisions (accounts/oidc.py); the whole flow runs in tests/e2e/test_sso.py."""

from __future__ import annotations

import pytest
from allauth.account.models import EmailAddress
from django.contrib.messages import get_messages
from django.contrib.messages.storage.fallback import FallbackStorage
from django.contrib.sessions.backends.db import SessionStore
from django.core.exceptions import SuspiciousOperation
from django.test import RequestFactory

from accounts.models import OrganizationMembership, Role, User
from accounts.oidc import OidcBackend
from tests.factories import make_org, make_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def sso_on(settings):
    settings.SSO_ENABLED = True
    settings.SSO_NAME = "Acme SSO"
    settings.SSO_ISSUER = "http://127.0.0.1:9"
    settings.SSO_ALLOWED_DOMAINS = []
    settings.SSO_DEFAULT_ORG_ID = ""
    settings.SSO_DEFAULT_ORG_ROLE = "VIEWER"
    return settings


def backend() -> OidcBackend:
    request = RequestFactory().get("/auth/oidc/callback/")
    request.session = SessionStore()
    request._messages = FallbackStorage(request)
    sso = OidcBackend()
    sso.request = request
    return sso


def messages_of(sso: OidcBackend) -> list[str]:
    return [str(m) for m in get_messages(sso.request)]


def claims(email: str = "ada@acme.test", **extra) -> dict:
    return {"sub": "1", "email": email, "email_verified": True, "name": "Ada Lovelace", **extra}


def test_sso_routes_answer_404_when_sso_is_off(client):
    assert client.get("/auth/oidc/authenticate/").status_code == 404
    assert client.get("/auth/oidc/callback/?code=x&state=y").status_code == 404


def test_the_login_page_has_no_sso_button_when_sso_is_off(client):
    assert b"Sign in with" not in client.get("/auth/login/").content


def test_the_login_page_shows_the_named_button_when_sso_is_on(client, sso_on):
    html = client.get("/auth/login/?next=/somewhere").content.decode()
    assert 'action="/auth/oidc/authenticate/"' in html
    assert "Sign in with Acme SSO" in html
    assert 'name="next" value="/somewhere"' in html


def test_an_unverified_address_is_refused(sso_on):
    sso = backend()
    assert not sso.verify_claims(claims(email_verified=False))
    assert messages_of(sso) == ["Acme SSO has not verified the email address ada@acme.test."]


def test_claims_without_an_email_are_refused(sso_on):
    sso = backend()
    assert not sso.verify_claims({"sub": "1"})
    assert "did not share an email address" in messages_of(sso)[0]


def test_allowed_domains_are_compared_without_case(sso_on):
    sso_on.SSO_ALLOWED_DOMAINS = ["acme.test"]
    assert backend().verify_claims(claims("Ada@ACME.test"))
    sso = backend()
    assert not sso.verify_claims(claims("ada@acme.test.evil.example"))
    assert "limited to acme.test addresses" in messages_of(sso)[0]


def test_a_new_user_gets_a_verified_address_and_the_default_membership(sso_on):
    org = make_org("Acme")
    sso_on.SSO_DEFAULT_ORG_ID = org.id
    sso_on.SSO_DEFAULT_ORG_ROLE = "MEMBER"
    user = backend().create_user(claims("Ada@Acme.test"))
    assert (user.email, user.name, user.has_usable_password()) == ("ada@acme.test", "Ada Lovelace", False)
    assert EmailAddress.objects.get(user=user).verified
    assert OrganizationMembership.objects.get(user=user, organization=org).role == Role.MEMBER


def test_an_unknown_default_organisation_adds_no_membership(sso_on):
    sso_on.SSO_DEFAULT_ORG_ID = "no-such-org"
    user = backend().create_user(claims())
    assert not OrganizationMembership.objects.filter(user=user).exists()


def test_an_existing_account_is_found_by_email_in_any_case(sso_on):
    person = make_user("grace@acme.test")
    sso = backend()
    assert list(sso.filter_users_by_claims(claims("GRACE@acme.test"))) == [person]
    assert sso.update_user(person, claims("grace@acme.test")) == person


def test_closed_sign_up_refuses_a_new_sso_account_but_not_an_existing_one(sso_on):
    sso_on.ACCOUNT_ALLOW_REGISTRATION = False
    person = make_user("grace@acme.test")
    sso = backend()
    sso.get_userinfo = lambda access_token, id_token, payload: claims("newcomer@acme.test")
    with pytest.raises(SuspiciousOperation):
        sso.create_user(claims("newcomer@acme.test"))
    assert "sign-up is closed" in messages_of(sso)[0]
    assert not User.objects.filter(email="newcomer@acme.test").exists()
    sso.get_userinfo = lambda access_token, id_token, payload: claims("grace@acme.test")
    assert sso.get_or_create_user("access", "id", {}) == person
