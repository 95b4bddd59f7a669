from __future__ import annotations

from django.apps import AppConfig


class BudgetsConfig(AppConfig):
    name = "traces.budgets"
    label = "budgets"  # kept: the migrations and URL names use it
    default_auto_field = "django.db.models.BigAutoField"
