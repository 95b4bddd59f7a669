"""Request bodies and uploads are limited with a clear 413; LLM connections are admin-only and
point only at http(s) endpoints that are not cloud metadata services.

Media uploads' own size and type checks are tested in tests/traces/test_media.py, the ingestion
body limit in tests/traces/test_ingestion.py; here, what wraps every route.
"""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from tests.traces.media_requests import auth, local_path, media_body, patch_media, post_media, put_bytes
from traces.llm_connections import ConnectionFailed, chat_completion, create_connection
from traces.models import LlmConnection

pytestmark = pytest.mark.django_db


def test_a_ui_form_over_the_body_limit_gets_413_naming_it(client, team, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    client.force_login(team.admin)
    response = client.post(f"/project/{team.project.id}/settings/api-keys", {"note": "x" * 2000})
    assert response.status_code == 413
    assert "limit of 1000 bytes (LANGFUSE_INGESTION_MAX_BODY_BYTES)" in response.content.decode()


def test_an_api_body_over_the_limit_gets_413_json(client, team, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    response = client.post(
        "/api/public/scores",
        json.dumps({"traceId": "t", "name": "n", "value": 1, "comment": "x" * 2000}),
        content_type="application/json",
        **auth(team),
    )
    assert response.status_code == 413
    assert response.json()["error"] == "PayloadTooLarge"
    assert "1000 bytes" in response.json()["message"]


def test_media_uploads_stream_past_the_form_limit_under_their_own(client, team, settings, tmp_path):
    settings.MEDIA_S3_BUCKET = ""
    settings.MEDIA_LOCAL_ROOT = tmp_path / "media"
    data = b"0123456789" * 5
    url = post_media(client, team, media_body(data, contentType="text/plain")).json()["uploadUrl"]
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 10  # the 50-byte upload is over it
    assert put_bytes(client, url, data, content_type="text/plain").status_code == 200


def test_uploaded_html_is_served_sandboxed(client, team, settings, tmp_path):
    """An uploaded page must not run scripts on this origin: the download keeps its own strict CSP."""
    settings.MEDIA_S3_BUCKET = ""
    settings.MEDIA_LOCAL_ROOT = tmp_path / "media"
    page = b"<script>alert(document.cookie)</script>"
    answer = post_media(client, team, media_body(page, contentType="text/html")).json()
    assert put_bytes(client, answer["uploadUrl"], page, content_type="text/html").status_code == 200
    patch_media(client, team, answer["mediaId"])
    info = client.get(f"/api/public/media/{answer['mediaId']}", **auth(team)).json()
    download = client.get(local_path(info["url"]))
    assert download.status_code == 200
    assert download["Content-Security-Policy"].startswith("sandbox")
    assert download["X-Content-Type-Options"] == "nosniff"


def add_connection(client, team, user, base_url: str):
    client.force_login(user)
    return client.post(
        f"/project/{team.project.id}/settings/llm-connections",
        {"name": "proxy", "base_url": base_url, "api_key": "sk-x", "default_model": "gpt-4o"},
    )


@pytest.mark.parametrize("role", ["member", "viewer"])
def test_only_admins_add_or_delete_llm_connections(client, team, role):
    assert add_connection(client, team, getattr(team, role), "http://127.0.0.1:11434/v1").status_code == 403
    connection = create_connection(
        team.project, name="proxy", base_url="http://127.0.0.1:11434/v1", api_key=""
    )
    response = client.post(f"/project/{team.project.id}/settings/llm-connections/{connection.id}/delete")
    assert response.status_code == 403
    assert LlmConnection.objects.filter(pk=connection.pk).exists()


@pytest.mark.parametrize(
    ("base_url", "words"),
    [
        ("file:///etc/passwd", "http:// or https://"),
        ("gopher://127.0.0.1:6379/_FLUSHALL", "http:// or https://"),
        ("javascript:alert(1)", "http:// or https://"),
        ("http://169.254.169.254/latest/meta-data", "link-local"),
        ("http://[fe80::1]/v1", "link-local"),
        ("http://metadata.google.internal/computeMetadata/v1", "link-local"),
    ],
)
def test_llm_connections_refuse_other_schemes_and_metadata_addresses(client, team, base_url, words):
    response = add_connection(client, team, team.admin, base_url)
    assert words in response.content.decode()
    assert not LlmConnection.objects.exists()


def test_a_local_llm_server_is_allowed(client, team):
    add_connection(client, team, team.admin, "http://127.0.0.1:11434/v1")
    assert LlmConnection.objects.get(project=team.project).base_url == "http://127.0.0.1:11434/v1"


class Redirecting(BaseHTTPRequestHandler):
    hits: list[str] = []

    def do_POST(self):
        Redirecting.hits.append(self.path)
        self.send_response(307)
        self.send_header("Location", f"http://127.0.0.1:{self.server.server_port}/elsewhere")
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args) -> None:
        pass


def test_the_replay_call_follows_no_redirect(team):
    """The key and the prompt go to the connection's URL and nowhere it points to."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), Redirecting)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    Redirecting.hits = []
    try:
        connection = create_connection(
            team.project, name="proxy", base_url=f"http://127.0.0.1:{server.server_port}/v1", api_key="sk-x"
        )
        with pytest.raises(ConnectionFailed):
            chat_completion(connection, {"model": "gpt-4o", "messages": [{"role": "user", "content": "hi"}]})
    finally:
        server.shutdown()
        server.server_close()
    assert Redirecting.hits == ["/v1/chat/completions"]
