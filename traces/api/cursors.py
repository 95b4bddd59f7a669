"""Opaque keyset cursors for the v2/v3 list routes: base64url of (timestamp, id).

Rows are read newest first, ordered by (time DESC, id DESC); the cursor names the last row
served, and the next page starts strictly after it. No OFFSET, so deep pages stay cheap and a
walk serves every row exactly once even while new rows arrive at the head.
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from datetime import datetime

from django.db.models import Q

from traces.api.params import InvalidRequest, parse_timestamp


@dataclass(frozen=True)
class Cursor:
    time: datetime
    id: str


def encode_cursor(time: datetime, row_id: str) -> str:
    raw = json.dumps({"t": time.isoformat(), "id": row_id}, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(token: str) -> Cursor:
    try:
        padded = token + "=" * (-len(token) % 4)
        data = json.loads(base64.urlsafe_b64decode(padded.encode()))
        return Cursor(time=parse_timestamp(data["t"], "cursor"), id=str(data["id"]))
    except (
        binascii.Error,
        ValueError,
        KeyError,
        TypeError,
        InvalidRequest,
        UnicodeDecodeError,
        RecursionError,
    ):
        raise InvalidRequest(
            "cursor is not valid: pass the meta.cursor of the previous page unchanged"
        ) from None


def after_keyset(cursor: Cursor, time_field: str) -> Q:
    return Q(**{f"{time_field}__lt": cursor.time}) | Q(**{time_field: cursor.time, "id__lt": cursor.id})
