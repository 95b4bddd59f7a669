"""How an accounts form view answers after a POST: the swapped partial for htmx, else a redirect."""

from __future__ import annotations

from collections.abc import Callable

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect

from langfuse_ui.htmx import render_page


def after_action(
    request: HttpRequest,
    url: str,
    template: str,
    context: Callable[[], dict],
    partial: str,
    message: str = "",
) -> HttpResponse:
    """htmx gets the fresh partial (messages included); a full page POST gets redirected."""
    if message:
        messages.success(request, message)
    if request.htmx:
        return render_page(request, template, context(), partial)
    return redirect(url)


def refused(
    request: HttpRequest, url: str, template: str, context: Callable[[], dict], partial: str, error: str
):
    messages.error(request, error)
    if request.htmx:
        return render_page(request, template, context(), partial)
    return redirect(url)
