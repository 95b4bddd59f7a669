"""GET /api/public/openapi.json: the routes of the URLconf, no more and no fewer, in Langfuse's words."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from django.urls import include, path
from django.views.decorators.http import require_safe

from langfuse_ui import urls as project_urls
from traces.api import openapi

REFERENCE = Path(openapi.__file__).resolve().parents[3] / "shared" / "reference" / "langfuse-openapi.yml"


@require_safe
def _probe_view(request):  # a route of the test URLconf below, in no document
    raise AssertionError("never called")


# This module doubles as a URLconf: the project's routes plus one that no document mentions.
urlpatterns = [
    *project_urls.urlpatterns,
    path("api/public/", include(([path("brand-new-route", _probe_view, name="probe")], "probe"))),
]


def test_the_document_is_served_without_a_key(client):
    response = client.get("/api/public/openapi.json")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    doc = json.loads(response.content)
    assert doc["openapi"].startswith("3.0")
    assert doc["components"]["securitySchemes"]["BasicAuth"] == {"type": "http", "scheme": "basic"}
    assert "/api/public/ingestion" in doc["paths"]
    assert client.post("/api/public/openapi.json").status_code == 405


def test_every_route_of_the_urlconf_is_documented_and_every_documented_route_exists():
    missing, unserved = openapi.coverage_gaps(openapi.document())
    assert missing == [], (
        f"Routes in the URLconf but not in /api/public/openapi.json: {missing}. Add them to "
        "EXTRA_OPERATIONS (or, with a reason, UNDOCUMENTED) in traces/api/openapi.py"
    )
    assert unserved == [], f"Documented but not routed: {unserved}"


def test_undocumented_routes_are_real_routes():
    ours = {(openapi._shape(p), m) for p, m in openapi.implemented_routes()}
    stale = [key for key in openapi.UNDOCUMENTED if (openapi._shape(key[0]), key[1]) not in ours]
    assert stale == [], f"UNDOCUMENTED names routes the URLconf no longer has: {stale}"


def test_a_new_route_without_a_document_entry_is_reported(settings):
    settings.ROOT_URLCONF = __name__
    missing, _ = openapi.coverage_gaps(openapi.document())
    assert ("/api/public/brand-new-route", "get") in missing


def test_a_documented_operation_without_a_route_is_reported():
    doc = json.loads(json.dumps(openapi.document()))
    doc["paths"]["/api/public/comments"] = {"get": {"responses": {}}}
    _, unserved = openapi.coverage_gaps(doc)
    assert unserved == [("/api/public/comments", "get")]


def test_methods_come_from_the_views():
    routes = openapi.implemented_routes()
    assert {m for (p, m) in routes if p == "/api/public/traces"} == {"get", "post", "delete"}
    assert {m for (p, m) in routes if p == "/api/public/spans"} == {"post", "patch"}
    assert {m for (p, m) in routes if p == "/api/public/health"} == {"get"}
    assert {m for (p, m) in routes if p == "/api/public/media/{mediaId}"} == {"get", "patch"}


def test_every_reference_resolves_and_no_unused_schema_is_served():
    doc = openapi.document()
    schemas = doc["components"]["schemas"]
    used = set(openapi._refs(doc["paths"]))
    for name in list(used):
        used |= set(openapi._refs(schemas[name]))
    pending = list(used)
    while pending:
        for ref in openapi._refs(schemas[pending.pop()]):
            assert ref in schemas, f"dangling $ref {ref}"
            if ref not in used:
                used.add(ref)
                pending.append(ref)
    assert used == set(schemas)


def test_our_differences_are_in_the_document():
    doc = openapi.document()
    ingestion = doc["paths"]["/api/public/ingestion"]["post"]["responses"]
    assert "207" in ingestion and "200" not in ingestion
    for item in doc["paths"].values():
        for op in item.values():
            assert "503" in op["responses"]  # database unreachable: retry
    assert "/api/public/openapi.json" not in doc["paths"]


@pytest.mark.skipif(not REFERENCE.exists(), reason="../shared/reference is not beside this checkout")
def test_the_bundled_spec_is_the_reference_copy():
    assert openapi.SPEC_PATH.read_bytes() == REFERENCE.read_bytes()
