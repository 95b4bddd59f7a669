"""The typed environment readers that settings.py is built from."""

from __future__ import annotations

import pytest

from langfuse_ui.config import ConfigError, env_bool, env_int, env_secret, parse_database_url


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("true", True), ("1", True), ("On", True), ("false", False), ("0", False), ("", False)],
)
def test_env_bool_reads_the_usual_words(monkeypatch, raw, expected):
    monkeypatch.setenv("FLAG", raw)
    assert env_bool("FLAG") is expected


def test_env_bool_rejects_nonsense_naming_the_variable(monkeypatch):
    monkeypatch.setenv("DEBUG", "maybe")
    with pytest.raises(ConfigError, match=r"^DEBUG='maybe' is not a boolean: use true or false$"):
        env_bool("DEBUG")


def test_env_int_rejects_words_and_small_numbers(monkeypatch):
    monkeypatch.setenv("PORT", "abc")
    with pytest.raises(ConfigError, match="PORT='abc' is not a whole number"):
        env_int("PORT", 3000)
    monkeypatch.setenv("PORT", "0")
    with pytest.raises(ConfigError, match="PORT=0 is too small"):
        env_int("PORT", 3000, minimum=1)


def test_env_secret_prefers_the_file_and_strips_the_newline(monkeypatch, tmp_path):
    secret = tmp_path / "salt"
    secret.write_text("from-the-file\n")
    monkeypatch.setenv("SALT", "from-the-variable")
    monkeypatch.setenv("SALT_FILE", str(secret))
    assert env_secret("SALT") == "from-the-file"


def test_env_secret_names_the_variable_when_the_file_is_missing(monkeypatch, tmp_path):
    monkeypatch.setenv("SALT_FILE", str(tmp_path / "missing"))
    with pytest.raises(ConfigError, match=r"^SALT_FILE=.* cannot be read: No such file or directory$"):
        env_secret("SALT")


def test_database_url_with_socket_folder_and_password():
    parsed = parse_database_url("postgresql://app:p%40ss@/langfuse?host=/run/pg&sslmode=disable")
    assert parsed == {
        "NAME": "langfuse",
        "USER": "app",
        "PASSWORD": "p@ss",
        "HOST": "/run/pg",
        "PORT": "",
        "OPTIONS": {"sslmode": "disable"},
    }


def test_database_url_from_langfuse_prisma_keeps_working():
    parsed = parse_database_url("postgres://u:p@db:5432/lf?schema=tracing&connection_limit=5&pgbouncer=true")
    assert parsed["HOST"] == "db" and parsed["PORT"] == "5432"
    assert parsed["OPTIONS"] == {"options": "-c search_path=tracing"}
    assert parse_database_url("postgres://u@db/lf?schema=public")["OPTIONS"] == {}


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("mysql://root@db/langfuse", "must start with postgresql://"),
        ("postgresql://postgres@db:abc/langfuse", "cannot be parsed"),
        ("postgresql://postgres@db:99999/langfuse", "cannot be parsed"),
        ("postgresql://postgres@[db/langfuse", "cannot be parsed"),
        ("postgresql://postgres@db:5432", "has no database name"),
        ("postgresql://postgres@/langfuse?host=/run/pg&port=x", "port that is not a number"),
    ],
)
def test_wrong_database_url_is_one_line_naming_the_variable(url, reason):
    with pytest.raises(ConfigError) as caught:
        parse_database_url(url)
    message = str(caught.value)
    assert message.startswith("DATABASE_URL") and reason in message and "\n" not in message
