from __future__ import annotations

from django.urls import path

from traces import (
    bulk_delete_views,
    dashboard_views,
    export_views,
    media_settings_views,
    people_views,
    playground_views,
    retention_views,
    storage_views,
    trace_views,
    views,
)

app_name = "traces"
urlpatterns = [
    path("project/<str:project_id>/traces", views.trace_list, name="list"),
    path(
        "project/<str:project_id>/traces/actions/delete", bulk_delete_views.delete_traces, name="bulk_delete"
    ),
    path("project/<str:project_id>/traces/actions/views", views.save_view, name="save_view"),
    path("project/<str:project_id>/traces/actions/export.csv", export_views.export_csv, name="export-csv"),
    path(
        "project/<str:project_id>/traces/actions/export.jsonl", export_views.export_jsonl, name="export-jsonl"
    ),
    path(
        "project/<str:project_id>/traces/actions/export-job", export_views.export_to_bucket, name="export-job"
    ),
    path(
        "project/<str:project_id>/traces/actions/views/<str:view_id>/delete",
        views.delete_view,
        name="delete_view",
    ),
    path("project/<str:project_id>/sessions", people_views.session_list, name="sessions"),
    path(
        "project/<str:project_id>/sessions/actions/export.csv",
        export_views.export_sessions_csv,
        name="export-sessions-csv",
    ),
    path(
        "project/<str:project_id>/sessions/actions/export.jsonl",
        export_views.export_sessions_jsonl,
        name="export-sessions-jsonl",
    ),
    path("project/<str:project_id>/sessions/<path:session_id>", people_views.session_detail, name="session"),
    path("project/<str:project_id>/users", people_views.user_list, name="users"),
    path("project/<str:project_id>/users/<path:user_id>", people_views.user_detail, name="user"),
    path("project/<str:project_id>/annotations/score", trace_views.annotate_score, name="annotate-score"),
    path(
        "project/<str:project_id>/annotations/comment", trace_views.annotate_comment, name="annotate-comment"
    ),
    path("project/<str:project_id>/trace-value", trace_views.trace_value, name="value"),
    path("project/<str:project_id>/media/<str:media_id>", trace_views.media_file, name="media"),
    path("project/<str:project_id>/dashboards", dashboard_views.dashboard, name="dashboard"),
    path(
        "project/<str:project_id>/dashboards/charts/<str:key>.csv",
        dashboard_views.chart_csv,
        name="chart-csv",
    ),
    path("project/<str:project_id>/dashboards/charts/<str:key>", dashboard_views.chart, name="chart"),
    path("project/<str:project_id>/settings/retention", retention_views.retention_settings, name="retention"),
    path("project/<str:project_id>/settings/exports", export_views.exports_page, name="exports"),
    path(
        "project/<str:project_id>/settings/exports/schedule",
        export_views.export_schedule,
        name="export-schedule",
    ),
    path("project/<str:project_id>/settings/exports/check", export_views.export_check, name="export-check"),
    path(
        "project/<str:project_id>/settings/exports/<str:job_id>/download",
        export_views.export_download,
        name="export-download",
    ),
    path(
        "project/<str:project_id>/settings/media", media_settings_views.media_settings, name="media-settings"
    ),
    path("organization/<str:org_id>/settings/storage", storage_views.storage, name="storage"),
    path("assets/plotly-<str:version>.min.js", dashboard_views.plotly_js, name="plotly-js"),
    path("project/<str:project_id>/playground", playground_views.playground_page, name="playground"),
    path(
        "project/<str:project_id>/settings/llm-connections",
        playground_views.connections_page,
        name="llm-connections",
    ),
    path(
        "project/<str:project_id>/settings/llm-connections/<str:connection_id>/delete",
        playground_views.connection_delete,
        name="llm-connection-delete",
    ),
    # Keep last: <path:trace_id> matches any traces/<...> path listed after it.
    path("project/<str:project_id>/traces/<path:trace_id>", trace_views.trace_detail, name="detail"),
]
