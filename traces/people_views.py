"""Sessions and users: lists with totals, a session as one conversation, a user's traces."""

from __future__ import annotations

from urllib.parse import urlencode

from django.http import Http404, HttpRequest, HttpResponse
from django.views.decorators.http import require_safe

from accounts.access import project_view
from langfuse_ui.htmx import render_page
from traces import people_queries
from traces.conversation import turn
from traces.forms import PeopleListForm
from traces.list_queries import trace_page
from traces.views import decorate


def page_links(request: HttpRequest, state: dict, page) -> dict:
    search = {"q": state["q"]} if state.get("q") else {}
    return {
        "next": page.next_cursor and f"{request.path}?{urlencode({**search, 'after': page.next_cursor})}",
        "previous": page.previous_cursor
        and f"{request.path}?{urlencode({**search, 'before': page.previous_cursor})}",
    }


def group_list(request: HttpRequest, kind: str, template: str) -> HttpResponse:
    form = PeopleListForm(request.GET)
    state = form.state()
    page = people_queries.group_page(request.project, kind, state)
    context = {"form": form, "groups": page.rows, "links": page_links(request, state, page)}
    response = render_page(request, template, context)
    if request.htmx:
        response["HX-Push-Url"] = request.get_full_path()
    return response


@require_safe
@project_view()
def session_list(request: HttpRequest) -> HttpResponse:
    return group_list(request, "session", "traces/sessions.html")


@require_safe
@project_view()
def user_list(request: HttpRequest) -> HttpResponse:
    return group_list(request, "user", "traces/users.html")


@require_safe
@project_view()
def session_detail(request: HttpRequest, session_id: str) -> HttpResponse:
    session = people_queries.group(request.project, "session", session_id)
    if session is None:
        raise Http404("No traces in this session")
    page = people_queries.session_traces(request.project, session_id, request.GET.get("after"))
    decorate(request.project, page.rows)
    context = {
        "session": session,
        "turns": [turn(trace) for trace in page.rows],
        "scores": people_queries.session_scores(request.project, session_id),
        "more": page.next_cursor and f"{request.path}?{urlencode({'after': page.next_cursor})}",
        "users": [
            (user, people_queries.group_href(request.project.id, "user", user)) for user in session.users
        ],
    }
    return render_page(request, "traces/sessions_detail.html", context)


@require_safe
@project_view()
def user_detail(request: HttpRequest, user_id: str) -> HttpResponse:
    person = people_queries.group(request.project, "user", user_id)
    if person is None:
        raise Http404("No traces of this user")
    state = {"user": user_id, "sort": "time", "order": "desc", **PeopleListForm(request.GET).state()}
    page = trace_page(request.project, {**state, "q": ""}, now=None)
    decorate(request.project, page.rows)
    context = {
        "person": person,
        "traces": page.rows,
        "links": page_links(request, {}, page),
        "list_href": f"/project/{request.project.id}/traces?{urlencode({'user': user_id})}",
    }
    return render_page(request, "traces/users_detail.html", context)
