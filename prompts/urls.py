"""Prompt pages under /project/<id>/prompts (Langfuse's addresses)."""

from __future__ import annotations

from django.urls import path

from prompts import playground_views, views

app_name = "prompts"
urlpatterns = [
    path("project/<str:project_id>/prompts", views.prompt_list, name="list"),
    path("project/<str:project_id>/prompts/new", views.new_prompt, name="new"),
    path("project/<str:project_id>/prompt-labels/<path:name>", views.prompt_labels, name="labels"),
    path("project/<str:project_id>/prompt-compare/<path:name>", views.prompt_compare, name="compare"),
    path(
        "project/<str:project_id>/prompt-playground/<path:name>",
        playground_views.prompt_playground,
        name="playground",
    ),
    path("project/<str:project_id>/prompts/<path:name>", views.prompt_detail, name="detail"),
]
