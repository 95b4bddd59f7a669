"""Playground page (replay a generation) and the LLM connections settings page."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST

from accounts.access import has_role, project_view
from accounts.models import Role
from accounts.settings_pages import project_links
from langfuse_ui.htmx import render_page
from traces import llm_connections, playground
from traces.models import LlmConnection, Observation

PLAYGROUND_PAGE = "traces/playground.html"
CONNECTIONS_PAGE = "settings/llm_connections.html"


class ConnectionForm(forms.Form):
    name = forms.CharField(max_length=120)
    base_url = forms.CharField(
        label="Base URL", max_length=2000, help_text="OpenAI-compatible, e.g. https://litellm.example.com/v1"
    )
    api_key = forms.CharField(
        label="API key", required=False, widget=forms.PasswordInput, help_text="Stored encrypted, never shown"
    )
    default_model = forms.CharField(label="Default model", max_length=800, required=False)

    def clean_base_url(self) -> str:
        return llm_connections.validate_base_url(self.cleaned_data["base_url"])


def _original(request: HttpRequest) -> Observation | None:
    observation_id = request.POST.get("observation") or request.GET.get("observation")
    if not observation_id:
        return None
    found = Observation.objects.filter(project=request.project, id=observation_id)
    trace_id = request.POST.get("trace") or request.GET.get("trace")
    if trace_id:
        found = found.filter(trace_id=trace_id)
    observation = found.first()
    if observation is None:
        raise Http404("No such observation in this project")
    return observation


def _playground_context(request: HttpRequest, original: Observation | None, call, connection) -> dict:
    connections = list(LlmConnection.objects.for_project(request.project))
    original_call = playground.call_of(original).payload() if original else None
    base_url = connection.base_url if connection else playground.DEFAULT_BASE_URL
    return {
        "project": request.project,
        "original": original,
        "call": call,
        "roles": playground.ROLES,
        "connections": connections,
        "connection": connection,
        "can_run": has_role(request.role, Role.MEMBER),
        "can_manage": has_role(request.role, Role.ADMIN),
        "original_output": playground.output_text(original.output) if original else "",
        "python_code": playground.as_python(original_call, base_url) if original_call else "",
        "curl_code": playground.as_curl(original_call, base_url) if original_call else "",
    }


@require_http_methods(["GET", "HEAD", "POST"])
@project_view(Role.VIEWER)
def playground_page(request: HttpRequest) -> HttpResponse:
    """GET shows the generation's call; POST (members) edits rows or runs the call and traces it."""
    original = _original(request)
    connection_id = request.POST.get("connection") or request.GET.get("connection")
    connection = playground.pick_connection(request.project, connection_id)
    if request.method != "POST":
        call = playground.call_of(original, connection.default_model if connection else "")
        return render_page(request, PLAYGROUND_PAGE, _playground_context(request, original, call, connection))
    if not has_role(request.role, Role.MEMBER):
        raise PermissionDenied("Running the playground needs the Member role or higher")
    call = playground.call_from_post(request.POST)
    action = request.POST.get("action", "")
    context = _playground_context(request, original, call, connection)
    if action == "add_message":
        call.messages.append(playground.MessageRow(role="user"))
    elif action.startswith("remove_message:"):
        index = action.partition(":")[2]
        if index.isdigit() and int(index) < len(call.messages):
            del call.messages[int(index)]
    elif action == "add_param":
        call.params.append(playground.ParamRow())
    elif action == "run":
        context.update(_run(request, call, connection, original))
    response = render_page(request, PLAYGROUND_PAGE, context)
    response.status_code = context.pop("status", 200)
    return response


def _run(request: HttpRequest, call, connection, original: Observation | None) -> dict:
    result = playground.run(
        request.project.pk,
        call.payload(),
        connection,
        replay_of=original.id if original else "",
        replay_of_trace=(original.trace_id or "") if original else "",
    )
    if result.error:
        return {"error": result.error, "status": result.status}
    replay_url = reverse("traces:detail", args=[request.project.pk, result.trace_id])
    return {"completion": result.completion, "replay_url": replay_url, "replay_usage": result.usage}


# --- Settings: LLM connections ------------------------------------------------------------------


def _connections_context(request: HttpRequest, form: ConnectionForm | None = None) -> dict:
    return {
        "settings_links": project_links(request),
        "connections": LlmConnection.objects.for_project(request.project),
        "form": form or ConnectionForm(),
    }


@require_http_methods(["GET", "HEAD", "POST"])
@project_view(Role.ADMIN)
def connections_page(request: HttpRequest) -> HttpResponse:
    """GET lists the project's connections (keys masked); POST adds one."""
    if request.method != "POST":
        return render_page(request, CONNECTIONS_PAGE, _connections_context(request))
    form = ConnectionForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        if LlmConnection.objects.for_project(request.project).filter(name=data["name"]).exists():
            form.add_error("name", "A connection with this name exists already")
    if not form.is_valid():
        return render_page(request, CONNECTIONS_PAGE, _connections_context(request, form), "llm-connections")
    try:
        llm_connections.create_connection(request.project, **form.cleaned_data)
    except ValidationError as exc:
        form.add_error("base_url", exc)
        return render_page(request, CONNECTIONS_PAGE, _connections_context(request, form), "llm-connections")
    messages.success(request, f"Connection {form.cleaned_data['name']} added")
    return _after(request)


@require_POST
@project_view(Role.ADMIN)
def connection_delete(request: HttpRequest, connection_id: str) -> HttpResponse:
    connection = get_object_or_404(LlmConnection, pk=connection_id, project=request.project)
    llm_connections.delete_connection(connection)
    messages.success(request, f"Connection {connection.name} deleted")
    return _after(request)


def _after(request: HttpRequest) -> HttpResponse:
    if request.htmx:
        return render_page(request, CONNECTIONS_PAGE, _connections_context(request), "llm-connections")
    return redirect("traces:llm-connections", project_id=request.project.pk)
