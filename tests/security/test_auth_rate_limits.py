"""Failed authentications are rate limited, and the limits hold across server processes."""

from __future__ import annotations

import base64

import pytest
import requests
from django.db import connection

from accounts import api_keys
from langfuse_ui import throttle
from langfuse_ui.models import AuthFailureWindow
from tests.factories import PASSWORD, make_key, make_project
from tests.live import database_url_of_current_connection, start_server
from tests.security.test_headers_and_cookies import make_person

pytestmark = pytest.mark.django_db
TOO_MANY = "Too many failed login attempts"


def basic(public: str, secret: str) -> dict:
    token = base64.b64encode(f"{public}:{secret}".encode()).decode()
    return {"HTTP_AUTHORIZATION": f"Basic {token}"}


def projects(client, public, secret, ip="10.0.0.1"):
    return client.get("/api/public/projects", REMOTE_ADDR=ip, **basic(public, secret))


def test_wrong_secrets_for_one_key_get_429_with_retry_after(client, team, settings):
    settings.API_AUTH_FAILURES_PER_KEY = 3
    statuses = [
        projects(client, team.public_key, f"sk-lf-guess-{n}", ip=f"10.0.0.{n}").status_code for n in range(4)
    ]
    assert statuses == [401, 401, 401, 429]
    response = projects(client, team.public_key, "sk-lf-guess-again", ip="10.0.9.9")
    assert response.status_code == 429
    assert 1 <= int(response["Retry-After"]) <= 60
    assert "retry in" in response.json()["message"]
    assert response.json()["error"] == "TooManyRequests"


def test_a_blocked_key_is_refused_before_its_secret_is_checked(client, team, settings):
    """Otherwise the status would tell a guesser which guess was right."""
    settings.API_AUTH_FAILURES_PER_KEY = 2
    for n in range(3):
        projects(client, team.public_key, f"sk-lf-guess-{n}")
    assert projects(client, team.public_key, team.secret_key).status_code == 429
    other_public, other_secret = make_key(team.project)
    assert projects(client, other_public, other_secret).status_code == 200  # only that key is limited


def test_many_unknown_keys_from_one_address_get_429(client, team, settings):
    settings.API_AUTH_FAILURES_PER_IP = 5
    statuses = [
        projects(client, f"pk-lf-unknown-{n}", "sk-lf-x", ip="10.1.1.1").status_code for n in range(7)
    ]
    assert statuses == [401] * 5 + [429] * 2
    # Only the failures: the right key from the same address (a shared proxy, a NAT) still works.
    assert projects(client, team.public_key, team.secret_key, ip="10.1.1.1").status_code == 200


def test_bearer_public_key_guesses_count_too(client, team, settings):
    settings.API_AUTH_FAILURES_PER_IP = 2
    statuses = [
        client.post(
            "/api/public/scores",
            {},
            content_type="application/json",
            HTTP_AUTHORIZATION=f"Bearer pk-lf-guess-{n}",
            REMOTE_ADDR="10.2.2.2",
        ).status_code
        for n in range(3)
    ]
    assert statuses == [401, 401, 429]


def test_missing_or_malformed_headers_are_not_counted_as_guesses(client, team, settings):
    settings.API_AUTH_FAILURES_PER_IP = 1
    for _ in range(3):
        assert client.get("/api/public/projects", REMOTE_ADDR="10.3.3.3").status_code == 401
        assert (
            client.get(
                "/api/public/projects", HTTP_AUTHORIZATION="Basic !!", REMOTE_ADDR="10.3.3.3"
            ).status_code
            == 401
        )
    assert not AuthFailureWindow.objects.exists()


def test_a_limit_of_zero_turns_it_off(client, team, settings):
    settings.API_AUTH_FAILURES_PER_KEY = 0
    settings.API_AUTH_FAILURES_PER_IP = 0
    statuses = {projects(client, team.public_key, f"sk-lf-guess-{n}").status_code for n in range(5)}
    assert statuses == {401}


