from __future__ import annotations

from django.urls import path

from traces import trace_views, views

app_name = "traces"
urlpatterns = [
    path("project/<str:project_id>/traces", views.trace_list, name="list"),
    path("project/<str:project_id>/annotations/score", trace_views.annotate_score, name="annotate-score"),
    path(
        "project/<str:project_id>/annotations/comment", trace_views.annotate_comment, name="annotate-comment"
    ),
    path("project/<str:project_id>/trace-value", trace_views.trace_value, name="value"),
    path("project/<str:project_id>/media/<str:media_id>", trace_views.media_file, name="media"),
    # Keep last: <path:trace_id> matches any traces/<...> path listed after it.
    path("project/<str:project_id>/traces/<path:trace_id>", trace_views.trace_detail, name="detail"),
]
