"""Query-string (and JSON body) parsing for the read API, with 400s a person can act on.

A view wraps its work in `@answers_bad_request`; any parser here raises InvalidRequest with
a message naming the parameter and what it accepts.
"""

from __future__ import annotations

import functools
import json
import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from django.http import HttpRequest, HttpResponse, QueryDict
from django.utils.dateparse import parse_datetime

from accounts.access import api_error

DEFAULT_LIMIT = 50
MAX_LIMIT = 100
MAX_INTEGER = 2**31 - 1  # page * limit must stay inside PostgreSQL's bigint


class InvalidRequest(Exception):
    pass


def answers_bad_request(view: Callable) -> Callable:
    @functools.wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        try:
            return view(request, *args, **kwargs)
        except InvalidRequest as exc:
            return api_error(str(exc), 400, "InvalidRequestError")

    return wrapper


def not_found(what: str) -> HttpResponse:
    return api_error(f"{what} not found within authorized project", 404, "LangfuseNotFoundError")


class Params:
    """One reader for a QueryDict (GET) or a dict (a JSON body), so both share the parsers."""

    def __init__(self, source: QueryDict | Mapping[str, Any]) -> None:
        self.source = source

    def get(self, name: str) -> str | None:
        if isinstance(self.source, QueryDict):
            value = self.source.get(name)
        else:
            value = self.source.get(name)
            if isinstance(value, list):
                value = value[-1] if value else None
            elif value is not None and not isinstance(value, str):
                value = value if isinstance(value, dict) else str(value)
        if isinstance(value, str) and value == "":
            return None
        if isinstance(value, str) and "\x00" in value:
            raise InvalidRequest(f"{name} must not contain NUL characters")
        return value

    def getlist(self, name: str) -> list[str]:
        if isinstance(self.source, QueryDict):
            values = self.source.getlist(name)
        else:
            raw = self.source.get(name)
            values = raw if isinstance(raw, list) else ([] if raw is None else [raw])
        values = [str(v) for v in values if v not in (None, "")]
        if any("\x00" in v for v in values):
            raise InvalidRequest(f"{name} must not contain NUL characters")
        return values

    def has(self, name: str) -> bool:
        return self.get(name) is not None or bool(self.getlist(name))

    def integer(self, name: str, default: int | None = None, *, minimum: int | None = None) -> int | None:
        raw = self.get(name)
        if raw is None:
            return default
        try:
            value = int(raw)
        except (TypeError, ValueError):
            raise InvalidRequest(f"{name} must be an integer, got {raw!r}") from None
        if minimum is not None and value < minimum:
            raise InvalidRequest(f"{name} must be at least {minimum}, got {value}")
        if abs(value) > MAX_INTEGER:
            raise InvalidRequest(f"{name} must be at most {MAX_INTEGER}, got {raw!r:.40}")
        return value

    def decimal(self, name: str) -> float | None:
        raw = self.get(name)
        if raw is None:
            return None
        try:
            value = float(raw)
        except (TypeError, ValueError):
            raise InvalidRequest(f"{name} must be a number, got {raw!r}") from None
        if not math.isfinite(value):
            raise InvalidRequest(f"{name} must be a finite number")
        return value

    def timestamp(self, name: str) -> datetime | None:
        raw = self.get(name)
        return None if raw is None else parse_timestamp(raw, name)

    def boolean(self, name: str) -> bool | None:
        raw = self.get(name)
        if raw is None:
            return None
        lowered = str(raw).lower()
        if lowered in ("true", "1"):
            return True
        if lowered in ("false", "0"):
            return False
        raise InvalidRequest(f"{name} must be true or false, got {raw!r}")

    def choice(self, name: str, choices: list[str] | tuple[str, ...]) -> str | None:
        raw = self.get(name)
        if raw is None:
            return None
        if raw not in choices:
            raise InvalidRequest(f"{name} must be one of {', '.join(choices)}; got {raw!r}")
        return raw

    def csv(self, name: str) -> list[str]:
        """Comma-separated and/or repeated values."""
        return [part.strip() for value in self.getlist(name) for part in value.split(",") if part.strip()]

    def json_value(self, name: str) -> Any:
        raw = self.source.get(name) if not isinstance(self.source, QueryDict) else self.get(name)
        if raw is None or raw == "":
            return None
        if not isinstance(raw, str):
            return raw
        try:
            value = json.loads(raw)
        except json.JSONDecodeError as exc:
            raise InvalidRequest(f"{name} must be valid JSON: {exc.msg} at position {exc.pos}") from None
        except RecursionError:
            raise InvalidRequest(f"{name} is JSON nested too deeply") from None
        if holds_nul(value):
            raise InvalidRequest(f"{name} must not contain NUL characters")
        return value


def holds_nul(value: Any) -> bool:
    """Whether a parsed JSON value holds a NUL character anywhere (PostgreSQL text cannot)."""
    pending = [value]
    while pending:
        item = pending.pop()
        if isinstance(item, str):
            if "\x00" in item:
                return True
        elif isinstance(item, dict):
            pending.extend(item.keys())
            pending.extend(item.values())
        elif isinstance(item, list):
            pending.extend(item)
    return False


def parse_timestamp(raw: str, name: str) -> datetime:
    try:
        # A "+" in an offset arrives as a space when the client did not encode it.
        value = parse_datetime(re.sub(r" (\d{2}:?\d{2})$", r"+\1", raw.strip()))
    except ValueError:
        value = None
    if value is None:
        raise InvalidRequest(f"{name} must be an ISO 8601 datetime such as 2024-05-01T00:00:00Z, got {raw!r}")
    try:
        # In UTC: PostgreSQL refuses offsets beyond 15:59 (Python allows 23:59).
        value = value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    except OverflowError:
        value = None
    if value is None or not 1 < value.year < 9999:
        raise InvalidRequest(f"{name} must be a datetime between the years 2 and 9998, got {raw!r:.60}")
    return value


@dataclass(frozen=True)
class Page:
    page: int
    limit: int

    @property
    def offset(self) -> int:
        return (self.page - 1) * self.limit

    def meta(self, total: int) -> dict[str, int]:
        return {
            "page": self.page,
            "limit": self.limit,
            "totalItems": total,
            "totalPages": math.ceil(total / self.limit) if total else 0,
        }


def page_params(params: Params, *, max_limit: int = MAX_LIMIT) -> Page:
    page = params.integer("page", 1, minimum=1)
    limit = params.integer("limit", DEFAULT_LIMIT, minimum=1)
    if limit > max_limit:
        raise InvalidRequest(f"limit must be at most {max_limit}, got {limit}")
    return Page(page=page, limit=limit)


def field_groups(params: Params, allowed: tuple[str, ...], default: frozenset[str]) -> set[str]:
    raw = params.csv("fields")
    if not raw:
        return set(default)
    unknown = [group for group in raw if group not in allowed]
    if unknown:
        raise InvalidRequest(
            f"Unknown field group(s) {', '.join(unknown)} in fields; available: {', '.join(allowed)}"
        )
    return set(raw)
