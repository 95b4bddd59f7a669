"""No password, secret key or salt in any log line, with every logger at DEBUG (SQL included).

Each test runs one flow that handles a secret, checks the flow really used it, then greps the
captured log for it and for the server's own secrets (SECRET_KEY, SALT, the database password).
The last test does the same with the log file of a real server process.
"""

from __future__ import annotations

import base64
import json
import logging
import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from django.conf import settings
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.models import ApiKey, User
from accounts.oidc import forget_discovery
from tests.factories import PASSWORD, make_user
from tests.live import database_url_of_current_connection, start_server
from tests.security.test_headers_and_cookies import make_person
from traces.llm_connections import ConnectionFailed, chat_completion
from traces.models import LlmConnection, Trace

pytestmark = pytest.mark.django_db


@pytest.fixture
def debug_log(caplog):
    """Every logger at DEBUG, and SQL with its parameters logged (django.db.backends)."""
    for name in ["", *logging.root.manager.loggerDict]:
        caplog.set_level(logging.DEBUG, logger=name)
    with CaptureQueriesContext(connection) as queries:
        yield caplog
    assert queries.captured_queries, "the SQL log was not captured"


def assert_not_logged(caplog, *secrets: str) -> None:
    server_secrets = [settings.SECRET_KEY, settings.SALT, settings.DATABASES["default"].get("PASSWORD") or ""]
    text = caplog.text + "\n".join(str(record.__dict__) for record in caplog.records)
    assert caplog.records, "nothing was logged: the test would prove nothing"
    for secret in [*secrets, *server_secrets]:
        if secret:
            assert secret not in text, f"a secret ({secret[:6]}...) appears in the log"


def basic(public: str, secret: str) -> str:
    return "Basic " + base64.b64encode(f"{public}:{secret}".encode()).decode()


def test_sign_up_and_sign_in(client, debug_log):
    new_password = "Signup-Secret-Pw-9f3k"
    response = client.post(
        "/auth/signup/", {"email": "new@acme.test", "password1": new_password, "password2": new_password}
    )
    assert response.status_code == 302
    assert User.objects.get(email="new@acme.test").check_password(new_password)
    client.logout()
    person = make_user("ada@acme.test")
    assert (
        client.post("/auth/login/", {"login": person.email, "password": "Wrong-Secret-Pw-7x"}).status_code
        == 200
    )
    assert client.post("/auth/login/", {"login": person.email, "password": PASSWORD}).status_code == 302
    assert_not_logged(debug_log, new_password, "Wrong-Secret-Pw-7x", PASSWORD)


def test_password_reset(client, debug_log):
    person = make_user("ada@acme.test")
    client.post("/auth/password/reset/", {"email": person.email})
    link = re.search(r"http://testserver(/auth/password/reset/key/\S+)", mail.outbox[0].body).group(1)
    form_url = client.get(link)["Location"]
    new_password = "Reset-Secret-Pw-4q2z"
    response = client.post(form_url, {"password1": new_password, "password2": new_password})
    assert response.status_code == 302
    person.refresh_from_db()
    assert person.check_password(new_password)
    assert_not_logged(debug_log, new_password)


def test_api_key_creation_and_use(client, team, debug_log):
    client.force_login(team.admin)
    response = client.post(f"/project/{team.project.id}/settings/api-keys", {"note": "billing"})
    secret = re.search(r"sk-lf-[0-9a-f-]{36}", response.content.decode()).group(0)
    public = ApiKey.objects.get(project=team.project, note="billing").public_key
    batch = {
        "batch": [
            {"id": "e1", "type": "trace-create", "timestamp": "2026-01-01T00:00:00Z", "body": {"id": "t1"}}
        ]
    }
    for key_secret in (secret, "sk-lf-a-wrong-guess-0000"):
        client.post(
            "/api/public/ingestion",
            batch,
            content_type="application/json",
            HTTP_AUTHORIZATION=basic(public, key_secret),
        )
    assert Trace.objects.filter(project=team.project, id="t1").exists()
    assert_not_logged(debug_log, secret, "sk-lf-a-wrong-guess-0000", team.secret_key)


def test_llm_connection_creation_and_use(client, team, debug_log):
    api_key = "sk-llm-provider-secret-5h8d"
    client.force_login(team.admin)
    client.post(
        f"/project/{team.project.id}/settings/llm-connections",
        {
            "name": "litellm",
            "base_url": "http://127.0.0.1:9/v1",
            "api_key": api_key,
            "default_model": "gpt-4o",
        },
    )
    connection_row = LlmConnection.objects.get(project=team.project)
    with pytest.raises(ConnectionFailed):  # nothing listens on port 9: the key is sent, the call fails
        chat_completion(connection_row, {"model": "gpt-4o", "messages": [{"role": "user", "content": "hi"}]})
    assert_not_logged(debug_log, api_key)


