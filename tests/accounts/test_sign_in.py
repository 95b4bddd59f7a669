"""Sign-in by emailed code, passwordless mode, email verification, rate limits, no account enumeration.

Django's test runner swaps in the locmem email backend, so sent mail lands in mail.outbox.
"""

from __future__ import annotations

import re

import pytest
from django.core import mail
from django.core.cache import cache
from django.test import Client

from tests.factories import PASSWORD, make_user

pytestmark = pytest.mark.django_db

CODE = re.compile(r"^([A-Z0-9]{4}-[A-Z0-9]{4})$", re.M)
PASSWORDLESS = {"PASSWORD_LOGIN_ENABLED": False, "ACCOUNT_SIGNUP_FIELDS": ["email*"]}


@pytest.fixture(autouse=True)
def _fresh_rate_limits():
    """allauth counts attempts in the cache; each test starts with none."""
    cache.clear()
    yield
    cache.clear()


def request_code(client: Client, email: str):
    return client.post("/auth/login/code/", {"email": email})


def code_from(message) -> str:
    found = CODE.search(message.body)
    assert found, f"no sign-in code in: {message.body}"
    return found.group(1)


def signed_in_user_id(client: Client) -> str | None:
    return client.session.get("_auth_user_id")


def test_a_person_signs_in_with_the_code_sent_by_email(client, team):
    response = request_code(client, team.viewer.email)
    assert response.status_code == 302
    assert response["Location"] == "/auth/login/code/confirm/"
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == [team.viewer.email]

    response = client.post("/auth/login/code/confirm/", {"code": code_from(mail.outbox[0])})
    assert response.status_code == 302
    assert signed_in_user_id(client) == str(team.viewer.pk)


def test_a_wrong_code_does_not_sign_in(client, team):
    request_code(client, team.viewer.email)
    response = client.post("/auth/login/code/confirm/", {"code": "AAAA-AAAA"})
    assert response.status_code == 200
    assert signed_in_user_id(client) is None


def test_the_code_sent_page_looks_the_same_for_an_unknown_address(team):
    def code_sent_page(email: str) -> str:
        client = Client()
        response = request_code(client, email)
        assert response.status_code == 302
        html = client.get(response["Location"]).content.decode()
        html = html.replace(email, "EMAIL")
        return re.sub(r'(csrfmiddlewaretoken" value="|"X-CSRFToken": ")[^"]+', r"\1TOKEN", html)

    assert code_sent_page(team.viewer.email) == code_sent_page("nobody@elsewhere.test")
    assert "sent a code to" in code_sent_page("nobody@elsewhere.test")
    # The unknown address is told by email that it has no account; no code is sent to it.
    unknown_mail = [m for m in mail.outbox if m.to == ["nobody@elsewhere.test"]]
    assert not CODE.search(unknown_mail[-1].body)


def test_the_login_page_offers_a_code_beside_the_password(client):
    html = client.get("/auth/login/").content.decode()
    assert 'name="password"' in html
    assert 'href="/auth/login/code/"' in html


def test_password_reset_mails_a_link_to_a_known_address(client, team):
    response = client.post("/auth/password/reset/", {"email": team.viewer.email})
    assert response.status_code == 302
    assert len(mail.outbox) == 1
    link = re.search(r"http://testserver(/auth/password/reset/key/\S+)", mail.outbox[0].body)
    assert link, mail.outbox[0].body
    form_page = client.get(link.group(1), follow=True)
    assert b'name="password1"' in form_page.content


def test_password_reset_answers_the_same_for_an_unknown_address(client, team):
    known = client.post("/auth/password/reset/", {"email": team.viewer.email})
    unknown = client.post("/auth/password/reset/", {"email": "nobody@elsewhere.test"})
    assert known.status_code == unknown.status_code == 302
    assert known["Location"] == unknown["Location"]


def test_failed_logins_are_rate_limited_per_address(client):
    person = make_user("target@acme.test")
    for _ in range(5):
        response = client.post("/auth/login/", {"login": person.email, "password": "wrong-password"})
        assert response.status_code == 200
    response = client.post("/auth/login/", {"login": person.email, "password": PASSWORD})
    assert signed_in_user_id(client) is None
    assert b"Too many failed login attempts" in response.content


def test_code_requests_are_rate_limited_per_address(client, team):
    for _ in range(3):
        assert request_code(Client(), team.viewer.email).status_code == 302
    response = request_code(client, team.viewer.email)
    assert response.status_code == 200
    assert b"Too many failed login attempts" in response.content
    assert len(mail.outbox) == 3


def test_signup_with_required_verification_mails_a_code_and_waits_for_it(client, settings):
    settings.ACCOUNT_EMAIL_VERIFICATION = "mandatory"
    settings.ACCOUNT_EMAIL_VERIFICATION_BY_CODE_ENABLED = True
    response = client.post(
        "/auth/signup/",
        {"email": "new@acme.test", "password1": "a-Long-passw0rd", "password2": "a-Long-passw0rd"},
    )
    assert response.status_code == 302
    assert signed_in_user_id(client) is None
    assert len(mail.outbox) == 1
    client.post(response["Location"], {"code": code_from(mail.outbox[0])})
    assert signed_in_user_id(client) is not None


class TestPasswordLoginDisabled:
    @pytest.fixture(autouse=True)
    def _passwordless(self, settings):
        for name, value in PASSWORDLESS.items():
            setattr(settings, name, value)
        settings.ACCOUNT_EMAIL_VERIFICATION = "mandatory"
        settings.ACCOUNT_EMAIL_VERIFICATION_BY_CODE_ENABLED = True

    def test_the_login_page_has_no_password_field(self, client):
        html = client.get("/auth/login/").content.decode()
        assert 'name="login"' in html
        assert 'type="password"' not in html
        assert "Email me a sign-in code" in html
        assert "/auth/password/reset/" not in html

    def test_a_post_with_the_right_password_does_not_sign_in(self, client, team):
        response = client.post("/auth/login/", {"login": team.viewer.email, "password": PASSWORD})
        assert signed_in_user_id(client) is None
        # The form only knows the address: it sends a code instead.
        assert response.status_code == 302
        assert response["Location"] == "/auth/login/code/confirm/"

    def test_the_login_form_signs_in_with_the_mailed_code(self, client, team):
        response = client.post("/auth/login/", {"login": team.viewer.email})
        assert response["Location"] == "/auth/login/code/confirm/"
        client.post("/auth/login/code/confirm/", {"code": code_from(mail.outbox[0])})
        assert signed_in_user_id(client) == str(team.viewer.pk)

    def test_signup_asks_no_password_and_proves_the_address_first(self, client):
        assert b'type="password"' not in client.get("/auth/signup/").content
        response = client.post("/auth/signup/", {"email": "fresh@acme.test"})
        assert response.status_code == 302
        assert signed_in_user_id(client) is None
        client.post(response["Location"], {"code": code_from(mail.outbox[0])})
        assert signed_in_user_id(client) is not None
