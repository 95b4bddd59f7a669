"""Health and readiness probes of the public API."""

from __future__ import annotations

from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_safe

from langfuse_ui import lifecycle
from langfuse_ui.middleware import database_unavailable

VERSION = "0.1.0"


def _database_ok() -> bool:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        return True
    except Exception as exc:
        if database_unavailable(exc):
            connection.close()
            return False
        raise


@require_safe
def health(request: HttpRequest) -> JsonResponse:
    if request.GET.get("failIfDatabaseUnavailable") == "true" and not _database_ok():
        return JsonResponse({"status": "Database not available", "version": VERSION}, status=503)
    return JsonResponse({"status": "OK", "version": VERSION})


_migrated = False


def _migrations_applied() -> bool:
    global _migrated
    if not _migrated:
        executor = MigrationExecutor(connection)
        _migrated = not executor.migration_plan(executor.loader.graph.leaf_nodes())
    return _migrated


@require_safe
def ready(request: HttpRequest) -> JsonResponse:
    if lifecycle.shutting_down():
        return JsonResponse({"status": "Shutting down"}, status=503)
    if not _database_ok():
        return JsonResponse({"status": "Database not available"}, status=503)
    if not _migrations_applied():
        return JsonResponse({"status": "Database migrations pending"}, status=503)
    return JsonResponse({"status": "OK"})


@csrf_exempt
def not_found(request: HttpRequest, *args, **kwargs) -> JsonResponse:
    """Any /api/public/ URL no route matches: a JSON 404 (Django's own 404 page is HTML)."""
    return JsonResponse(
        {
            "message": f"No public API route matches {request.path!r:.200}; see /api/public/openapi.json",
            "error": "NotFound",
        },
        status=404,
    )


not_found.catch_all = True  # traces/api/openapi.py leaves it out of the document
