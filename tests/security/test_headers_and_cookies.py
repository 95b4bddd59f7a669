"""Security headers on every page, no inline script to weaken them, and production cookies."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import requests
from django.conf import settings
from django.contrib.auth.hashers import PBKDF2PasswordHasher

from tests.factories import PASSWORD, make_user
from tests.live import BASE_DIR, database_url_of_current_connection, start_server

TEMPLATES = Path(settings.BASE_DIR) / "templates"
HTML_TEMPLATES = sorted(TEMPLATES.rglob("*.html"))


def directives(policy: str) -> dict[str, list[str]]:
    parsed = {}
    for part in policy.split(";"):
        name, *sources = part.split()
        parsed[name] = sources
    return parsed


@pytest.mark.django_db
def test_pages_send_a_policy_without_inline_script_or_framing(client, team):
    client.force_login(team.viewer)
    for url in ["/auth/login/", f"/project/{team.project.id}/traces", "/api/public/health"]:
        response = client.get(url)
        policy = directives(response["Content-Security-Policy"])
        assert policy["script-src"] == ["'self'"], url
        assert policy["object-src"] == ["'none'"]
        assert policy["frame-ancestors"] == ["'none'"]
        assert policy["base-uri"] == ["'self'"]
        assert policy["form-action"] == ["'self'"]
        assert "'unsafe-eval'" not in response["Content-Security-Policy"]
        assert response["X-Frame-Options"] == "DENY"
        assert response["X-Content-Type-Options"] == "nosniff"
        assert response["Referrer-Policy"] == "same-origin"
        assert response["Cross-Origin-Opener-Policy"] == "same-origin"
        assert "Strict-Transport-Security" not in response  # plain http


@pytest.mark.django_db
def test_an_https_request_gets_hsts_when_configured(client, settings):
    settings.SECURE_HSTS_SECONDS = 31536000
    assert client.get("/auth/login/", secure=True)["Strict-Transport-Security"] == "max-age=31536000"
    assert "Strict-Transport-Security" not in client.get("/auth/login/")


@pytest.mark.parametrize("template", HTML_TEMPLATES, ids=lambda path: str(path.relative_to(TEMPLATES)))
def test_templates_hold_no_inline_script_or_event_handler(template):
    html = template.read_text()
    inline_scripts = [
        tag
        for tag in re.findall(r"<script\b[^>]*>", html)
        if "src=" not in tag and "application/json" not in tag
    ]
    assert inline_scripts == [], f"{template}: move inline scripts to static/js (CSP script-src 'self')"
    handlers = re.findall(r"<[^>]*\s(on[a-z]+)\s*=", html)
    assert handlers == [], f"{template}: event handler attributes {handlers} are blocked by the CSP"
    assert "javascript:" not in html.lower()
    assert "hx-on" not in html and "js:" not in html, f"{template}: htmx eval features need 'unsafe-eval'"


def production_settings(**env) -> dict:
    """settings.py as a production process reads it (DEBUG is fixed when the module loads)."""
    code = (
        "import json; from django.conf import settings; import django; django.setup(); "
        "names = ['SESSION_COOKIE_SECURE', 'CSRF_COOKIE_SECURE', 'SESSION_COOKIE_HTTPONLY', "
        "'CSRF_COOKIE_HTTPONLY', 'SESSION_COOKIE_SAMESITE', 'CSRF_COOKIE_SAMESITE', 'SECURE_HSTS_SECONDS', "
        "'SECURE_PROXY_SSL_HEADER', 'CONTENT_SECURITY_POLICY', 'CACHES']; "
        "print(json.dumps({n: getattr(settings, n, None) for n in names}))"
    )
    base = {
        "DJANGO_SETTINGS_MODULE": "langfuse_ui.settings",
        "DEBUG": "false",
        "SECRET_KEY": "test-secret-key-of-the-production-check",
        "SALT": "test-salt",
        "DATABASE_URL": "postgresql://app:pw@db.invalid:5432/langfuse",
        "PATH": os.environ.get("PATH", ""),
    }
    result = subprocess.run(
        [sys.executable, "-c", code], env=base | env, cwd=BASE_DIR, capture_output=True, text=True, check=True
    )
    return json.loads(result.stdout)


def test_production_over_https_marks_cookies_secure_and_sends_hsts():
    values = production_settings(NEXTAUTH_URL="https://langfuse.example.test")
    assert values["SESSION_COOKIE_SECURE"] is values["CSRF_COOKIE_SECURE"] is True
    assert values["SESSION_COOKIE_HTTPONLY"] is values["CSRF_COOKIE_HTTPONLY"] is True
    assert values["SESSION_COOKIE_SAMESITE"] == values["CSRF_COOKIE_SAMESITE"] == "Lax"
    assert values["SECURE_HSTS_SECONDS"] == 365 * 24 * 3600
    assert values["SECURE_PROXY_SSL_HEADER"] is None  # a client's X-Forwarded-Proto is not believed
    assert values["CACHES"]["default"]["BACKEND"] == "django.core.cache.backends.db.DatabaseCache"


def test_production_over_http_has_no_hsts_and_no_secure_cookies():
    values = production_settings(NEXTAUTH_URL="http://langfuse.internal")
    assert values["SESSION_COOKIE_SECURE"] is False
    assert values["SECURE_HSTS_SECONDS"] == 0


def test_proxy_header_and_sso_issuer_when_configured():
    values = production_settings(
        NEXTAUTH_URL="https://langfuse.example.test",
        LANGFUSE_TRUST_X_FORWARDED_PROTO="true",
        SECURE_HSTS_SECONDS="600",
        AUTH_CUSTOM_CLIENT_ID="langfuse",
        AUTH_CUSTOM_CLIENT_SECRET="sso-secret",
        AUTH_CUSTOM_ISSUER="https://sso.example.test/realms/acme",
        LANGFUSE_S3_MEDIA_UPLOAD_ENDPOINT="http://minio.internal:9000",
    )
    assert values["SECURE_PROXY_SSL_HEADER"] == ["HTTP_X_FORWARDED_PROTO", "https"]
    assert values["SECURE_HSTS_SECONDS"] == 600
    policy = directives(values["CONTENT_SECURITY_POLICY"])
    assert policy["form-action"] == ["'self'", "https://sso.example.test"]  # the SSO button redirects there
    assert "http://minio.internal:9000" in policy["img-src"]
    assert "http://minio.internal:9000" in policy["media-src"]


def make_person(email: str):
    """The tests hash with MD5 for speed; a server process only knows the production hashers."""
    person = make_user(email)
    hasher = PBKDF2PasswordHasher()
    person.password = hasher.encode(PASSWORD, hasher.salt())
    person.save(update_fields=["password"])
    return person


def cookie_flags(response, name: str) -> set[str]:
    header = next(c for c in response.raw.headers.getlist("Set-Cookie") if c.startswith(f"{name}="))
    return {part.strip().split("=")[0].lower() for part in header.split(";")[1:]} | {
        part.strip().lower() for part in header.split(";")[1:] if part.strip().lower().startswith("samesite")
    }


@pytest.mark.django_db(transaction=True)
def test_a_production_server_behind_a_tls_proxy_sets_secure_cookies_and_hsts(tmp_path):
    """DEBUG=false, public URL https, the proxy's X-Forwarded-Proto trusted by setting (uvicorn's
    own trust is pointed elsewhere, so Django's setting is what is tested)."""
    user = make_person("ada@acme.test")
    server = start_server(
        database_url_of_current_connection(),
        tmp_path / "server.log",
        {
            "DEBUG": "false",
            "SECRET_KEY": "test-secret-key-of-the-production-check",
            "SALT": "test-salt",
            "NEXTAUTH_URL": "https://langfuse.example.test",
            "LANGFUSE_TRUST_X_FORWARDED_PROTO": "true",
            "FORWARDED_ALLOW_IPS": "192.0.2.1",
        },
    )
    try:
        proxied = {"X-Forwarded-Proto": "https", "Host": "langfuse.example.test"}
        session = requests.Session()
        page = session.get(f"{server.url}/auth/login/", headers=proxied, timeout=10)
        plain = requests.get(
            f"{server.url}/auth/login/", headers={"Host": "langfuse.example.test"}, timeout=10
        )
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text).group(1)
        signed_in = session.post(
            f"{server.url}/auth/login/",
            data={"login": user.email, "password": PASSWORD, "csrfmiddlewaretoken": token},
            headers=proxied | {"Referer": "https://langfuse.example.test/auth/login/"},
            cookies={"csrftoken": page.cookies["csrftoken"]},
            allow_redirects=False,
            timeout=10,
        )
    finally:
        server.stop()
    assert page.headers["Strict-Transport-Security"] == "max-age=31536000"
    assert "Strict-Transport-Security" not in plain.headers
    assert {"secure", "httponly", "samesite=lax"} <= cookie_flags(page, "csrftoken")
    assert signed_in.status_code == 302, signed_in.text[:500]
    assert {"secure", "httponly", "samesite=lax"} <= cookie_flags(signed_in, "sessionid")
