"""Downloads of the traces list: every trace matching the list's filter, as CSV or JSON Lines."""

from __future__ import annotations

from collections.abc import Callable, Iterator

from django.core.handlers.asgi import ASGIRequest
from django.http import HttpRequest, StreamingHttpResponse
from django.utils import timezone
from django.views.decorators.http import require_safe

from accounts.access import project_view
from traces.exports import as_async, csv_chunks, iter_trace_chunks, jsonl_chunks
from traces.forms import TraceListForm


def _download(
    request: HttpRequest, encode: Callable[[Iterator], Iterator[str]], extension: str, content_type: str
):
    now = timezone.now()
    state = TraceListForm(request.GET).state()
    chunks = iter_trace_chunks(request.project, state, now)
    blocks = encode(chunks)
    if isinstance(request, ASGIRequest):
        blocks = as_async(blocks)
    response = StreamingHttpResponse(blocks, content_type=content_type)
    filename = f"traces-{request.project.pk}-{now:%Y%m%dT%H%M%SZ}.{extension}"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["Cache-Control"] = "no-store"
    response["X-Accel-Buffering"] = "no"  # let nginx pass chunks on as they come
    return response


@require_safe
@project_view()
def export_csv(request: HttpRequest) -> StreamingHttpResponse:
    return _download(request, csv_chunks, "csv", "text/csv; charset=utf-8")


@require_safe
@project_view()
def export_jsonl(request: HttpRequest) -> StreamingHttpResponse:
    return _download(request, jsonl_chunks, "jsonl", "application/x-ndjson; charset=utf-8")