def test_a_successful_request_writes_nothing_and_reads_no_counter(
    client, team, django_assert_max_num_queries
):
    key = api_keys.find_key(team.public_key, team.secret_key)
    api_keys.touch_last_used(key)  # last_used_at is written at most once a minute, not by this request
    with django_assert_max_num_queries(10) as captured:
        assert projects(client, team.public_key, team.secret_key).status_code == 200
    sql = " ".join(query["sql"] for query in captured.captured_queries)
    assert "langfuse_auth_failure_window" not in sql
    assert "langfuse_cache" not in sql
    assert not any(
        query["sql"].lstrip().upper().startswith(("INSERT", "UPDATE", "DELETE"))
        for query in captured.captured_queries
    )


def test_counters_store_hashes_not_keys(client, team, settings):
    settings.API_AUTH_FAILURES_PER_KEY = 20
    projects(client, team.public_key, "sk-lf-wrong", ip="10.4.4.4")
    buckets = list(AuthFailureWindow.objects.values_list("bucket", flat=True))
    assert len(buckets) == 2
    assert all(team.public_key not in bucket and "10.4.4.4" not in bucket for bucket in buckets)


def test_a_new_window_starts_from_zero(team, settings, monkeypatch):
    limit = throttle.Limit("api-key", 2)
    times = iter([1000.0, 1001.0, 1002.0, 1065.0])
    monkeypatch.setattr(throttle, "clock", lambda: next(times))
    results = [throttle.record_failure([(limit, "pk-lf-x")]) for _ in range(4)]
    assert results[:2] == [None, None]
    assert results[2] == 18  # third failure in the window 960..1020 at 1002: blocked until 1020
    assert results[3] is None  # next window


@pytest.mark.django_db(transaction=True)
def test_failures_sent_to_two_server_processes_add_up(tmp_path):
    """Two replicas on one database: 6 failures split between them hit a limit of 5."""
    project = make_project()
    public, _ = make_key(project)
    url = database_url_of_current_connection()
    env = {"LANGFUSE_API_AUTH_FAILURES_PER_MINUTE_PER_KEY": "5"}
    servers = [start_server(url, tmp_path / f"server{n}.log", env) for n in range(2)]
    try:
        statuses = [
            requests.get(
                f"{servers[n % 2].url}/api/public/projects", auth=(public, f"sk-lf-{n}"), timeout=10
            ).status_code
            for n in range(7)
        ]
    finally:
        for server in servers:
            server.stop()
    assert statuses[:5] == [401] * 5
    assert statuses[5:] == [429, 429]
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM langfuse_auth_failure_window")


@pytest.mark.django_db(transaction=True)
def test_sign_in_failures_sent_to_two_server_processes_add_up(tmp_path):
    """allauth's limit (5 failed sign-ins per email per 5 minutes) counts in PostgreSQL's cache table.

    Both replicas serve one public host name (allauth's key includes it), as behind a load balancer."""
    user = make_person("limited@acme.test")
    url = database_url_of_current_connection()
    servers = [start_server(url, tmp_path / f"server{n}.log") for n in range(2)]
    try:
        statuses = []
        for n in range(7):
            session = requests.Session()
            session.headers["Host"] = "langfuse.example.test"
            base = servers[n % 2].url
            session.get(f"{base}/auth/login/", timeout=10)
            response = session.post(
                f"{base}/auth/login/",
                data={
                    "login": user.email,
                    "password": f"wrong-{n}",
                    "csrfmiddlewaretoken": session.cookies["csrftoken"],
                },
                headers={"Referer": f"{base}/auth/login/"},
                allow_redirects=False,
                timeout=10,
            )
            statuses.append((response.status_code, TOO_MANY in response.text))
        # and the right password is refused too while the address is limited
        session = requests.Session()
        session.headers["Host"] = "langfuse.example.test"
        session.get(f"{servers[0].url}/auth/login/", timeout=10)
        right = session.post(
            f"{servers[0].url}/auth/login/",
            data={
                "login": user.email,
                "password": PASSWORD,
                "csrfmiddlewaretoken": session.cookies["csrftoken"],
            },
            headers={"Referer": f"{servers[0].url}/auth/login/"},
            allow_redirects=False,
            timeout=10,
        )
    finally:
        for server in servers:
            server.stop()
        with connection.cursor() as cursor:
            cursor.execute("DELETE FROM langfuse_cache")
    assert statuses == [(200, False)] * 5 + [(200, True)] * 2, statuses  # the form again, with the error
    assert (right.status_code, TOO_MANY in right.text) == (200, True)
