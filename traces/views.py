from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import quote

from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import get_object_or_404, redirect
from django.utils import timezone
from django.views.decorators.http import require_POST, require_safe

from accounts.access import has_role, project_view
from accounts.models import Role
from langfuse_ui.htmx import render_page
from traces.bulk_delete import DELETE_ROLE
from traces.forms import (
    COLUMNS,
    DEFAULTS,
    FILTER_FIELDS,
    VIEW_FIELDS,
    SavedViewForm,
    TraceListForm,
    query_string,
)
from traces.keyset import Page, encode_cursor
from traces.list_queries import PAGE_SIZE, newer_traces, scores_by_trace, trace_page
from traces.models import SavedView, Trace
from traces.people_queries import group_href

TEMPLATE = "traces/trace_list.html"
SORTABLE = {"time": "time", "latency": "latency", "cost": "cost", "total_tokens": "tokens"}
SAVE_VIEW_ROLE = Role.MEMBER


def public_base_url(request: HttpRequest) -> str:
    """What an SDK's LANGFUSE_HOST should be: NEXTAUTH_URL when set, else the address in use."""
    return settings.PUBLIC_URL or request.build_absolute_uri("/").rstrip("/")


def trace_href(project_id: str, trace_id: str) -> str:
    return f"/project/{project_id}/traces/{quote(trace_id, safe='')}"


def decorate(project, traces: list[Trace]) -> list[Trace]:
    """Give each row of a page its link and its score averages (one query for the page)."""
    scores = scores_by_trace(project, [trace.id for trace in traces])
    for trace in traces:
        trace.href = trace_href(project.id, trace.id)
        trace.scores = scores.get(trace.id, [])
        trace.user_href = trace.user_id and group_href(project.id, "user", trace.user_id)
        trace.session_href = trace.session_id and group_href(project.id, "session", trace.session_id)
    return traces


@dataclass
class Column:
    key: str
    label: str
    numeric: bool
    sort_href: str | None
    arrow: str


NUMERIC = {"latency", "input_tokens", "output_tokens", "total_tokens", "cost", "observations"}


def visible_columns(state: dict, links: dict) -> list[Column]:
    columns = []
    for key, label in COLUMNS:
        if key not in state["cols"]:
            continue
        sorted_here = SORTABLE.get(key) == state["sort"]
        arrow = ("↓" if state["order"] == "desc" else "↑") if sorted_here else ""
        columns.append(Column(key, label, key in NUMERIC, links["sort"].get(key), arrow))
    return columns


def list_links(request: HttpRequest, state: dict, page) -> dict:
    """Every href of the list (sorting, paging, live polling, bulk delete), built from the state."""
    live = {"live": True} if state.get("live") else {}
    query = query_string(state, **live)
    base = request.path
    sort_links = {}
    for column, key in SORTABLE.items():
        order = "asc" if state["sort"] == key and state["order"] == "desc" else "desc"
        sort_links[column] = f"{base}?{query_string(state, sort=key, order=order, **live)}"
    links = {
        "query": query,
        "self": f"{base}?{query}" if query else base,
        "sort": sort_links,
        "next": page.next_cursor and f"{base}?{query_string(state, after=page.next_cursor, **live)}",
        "previous": page.previous_cursor
        and f"{base}?{query_string(state, before=page.previous_cursor, **live)}",
        "delete_all": f"{base}/actions/delete?{query_string(state, VIEW_FIELDS)}",
        "delete_selected": f"{base}/actions/delete",
    }
    at_top = not state.get("after") and not state.get("before")
    if state.get("live") and at_top and state["sort"] == "time" and state["order"] == "desc":
        newest = page.rows[0] if page.rows else None
        cursor = encode_cursor(newest.timestamp, newest.id) if newest else ""
        links["live_poll"] = f"{base}?{query_string(state, live=True)}&newer={cursor}"
    return links


def list_context(request: HttpRequest, form: TraceListForm, state: dict, page) -> dict:
    links = list_links(request, state, page)
    return {
        "form": form,
        "state": state,
        "traces": decorate(request.project, page.rows),
        "page": page,
        "links": links,
        "columns": visible_columns(state, links),
        "visible": set(state["cols"]),
        "page_size": PAGE_SIZE,
        "can_delete": has_role(request.role, DELETE_ROLE),
        "can_save_view": has_role(request.role, SAVE_VIEW_ROLE),
        "saved_views": SavedView.objects.for_project(request.project).only("id", "name", "query_string"),
        "langfuse_host": public_base_url(request),
        "filtered": any(state.get(name) for name in FILTER_FIELDS if name not in DEFAULTS),
    }


@require_safe
@project_view()
def trace_list(request: HttpRequest) -> HttpResponse:
    form = TraceListForm(request.GET)
    state = form.state()
    now = timezone.now()
    if state.get("newer") is not None and "newer" in request.GET:
        return live_rows(request, form, state, now)
    page = trace_page(request.project, state, now)
    context = list_context(request, form, state, page)
    response = render_page(request, TEMPLATE, context)
    if request.htmx and request.htmx.trigger != "live-poller":
        cursor = {"after": state.get("after"), "before": state.get("before")}
        live = {"live": True} if state.get("live") else {}
        response["HX-Push-Url"] = request.path + (
            f"?{q}" if (q := query_string(state, **live, **cursor)) else ""
        )
    return response


def live_rows(request: HttpRequest, form: TraceListForm, state: dict, now) -> HttpResponse:
    """Rows newer than the newest shown, for the live poller to prepend; 204 when none."""
    rows = newer_traces(request.project, state, now)
    if not rows:
        return HttpResponse(status=204)
    context = list_context(request, form, {**state, "after": "", "before": ""}, Page(rows=rows))
    return render_page(request, TEMPLATE, context, partial="live-rows")


@require_POST
@project_view(SAVE_VIEW_ROLE)
def save_view(request: HttpRequest) -> HttpResponse:
    form = SavedViewForm(request.POST)
    list_url = f"/project/{request.project.id}/traces"
    if not form.is_valid():
        messages.error(request, "A saved view needs a name of up to 120 characters.")
        return redirect(list_url)
    view = form.save(commit=False)
    view.project = request.project
    view.created_by = request.user
    view.query_string = query_string(TraceListForm(QueryDict(view.query_string)).state())
    view.save()
    messages.success(request, f"Saved the view “{view.name}”.")
    return redirect(f"{list_url}?{view.query_string}" if view.query_string else list_url)


@require_POST
@project_view(SAVE_VIEW_ROLE)
def delete_view(request: HttpRequest, view_id: str) -> HttpResponse:
    view = get_object_or_404(SavedView.objects.for_project(request.project), pk=view_id)
    view.delete()
    messages.success(request, f"Deleted the saved view “{view.name}”.")
    return redirect(f"/project/{request.project.id}/traces")
