"""Reading request bodies: size limit (413 naming it), gzip/deflate, JSON."""

from __future__ import annotations

import gzip
import json
import zlib
from typing import Any

from django.conf import settings
from django.http import HttpRequest


class BodyError(Exception):
    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


def _limit_message(limit: int) -> str:
    return (
        f"Request body is larger than the limit of {limit} bytes (LANGFUSE_INGESTION_MAX_BODY_BYTES); "
        "send smaller batches"
    )


def read_body(request: HttpRequest) -> bytes:
    """The decoded body; BodyError(413) past the limit, before or after decompression."""
    limit = settings.INGESTION_MAX_BODY_BYTES
    declared = request.META.get("CONTENT_LENGTH")
    if declared and declared.isdigit() and int(declared) > limit:
        raise BodyError(_limit_message(limit), 413)
    raw = request.body
    if len(raw) > limit:
        raise BodyError(_limit_message(limit), 413)
    encoding = (request.headers.get("Content-Encoding") or "identity").strip().lower()
    if encoding in ("", "identity"):
        return raw
    try:
        if encoding == "gzip":
            decompressor = zlib.decompressobj(16 + zlib.MAX_WBITS)
        elif encoding == "deflate":
            decompressor = zlib.decompressobj()
        else:
            raise BodyError(
                f"Unsupported Content-Encoding {encoding!r}: send gzip, deflate or no encoding", 415
            )
        data = decompressor.decompress(raw, limit + 1)
        if len(data) > limit or decompressor.unconsumed_tail:
            raise BodyError(_limit_message(limit) + " (after decompression)", 413)
        return data + decompressor.flush()
    except (zlib.error, gzip.BadGzipFile, EOFError) as exc:
        raise BodyError(f"Request body is not valid {encoding} data: {exc}") from None


def read_json(request: HttpRequest) -> Any:
    body = read_body(request)
    if not body.strip():
        raise BodyError("Request body is empty: send a JSON document")
    try:
        return json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise BodyError(f"Request body is not valid JSON: {exc}") from None
    except RecursionError:
        raise BodyError("Request body is JSON nested too deeply (more than about 900 levels)") from None
