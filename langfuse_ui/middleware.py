"""Cross-cutting middleware: security headers, and an unreachable database as 503.

DatabaseUnavailableMiddleware turns an unreachable database into 503 + Retry-After, which every
SDK retries: a 500 makes the SDKs drop the batch; a 503 makes them try again, so nothing is lost.
"""

from __future__ import annotations

import contextlib
import logging

import psycopg
from django.conf import settings
from django.db import InterfaceError, OperationalError, connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from psycopg_pool import PoolTimeout

log = logging.getLogger(__name__)

# Django's wrappers, and psycopg's own classes for code that uses a raw psycopg cursor (COPY).
UNAVAILABLE = (
    OperationalError,
    InterfaceError,
    psycopg.OperationalError,
    psycopg.InterfaceError,
    PoolTimeout,
)


def database_unavailable(exc: BaseException) -> bool:
    return isinstance(exc, UNAVAILABLE) or isinstance(exc.__cause__, PoolTimeout)


def unavailable_response() -> HttpResponse:
    response = JsonResponse(
        {"message": "The database is unavailable; retry shortly", "error": "ServiceUnavailable"}, status=503
    )
    response["Retry-After"] = "2"
    return response


class DatabaseUnavailableMiddleware:
    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exc: Exception) -> HttpResponse | None:
        if database_unavailable(exc):
            log.warning("database unavailable on %s %s: %s", request.method, request.path, exc)
            # Drop the broken connection so the next request gets a fresh one.
            with contextlib.suppress(Exception):
                connection.close()
            return unavailable_response()
        return None


class SecurityHeadersMiddleware:
    """Content-Security-Policy (settings.CONTENT_SECURITY_POLICY) on every response without its own.

    Django's SecurityMiddleware and XFrameOptionsMiddleware send HSTS, nosniff, Referrer-Policy,
    Cross-Origin-Opener-Policy and X-Frame-Options; Django 5.2 has no CSP of its own. A view that
    needs a stricter policy (media downloads: sandbox) sets the header itself and keeps it.
    """

    def __init__(self, get_response) -> None:
        self.get_response = get_response
        self.policy = settings.CONTENT_SECURITY_POLICY

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if self.policy and "Content-Security-Policy" not in response:
            response["Content-Security-Policy"] = self.policy
        return response


class BodySizeLimitMiddleware:
    """413 with the limit's name for a declared body over DATA_UPLOAD_MAX_MEMORY_SIZE.

    Without it Django answers such a form or JSON post with a bare 400 when the body is first read.
    Media uploads stream to storage under their own limit (LANGFUSE_S3_MEDIA_MAX_CONTENT_LENGTH), and
    chunked bodies without Content-Length are counted as they are read (traces/ingest/body.py).
    """

    EXEMPT_PREFIXES = ("/api/public/media-upload/",)

    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        try:
            declared = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            declared = 0
        if limit and declared > limit and not request.path.startswith(self.EXEMPT_PREFIXES):
            message = (
                f"Request body of {declared} bytes is larger than the limit of {limit} bytes "
                "(LANGFUSE_INGESTION_MAX_BODY_BYTES); send smaller requests"
            )
            if request.path.startswith("/api/"):
                return JsonResponse({"message": message, "error": "PayloadTooLarge"}, status=413)
            return HttpResponse(message, status=413, content_type="text/plain; charset=utf-8")
        return self.get_response(request)
