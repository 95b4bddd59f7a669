from __future__ import annotations

import base64
import re
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from accounts.models import ApiKey, ApiKeyScope
from tests.factories import make_user

pytestmark = pytest.mark.django_db


def run(*args, **options) -> str:
    out = StringIO()
    call_command(*args, stdout=out, **options)
    return out.getvalue()


def basic(public: str, secret: str) -> str:
    return "Basic " + base64.b64encode(f"{public}:{secret}".encode()).decode()


def printed_keys(output: str) -> tuple[str, str]:
    line = next(line for line in output.splitlines() if line.startswith("LANGFUSE_HOST="))
    values = dict(part.split("=", 1) for part in line.split())
    return values["LANGFUSE_PUBLIC_KEY"], values["LANGFUSE_SECRET_KEY"]


def get_projects(client, public: str, secret: str):
    return client.get("/api/public/projects", HTTP_AUTHORIZATION=basic(public, secret))


def test_created_key_works_for_basic_auth(client, team):
    output = run("create_api_key", "--project", team.project.id, "--note", "ci")
    public, secret = printed_keys(output)
    response = get_projects(client, public, secret)
    assert response.status_code == 200
    assert [p["id"] for p in response.json()["data"]] == [team.project.id]
    key = ApiKey.objects.get(public_key=public)
    assert key.note == "ci"
    assert key.project_id == team.project.id


def test_it_prints_a_copy_pasteable_env_line_with_the_default_host(team):
    output = run("create_api_key", "--project", team.project.id)
    line = output.strip().splitlines()[-1]
    assert re.fullmatch(
        r"LANGFUSE_HOST=http://127\.0\.0\.1:3000 LANGFUSE_PUBLIC_KEY=pk-lf-\S+ LANGFUSE_SECRET_KEY=sk-lf-\S+",
        line,
    )


def test_host_option_sets_langfuse_host(team):
    output = run("create_api_key", "--project", team.project.id, "--host", "https://langfuse.example.com/")
    assert "LANGFUSE_HOST=https://langfuse.example.com LANGFUSE_PUBLIC_KEY=" in output


def test_secret_is_printed_and_stored_only_as_a_hash(team):
    output = run("create_api_key", "--project", team.project.id)
    public, secret = printed_keys(output)
    assert f"Public key: {public}" in output
    assert f"Secret key: {secret}" in output
    with connection.cursor() as cursor:
        cursor.execute("SELECT row_to_json(k)::text FROM accounts_apikey k WHERE public_key = %s", [public])
        (row,) = cursor.fetchone()
    assert secret not in row
    assert secret.removeprefix("sk-lf-") not in row


def test_each_run_makes_a_new_pair(team):
    first = printed_keys(run("create_api_key", "--project", team.project.id))
    second = printed_keys(run("create_api_key", "--project", team.project.id))
    assert first[0] != second[0] and first[1] != second[1]


def test_organization_key_is_org_scoped(team):
    output = run("create_api_key", "--organization", team.org.id)
    public, _ = printed_keys(output)
    key = ApiKey.objects.get(public_key=public)
    assert key.scope == ApiKeyScope.ORGANIZATION
    assert key.organization_id == team.org.id
    assert key.project_id is None


def test_unknown_project_is_an_error_naming_it(team):
    with pytest.raises(CommandError, match="no-such-project"):
        run("create_api_key", "--project", "no-such-project")
    assert not ApiKey.objects.exclude(public_key=team.public_key).exists()


def test_unknown_organization_is_an_error_naming_it(team):
    with pytest.raises(CommandError, match="no-such-org"):
        run("create_api_key", "--organization", "no-such-org")


def test_project_or_organization_is_required(team):
    with pytest.raises(CommandError):
        run("create_api_key")


def test_revoked_key_gets_401(client, team):
    assert get_projects(client, team.public_key, team.secret_key).status_code == 200
    output = run("revoke_api_key", team.public_key)
    assert f"Revoked {team.public_key}" in output
    assert get_projects(client, team.public_key, team.secret_key).status_code == 401


def test_revoking_twice_says_so_and_keeps_it_revoked(client, team):
    run("revoke_api_key", team.public_key)
    revoked_at = ApiKey.objects.get(public_key=team.public_key).revoked_at
    assert "already revoked" in run("revoke_api_key", team.public_key)
    assert ApiKey.objects.get(public_key=team.public_key).revoked_at == revoked_at
    assert get_projects(client, team.public_key, team.secret_key).status_code == 401


def test_revoking_an_unknown_key_is_an_error(team):
    with pytest.raises(CommandError, match="pk-lf-unknown"):
        run("revoke_api_key", "pk-lf-unknown")


def test_revoking_one_key_leaves_others_working(client, team):
    other_public, other_secret = printed_keys(run("create_api_key", "--project", team.project.id))
    run("revoke_api_key", team.public_key)
    assert get_projects(client, other_public, other_secret).status_code == 200


def test_reset_password_with_given_password_lets_the_user_log_in(client):
    user = make_user("ada@example.com")
    output = run("reset_password", "ada@example.com", "--password", "a-new-long-passphrase")
    assert "a-new-long-passphrase" not in output
    assert client.login(email=user.email, password="a-new-long-passphrase")


def test_reset_password_without_password_prints_a_strong_generated_one(client):
    make_user("grace@example.com")
    output = run("reset_password", "grace@example.com")
    password = re.search(r"New password for grace@example\.com: (\S+)", output).group(1)
    assert len(password) >= 20
    assert client.login(email="grace@example.com", password=password)
    assert not client.login(email="grace@example.com", password="correct-horse-battery")


def test_generated_passwords_differ():
    make_user("x@example.com")
    first = run("reset_password", "x@example.com")
    second = run("reset_password", "x@example.com")
    assert first != second


def test_reset_password_finds_the_user_regardless_of_case(client):
    make_user("mixed@example.com")
    run("reset_password", "Mixed@Example.COM", "--password", "another-long-passphrase")
    assert client.login(email="mixed@example.com", password="another-long-passphrase")


def test_reset_password_for_unknown_email_is_an_error():
    with pytest.raises(CommandError, match=r"nobody@example\.com"):
        run("reset_password", "nobody@example.com", "--password", "whatever-long-enough")


def test_short_password_is_refused_and_the_old_one_still_works(client):
    user = make_user("short@example.com")
    with pytest.raises(CommandError, match="at least 8"):
        run("reset_password", "short@example.com", "--password", "abc1234")
    assert client.login(email=user.email, password="correct-horse-battery")


def test_common_password_is_refused():
    make_user("common@example.com")
    with pytest.raises(CommandError, match="too common"):
        run("reset_password", "common@example.com", "--password", "password123")
