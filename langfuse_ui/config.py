"""Typed readers for settings that come from the environment.

Every reader raises ConfigError with one line naming the variable and what to do,
so start-up fails with a message a person can act on instead of a traceback.
"""

from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import parse_qsl, unquote, urlsplit

TRUE_WORDS = {"1", "true", "yes", "on"}
FALSE_WORDS = {"0", "false", "no", "off", ""}


class ConfigError(Exception):
    """A setting is missing or wrong; the message names the variable."""


def env_str(name: str, default: str = "") -> str:
    return os.environ.get(name, default)


def env_bool(name: str, default: bool = False) -> bool:
    raw = os.environ.get(name)
    if raw is None:
        return default
    word = raw.strip().lower()
    if word in TRUE_WORDS:
        return True
    if word in FALSE_WORDS:
        return False
    raise ConfigError(f"{name}={raw!r} is not a boolean: use true or false")


def env_int(name: str, default: int, *, minimum: int | None = None) -> int:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = int(raw.strip())
    except ValueError:
        raise ConfigError(f"{name}={raw!r} is not a whole number") from None
    if minimum is not None and value < minimum:
        raise ConfigError(f"{name}={value} is too small: the minimum is {minimum}")
    return value


def env_list(name: str, default: str = "") -> list[str]:
    return [part.strip() for part in os.environ.get(name, default).split(",") if part.strip()]


def env_secret(name: str, default: str = "") -> str:
    """Read NAME, or the file named by NAME_FILE (Kubernetes secrets mounted as files)."""
    file_name = os.environ.get(f"{name}_FILE")
    if file_name:
        try:
            return Path(file_name).read_text().strip()
        except OSError as exc:
            raise ConfigError(f"{name}_FILE={file_name!r} cannot be read: {exc.strerror}") from None
    return os.environ.get(name, default)


PRISMA_ONLY_OPTIONS = {
    "connection_limit",
    "pool_timeout",
    "pgbouncer",
    "socket_timeout",
    "statement_cache_size",
}


def parse_database_url(url: str) -> dict:
    """Turn postgresql://user:pass@host:port/name?opt=v into Django's DATABASES entry.

    Langfuse's Prisma URLs carry `schema=` (turned into a search_path here) and pool options
    that mean nothing to libpq (dropped), so an operator's existing DATABASE_URL works as is.
    """
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError as exc:
        raise ConfigError(
            f"DATABASE_URL cannot be parsed ({exc}); use postgresql://user:password@host:5432/name"
        ) from None
    if parts.scheme not in {"postgres", "postgresql", "postgresql+psycopg"}:
        raise ConfigError(
            f"DATABASE_URL must start with postgresql:// (got {parts.scheme or 'no scheme'!r}); "
            "for example postgresql://postgres@127.0.0.1:5432/langfuse"
        )
    options = {key: value for key, value in parse_qsl(parts.query) if key not in PRISMA_ONLY_OPTIONS}
    schema = options.pop("schema", "")
    if schema and schema != "public":
        options["options"] = f"{options.get('options', '')} -c search_path={schema}".strip()
    host = options.pop("host", None) or unquote(parts.hostname or "")
    if "port" in options:
        port = options.pop("port")
        if not port.isdigit():
            raise ConfigError(f"DATABASE_URL has a port that is not a number: {port!r}")
    name = unquote(parts.path.lstrip("/"))
    if not name:
        raise ConfigError("DATABASE_URL has no database name: add it after the host, as in .../langfuse")
    return {
        "NAME": name,
        "USER": unquote(parts.username or ""),
        "PASSWORD": unquote(parts.password or ""),
        "HOST": host,
        "PORT": str(port or ""),
        "OPTIONS": options,
    }
