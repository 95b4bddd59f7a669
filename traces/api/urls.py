"""Public API routes of the traces app, mounted under /api/public/."""

from __future__ import annotations

from django.urls import path  # noqa: F401

urlpatterns: list = []
