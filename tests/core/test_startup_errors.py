"""A wrong or missing setting stops `manage.py serve` with one line naming the variable, no traceback."""

from __future__ import annotations

import pytest

from tests.core.processes import manage_env, printed_lines, run_manage

UNUSED_URL = "postgresql://postgres@127.0.0.1:1/unused"  # set, so no embedded cluster starts
PRODUCTION = {"DEBUG": None, "DATABASE_URL": UNUSED_URL}
PRINT_SECRETS = "from django.conf import settings; print(settings.SECRET_KEY); print(settings.SALT)"


def assert_one_line_error(result, *words: str) -> str:
    lines = printed_lines(result.stdout)
    assert result.returncode != 0, result.stdout
    assert "Traceback" not in result.stdout
    assert len(lines) == 1, result.stdout
    for word in words:
        assert word in lines[0]
    return lines[0]


def test_debug_must_be_a_boolean():
    result = run_manage("serve", env=manage_env(DEBUG="maybe", DATABASE_URL=UNUSED_URL))
    line = assert_one_line_error(result, "DEBUG='maybe'", "use true or false")
    assert line.startswith("error: ")


def test_production_refuses_the_default_secret_key():
    result = run_manage("serve", env=manage_env(**PRODUCTION, SALT="a-real-salt"))
    assert_one_line_error(result, "SECRET_KEY", "NEXTAUTH_SECRET", "DEBUG=false")


def test_production_refuses_the_default_salt():
    result = run_manage("serve", env=manage_env(**PRODUCTION, SECRET_KEY="a-real-key"))
    assert_one_line_error(result, "SALT is not set")


def test_production_accepts_nextauth_secret_as_the_secret_key():
    env = manage_env(**PRODUCTION, NEXTAUTH_SECRET="nextauth-value", SALT="salt-value")
    result = run_manage("shell", "--no-imports", "-c", PRINT_SECRETS, env=env)
    assert result.returncode == 0, result.stdout
    assert printed_lines(result.stdout) == ["nextauth-value", "salt-value"]


@pytest.mark.parametrize("key_variable", ["SECRET_KEY", "NEXTAUTH_SECRET"])
def test_secrets_are_read_from_name_file_variables(tmp_path, key_variable):
    (tmp_path / "key").write_text("key-from-file\n")
    (tmp_path / "salt").write_text("salt-from-file\n")
    env = manage_env(
        **PRODUCTION, **{f"{key_variable}_FILE": str(tmp_path / "key")}, SALT_FILE=str(tmp_path / "salt")
    )
    result = run_manage("shell", "--no-imports", "-c", PRINT_SECRETS, env=env)
    assert result.returncode == 0, result.stdout
    assert printed_lines(result.stdout) == ["key-from-file", "salt-from-file"]


def test_missing_secret_file_names_the_variable(tmp_path):
    env = manage_env(**PRODUCTION, SECRET_KEY="a-real-key", SALT_FILE=str(tmp_path / "nope"))
    assert_one_line_error(run_manage("serve", env=env), "SALT_FILE=", "cannot be read")


def test_port_must_be_a_number():
    result = run_manage("serve", env=manage_env(DATABASE_URL=UNUSED_URL, PORT="eighty"))
    assert_one_line_error(result, "PORT='eighty'", "not a whole number")


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("mysql://root@localhost/langfuse", "must start with postgresql://"),
        ("postgresql://postgres@localhost:port/langfuse", "cannot be parsed"),
        ("postgresql://postgres@no-such-host.invalid:5432/langfuse", "failed to resolve host"),
        ("postgresql://postgres@127.0.0.1:1/langfuse?bogus=1", "invalid connection option"),
    ],
)
def test_wrong_database_url_ends_start_up_with_one_line(url, reason):
    env = manage_env(DATABASE_URL=url, LANGFUSE_DATABASE_WAIT_SECONDS="20")
    assert_one_line_error(run_manage("serve", env=env, timeout=30), "DATABASE_URL", reason)


def test_unknown_database_ends_start_up_with_one_line(running_cluster):
    url = f"postgresql://postgres@/no_such_database?host={running_cluster}"
    env = manage_env(DATABASE_URL=url, LANGFUSE_DATABASE_WAIT_SECONDS="20")
    assert_one_line_error(
        run_manage("serve", env=env, timeout=30), "DATABASE_URL", 'database "no_such_database" does not exist'
    )


def test_unreachable_database_gives_up_after_the_wait_with_one_line():
    env = manage_env(
        DATABASE_URL="postgresql://postgres@127.0.0.1:1/langfuse", LANGFUSE_DATABASE_WAIT_SECONDS="1"
    )
    result = run_manage("serve", env=env, timeout=30)
    lines = printed_lines(result.stdout)
    assert result.returncode != 0 and "Traceback" not in result.stdout
    assert lines[0].startswith("Waiting for the database at postgresql://postgres@127.0.0.1:1/langfuse")
    assert lines[-1].startswith("error: DATABASE_URL: cannot connect") and "Connection refused" in lines[-1]
