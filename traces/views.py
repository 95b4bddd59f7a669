from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.views.decorators.http import require_safe

from accounts.access import project_view
from langfuse_ui.htmx import render_page
from traces.models import Trace

PAGE_SIZE = 50


@require_safe
@project_view()
def trace_list(request: HttpRequest) -> HttpResponse:
    traces = list(Trace.objects.for_project(request.project).order_by("-timestamp")[:PAGE_SIZE])
    return render_page(request, "traces/trace_list.html", {"traces": traces})
