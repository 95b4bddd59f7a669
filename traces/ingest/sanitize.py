"""Make client values storable: PostgreSQL text and JSONB refuse NUL characters and lone surrogates."""

from __future__ import annotations

import json
from typing import Any

import orjson

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
# Datetimes and dataclasses go through default=str as with the json module, not orjson's own format.
_ORJSON_OPTIONS = orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_DATACLASS


def jsonb_text(value: Any) -> str:
    """Serialise value as JSON text that PostgreSQL's jsonb accepts.

    The fast path is orjson (about eight times the json module on chat messages). It gives up,
    or its text is not used, wherever the two could differ: keys that are not strings, integers
    past 64 bits, lone surrogates and deep nesting raise, and a NaN or an infinity (orjson writes
    null) can only hide in a text holding `null`. Those values take the json module's path as
    before: one C-level json.dumps, and only values holding NUL characters, lone surrogates,
    non-finite floats or absurd nesting take the slow cleaning walk.
    """
    try:
        data = orjson.dumps(value, default=str, option=_ORJSON_OPTIONS)
    except TypeError:  # orjson.JSONEncodeError
        pass
    else:
        if b"null" not in data and b"\\u0000" not in data:
            return data.decode()
    try:
        text = _ENCODER.encode(value)
        if "\x00" not in text and "\\u0000" not in text:
            text.encode("utf-8")  # raises on lone surrogates
            return text
    except (ValueError, RecursionError, UnicodeEncodeError):
        pass
    return json.dumps(clean_json(value), ensure_ascii=False, separators=(",", ":"))
