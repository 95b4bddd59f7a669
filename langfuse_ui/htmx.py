"""Render a whole page, or only the partial that htmx asked for."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render


def render_page(
    request: HttpRequest, template: str, context: dict, partial: str | None = None
) -> HttpResponse:
    """The partial named after the hx-target when htmx asks for it, else the whole page."""
    target = getattr(request, "htmx", None) and request.htmx.target
    name = f"{template}#{partial or target}" if target and (partial or target) else template
    response = render(request, name, context)
    response["Vary"] = "HX-Request"
    return response
