"""Make client values storable: PostgreSQL text and JSONB refuse NUL characters and lone surrogates."""

from __future__ import annotations

import json
from typing import Any

MAX_DEPTH = 200


def clean_text(value: str) -> str:
    if "\x00" in value:
        value = value.replace("\x00", "")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        value = value.encode("utf-8", "replace").decode("utf-8")
    return value


def clean_json(value: Any, depth: int = 0) -> Any:
    """A copy of value that JSONB accepts: strings cleaned, non-finite floats as strings, depth bounded."""
    if isinstance(value, str):
        return clean_text(value)
    if isinstance(value, bool) or value is None or isinstance(value, int):
        return value
    if isinstance(value, float):
        return value if value == value and value not in (float("inf"), float("-inf")) else str(value)
    if depth >= MAX_DEPTH:
        return "[truncated: nested too deeply]"
    if isinstance(value, dict):
        return {clean_text(str(k)): clean_json(v, depth + 1) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [clean_json(v, depth + 1) for v in value]
    return clean_text(str(value))


_ENCODER = json.JSONEncoder(ensure_ascii=False, allow_nan=False, separators=(",", ":"), default=str)


def jsonb_text(value: Any) -> str:
    """Serialise value as JSON text that PostgreSQL's jsonb accepts.

    The fast path is one C-level json.dumps; only values holding NUL characters, lone
    surrogates, non-finite floats or absurd nesting take the slow cleaning walk.
    """
    try:
        text = _ENCODER.encode(value)
        if "\x00" not in text and "\\u0000" not in text:
            text.encode("utf-8")  # raises on lone surrogates
            return text
    except (ValueError, RecursionError, UnicodeEncodeError):
        pass
    return json.dumps(clean_json(value), ensure_ascii=False, separators=(",", ":"))