class StubProvider(BaseHTTPRequestHandler):
    """Discovery and a token endpoint that refuses the code: enough for the client to send its secret."""

    token_requests: list[dict] = []

    def do_GET(self):
        issuer = f"http://127.0.0.1:{self.server.server_port}"
        document = {
            "issuer": issuer,
            "authorization_endpoint": f"{issuer}/auth",
            "token_endpoint": f"{issuer}/token",
            "userinfo_endpoint": f"{issuer}/me",
            "jwks_uri": f"{issuer}/jwks",
        }
        self.answer(200, document)

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", 0))).decode()
        StubProvider.token_requests.append(
            {"body": body, "authorization": self.headers.get("Authorization", "")}
        )
        self.answer(400, {"error": "invalid_grant", "error_description": "code expired"})

    def answer(self, status: int, document: dict) -> None:
        payload = json.dumps(document).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, *args) -> None:
        pass


@pytest.fixture
def sso_provider(settings):
    server = ThreadingHTTPServer(("127.0.0.1", 0), StubProvider)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    StubProvider.token_requests = []
    settings.SSO_ENABLED = True
    settings.SSO_ISSUER = f"http://127.0.0.1:{server.server_port}"
    settings.OIDC_RP_CLIENT_ID = "langfuse"
    settings.OIDC_RP_CLIENT_SECRET = "oidc-client-secret-3k9v"
    settings.AUTHENTICATION_BACKENDS = [*settings.AUTHENTICATION_BACKENDS, "accounts.oidc.OidcBackend"]
    forget_discovery()
    yield settings.OIDC_RP_CLIENT_SECRET
    forget_discovery()
    server.shutdown()
    server.server_close()


def test_sso_code_exchange(client, sso_provider, debug_log):
    start = client.get("/auth/oidc/authenticate/")
    state = parse_qs(urlsplit(start["Location"]).query)["state"][0]
    response = client.get("/auth/oidc/callback/", {"code": "a-code", "state": state})
    assert response.status_code == 302  # a refused code sends back to sign-in, no 500
    assert response["Location"] == settings.LOGIN_URL
    sent = StubProvider.token_requests
    assert len(sent) == 1
    assert sso_provider in sent[0]["body"] or sso_provider in base64.b64decode(
        sent[0]["authorization"].removeprefix("Basic ") or b""
    ).decode(errors="replace")
    assert_not_logged(debug_log, sso_provider)


@pytest.mark.django_db(transaction=True)
def test_the_server_process_log_at_debug(tmp_path):
    person = make_person("ada@acme.test")
    from tests.factories import make_key, make_project

    project = make_project()
    public, secret = make_key(project)
    env = {
        "LANGFUSE_LOG_LEVEL": "DEBUG",
        "LANGFUSE_ACCESS_LOG": "true",
        "SECRET_KEY": "server-secret-key-for-the-log-test",
    }
    server = start_server(database_url_of_current_connection(), tmp_path / "server.log", env)
    try:
        session = requests.Session()
        page = session.get(f"{server.url}/auth/login/", timeout=10)
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text).group(1)
        for password in ("Wrong-Secret-Pw-7x", PASSWORD):
            session.post(
                f"{server.url}/auth/login/",
                data={"login": person.email, "password": password, "csrfmiddlewaretoken": token},
                timeout=10,
            )
        assert session.get(f"{server.url}/", timeout=10).url != f"{server.url}/auth/login/"
        batch = {
            "batch": [
                {
                    "id": "e1",
                    "type": "trace-create",
                    "timestamp": "2026-01-01T00:00:00Z",
                    "body": {"id": "t1"},
                }
            ]
        }
        for key_secret in (secret, "sk-lf-a-wrong-guess-0000"):
            requests.post(
                f"{server.url}/api/public/ingestion", json=batch, auth=(public, key_secret), timeout=10
            )
    finally:
        server.stop()
    log = (tmp_path / "server.log").read_text()
    assert "POST /api/public/ingestion" in log  # the access log was on
    assert Trace.objects.filter(project=project, id="t1").exists()
    secrets = [
        PASSWORD,
        "Wrong-Secret-Pw-7x",
        secret,
        "sk-lf-a-wrong-guess-0000",
        env["SECRET_KEY"],
        settings.SALT,
    ]
    for value in secrets:
        assert value not in log, f"{value[:6]}... appears in the server log"
