from __future__ import annotations

from django.urls import path

from traces import views

app_name = "traces"
urlpatterns = [
    path("project/<str:project_id>/traces", views.trace_list, name="list"),
]
