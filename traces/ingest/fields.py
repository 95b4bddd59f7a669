"""Parsing of the scalar values every ingestion path shares: ids, timestamps, environments, levels."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

MAX_ID_LENGTH = 800
ENVIRONMENT_PATTERN = re.compile(r"^[a-z0-9_-]{1,40}$")
LEVELS = {"DEBUG", "DEFAULT", "WARNING", "ERROR"}


class InvalidEvent(ValueError):
    """An event the client must fix; the message says what is wrong."""


def parse_id(value: Any, what: str = "id") -> str:
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str) or not value:
        raise InvalidEvent(f"{what} must be a non-empty string")
    if len(value) > MAX_ID_LENGTH:
        raise InvalidEvent(f"{what} is longer than {MAX_ID_LENGTH} characters")
    if "\r" in value or "\x00" in value:
        raise InvalidEvent(f"{what} must not contain carriage returns or NUL characters")
    return value


def parse_optional_id(value: Any, what: str) -> str | None:
    return None if value is None else parse_id(value, what)


def parse_timestamp(value: Any, what: str = "timestamp") -> datetime:
    """ISO-8601 (Z or offset; naive means UTC), or seconds / milliseconds since the epoch."""
    try:
        if isinstance(value, int | float) and not isinstance(value, bool):
            seconds = value / 1000 if value > 1e11 else value
            parsed = datetime.fromtimestamp(seconds, tz=UTC)
        elif isinstance(value, str):
            parsed = datetime.fromisoformat(value.strip())
            parsed = parsed.astimezone(UTC) if parsed.tzinfo else parsed.replace(tzinfo=UTC)
        else:
            parsed = None
        # Years 1 and 9999 are refused too: an offset or a day's arithmetic would leave the calendar
        # PostgreSQL and Python share, and the row could no longer be read back.
        if parsed is not None and 1 < parsed.year < 9999:
            return parsed
    except (ValueError, OverflowError, OSError):
        pass
    raise InvalidEvent(
        f"{what} must be an ISO-8601 date-time between the years 2 and 9998 such as "
        f"2026-01-31T12:00:00.000Z, got {value!r:.60}"
    )


def normalize_environment(value: Any) -> str:
    """Langfuse's rule: lower-case, reserved langfuse- prefix stripped, [a-z0-9_-]{1,40}, else 'default'."""
    if not isinstance(value, str):
        return "default"
    env = value.strip().lower()
    env = re.sub(r"^langfuse[-_]", "", env)
    return env if ENVIRONMENT_PATTERN.match(env) else "default"


def parse_level(value: Any) -> str:
    level = str(value).upper()
    if level not in LEVELS:
        raise InvalidEvent(f"level must be one of DEBUG, DEFAULT, WARNING, ERROR, got {value!r:.40}")
    return level


def as_text(value: Any, what: str, limit: int = 1000) -> str:
    if isinstance(value, str):
        return value[:limit]
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    raise InvalidEvent(f"{what} must be a string")


def as_metadata(value: Any) -> dict:
    """Metadata is an object; anything else is kept under the key 'metadata'."""
    if isinstance(value, dict):
        return value
    return {"metadata": value}
