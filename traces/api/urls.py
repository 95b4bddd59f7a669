"""Public API routes of the traces app, mounted under /api/public/."""

from __future__ import annotations

from django.urls import path

from traces.api import (
    converters,  # noqa: F401  (registers <anypath:>)
    openapi,
)
from traces.api import dispatch as read
from traces.api import ingestion_routes as ingest
from traces.api import media_routes as media

urlpatterns: list = [
    path("openapi.json", openapi.openapi_json, name="openapi"),
    # Writes (ingestion_routes.py)
    path("ingestion", ingest.ingestion, name="ingestion"),
    path("otel/v1/traces", ingest.otel_traces, name="otel-traces"),
    path("otel/v1/metrics", ingest.otel_metrics, name="otel-metrics"),
    path("spans", ingest.spans, name="spans"),
    path("generations", ingest.generations, name="generations"),
    path("events", ingest.events, name="events"),
    # Reads and deletes (dispatch.py; shared paths hand POST/PATCH to the write handlers)
    path("traces", read.traces, name="traces"),
    path("traces/<anypath:trace_id>", read.trace, name="trace"),
    path("observations", read.observations, name="observations"),
    path("observations/<anypath:observation_id>", read.observation, name="observation"),
    path("v2/observations", read.observations_v2, name="observations-v2"),
    path("sessions", read.session_list, name="sessions"),
    path("sessions/<anypath:session_id>", read.session, name="session"),
    path("scores", read.scores, name="scores"),
    path("scores/<anypath:score_id>", read.score, name="score"),
    path("v2/scores", read.scores_v2, name="scores-v2"),
    path("v2/scores/<anypath:score_id>", read.score_v2, name="score-v2"),
    path("v3/scores", read.scores_v3, name="scores-v3"),
    path("score-configs", read.score_config_list, name="score-configs"),
    path("score-configs/<str:config_id>", read.score_config, name="score-config"),
    path("models", read.model_list, name="models"),
    path("models/<str:model_id>", read.model, name="model"),
    path("metrics/daily", read.metrics_daily, name="metrics-daily"),
    # Media (media_routes.py); the upload and download URLs carry a signed token instead of auth
    path("media", media.media_upload_url, name="media"),
    path("media/<str:media_id>", media.media_item, name="media-item"),
    path("media-upload/<str:token>", media.media_upload, name="media-upload"),
    path("media-download/<str:token>", media.media_download, name="media-download"),
]
