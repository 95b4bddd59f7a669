from __future__ import annotations

from django.apps import AppConfig


class LangfuseUiConfig(AppConfig):
    name = "langfuse_ui"
    verbose_name = "Langfuse UI core"
