from __future__ import annotations

from django.urls import path

from traces.budgets import views

app_name = "budgets"

urlpatterns = [
    path("organization/<str:org_id>/dashboards", views.organization_dashboard, name="organization-dashboard"),
    path(
        "organization/<str:org_id>/dashboards/<str:key>.csv", views.organization_csv, name="organization-csv"
    ),
    path("project/<str:project_id>/settings/budgets", views.budget_settings, name="settings"),
    path(
        "project/<str:project_id>/settings/budgets/<int:budget_id>/delete", views.budget_delete, name="delete"
    ),
]
