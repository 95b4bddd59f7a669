from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.views.decorators.http import require_safe

from accounts.access import project_view
from langfuse_ui.htmx import render_page
from traces.models import Trace

PAGE_SIZE = 50


def public_base_url(request: HttpRequest) -> str:
    """What an SDK's LANGFUSE_HOST should be: NEXTAUTH_URL when set, else the address in use."""
    return settings.PUBLIC_URL or request.build_absolute_uri("/").rstrip("/")


@require_safe
@project_view()
def trace_list(request: HttpRequest) -> HttpResponse:
    traces = list(Trace.objects.for_project(request.project).order_by("-timestamp")[:PAGE_SIZE])
    context = {"traces": traces, "page_size": PAGE_SIZE, "langfuse_host": public_base_url(request)}
    return render_page(request, "traces/trace_list.html", context)
