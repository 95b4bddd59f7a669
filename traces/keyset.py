"""Keyset pagination: pages after or before a cursor on (sort value, id), never OFFSET.

A cursor is the sort value and id of a row, base64url-encoded JSON. The condition that skips
to it is `key <= v AND (key < v OR id < i)` (mirrored for ascending order): the redundant
`key <= v` bounds the index scan, so page 100 costs what page 1 costs.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.db import models
from django.db.models import F, Q


@dataclass
class Page:
    rows: list = field(default_factory=list)
    next_cursor: str | None = None
    previous_cursor: str | None = None


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return value


def encode_cursor(value: Any, row_id: str) -> str:
    raw = json.dumps([_plain(value), row_id], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(text: str | None, parse: Callable[[Any], Any]) -> tuple[Any, str] | None:
    """(sort value, id) from a cursor; None for a missing or damaged one (the first page)."""
    if not text:
        return None
    try:
        value, row_id = json.loads(base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)))
        return parse(value), str(row_id)
    except (binascii.Error, ValueError, TypeError, ArithmeticError):
        return None


def parse_datetime_value(value: Any) -> datetime:
    return datetime.fromisoformat(value)


def beyond(key: str, id_field: str, value: Any, row_id: str, downwards: bool) -> Q:
    """Rows after (value, row_id) when walking the order downwards or upwards."""
    if downwards:
        return Q(**{f"{key}__lte": value}) & (Q(**{f"{key}__lt": value}) | Q(**{f"{id_field}__lt": row_id}))
    return Q(**{f"{key}__gte": value}) & (Q(**{f"{key}__gt": value}) | Q(**{f"{id_field}__gt": row_id}))


def keyset_page(
    qs: models.QuerySet,
    *,
    key: str,
    parse: Callable[[Any], Any],
    descending: bool,
    after: str | None = None,
    before: str | None = None,
    size: int = 50,
    id_field: str = "id",
    value_of: Callable[[Any], tuple[Any, str]] | None = None,
) -> Page:
    """One page of qs (which must select `key`) in (key, id_field) order, after or before a cursor."""
    value_of = value_of or (lambda row: (getattr(row, key), getattr(row, id_field)))
    backwards = bool(before) and not after
    cursor = decode_cursor(before if backwards else after, parse)
    backwards = backwards and cursor is not None  # a damaged cursor means the first page
    downwards = descending != backwards
    if cursor is not None:
        qs = qs.filter(beyond(key, id_field, cursor[0], cursor[1], downwards))
    direction = "desc" if downwards else "asc"
    qs = qs.order_by(getattr(F(key), direction)(), getattr(F(id_field), direction)())
    rows = list(qs[: size + 1])
    more = len(rows) > size
    rows = rows[:size]
    if backwards:
        rows.reverse()
    page = Page(rows=rows)
    if rows:
        has_next, has_previous = (True, more) if backwards else (more, cursor is not None)
        if has_next:
            page.next_cursor = encode_cursor(*value_of(rows[-1]))
        if has_previous:
            page.previous_cursor = encode_cursor(*value_of(rows[0]))
    return page
