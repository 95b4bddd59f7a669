"""Try a prompt version in the playground: fill in its variables, run it against an LLM connection.

The run is traced like a replay and its generation is linked to the version, so it counts among the
version's generations and metrics.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.urls import reverse
from django.views.decorators.http import require_http_methods

from accounts.access import has_role, project_view
from accounts.models import Role
from langfuse_ui.htmx import render_page
from prompts import composition
from prompts.errors import PromptError
from prompts.models import Prompt
from prompts.variables import compile_prompt, placeholders_in, variables_in
from traces import playground
from traces.models import LlmConnection

PAGE = "prompts/prompt_playground.html"


@dataclass
class Inputs:
    """The variables and placeholders of a version with what the form holds for them."""

    variables: dict[str, str] = field(default_factory=dict)
    placeholders: dict[str, str] = field(default_factory=dict)

    @property
    def missing(self) -> list[str]:
        return [name for name, value in self.variables.items() if not value]

    def filled(self) -> dict[str, str]:
        return {name: value for name, value in self.variables.items() if value}


def playground_url(project_id: str, row: Prompt) -> str:
    return f"/project/{project_id}/prompt-playground/{quote(row.name, safe='/')}?version={row.version}"


def _version(request: HttpRequest, name: str) -> Prompt:
    rows = Prompt.objects.for_project(request.project).named(name)
    raw = request.GET.get("version", "")
    if raw:
        row = rows.filter(version=int(raw)).first() if raw.isdigit() else None
    elif request.GET.get("label"):
        row = rows.labelled(request.GET["label"]).order_by("-version").first()
    else:
        row = rows.order_by("-version").first()
    if row is None:
        raise Http404("No such prompt version")
    return row


def _inputs(content: Any, data) -> Inputs:
    return Inputs(
        variables={name: data.get(f"var.{name}", "") for name in variables_in(content)},
        placeholders={name: data.get(f"placeholder.{name}", "") for name in placeholders_in(content)},
    )


def _call(content: Any, inputs: Inputs, placeholders: dict[str, list], model: str, params) -> playground.Call:
    compiled = compile_prompt(content, inputs.filled(), placeholders)
    return playground.Call(model=model, messages=playground.prompt_messages(compiled), params=params)


@require_http_methods(["GET", "HEAD", "POST"])
@project_view()
def prompt_playground(request: HttpRequest, name: str) -> HttpResponse:
    """GET shows the version with an input per variable; POST (members) compiles it, runs it and traces it."""
    row = _version(request, name)
    if request.method == "POST" and not has_role(request.role, Role.MEMBER):
        raise PermissionDenied("Running the playground needs the Member role or higher")
    connections = LlmConnection.objects.for_project(request.project)
    connection_id = request.POST.get("connection") or request.GET.get("connection")
    connection = connections.filter(pk=connection_id).first() if connection_id else connections.first()
    try:
        content, resolve_error = composition.resolve_content(request.project, row)[0], ""
    except PromptError as exc:
        content, resolve_error = row.prompt, str(exc)
    config_rows, ignored = playground.config_params(row.config)
    data = request.POST if request.method == "POST" else request.GET
    inputs = _inputs(content, data)
    default_model = (row.config or {}).get("model") if isinstance(row.config, dict) else None
    model = data.get("model", "").strip() if request.method == "POST" else ""
    model = model or str(default_model or (connection.default_model if connection else ""))
    params = playground.params_from_post(request.POST) if request.method == "POST" else config_rows
    context: dict[str, Any] = {"error": resolve_error}
    placeholders: dict[str, list] = {}
    for placeholder, text in inputs.placeholders.items():
        try:
            placeholders[placeholder] = playground.placeholder_messages(placeholder, text)
        except ValueError as exc:
            context["error"] = context["error"] or str(exc)
    call = _call(content, inputs, placeholders, model, params)
    if request.method == "POST" and not context["error"]:
        context.update(_run(request, row, call, connection, inputs))
    base_url = connection.base_url if connection else playground.DEFAULT_BASE_URL
    payload = call.payload()
    context.update(
        {
            "project": request.project,
            "name": row.name,
            "selected": row,
            "content": content,
            "inputs": inputs,
            "call": call,
            "ignored_config": ignored,
            "connections": connections,
            "connection": connection,
            "can_run": has_role(request.role, Role.MEMBER),
            "can_manage": has_role(request.role, Role.ADMIN),
            "prompt_url": reverse("prompts:detail", args=[request.project.pk, row.name]),
            "python_code": playground.as_python(payload, base_url),
            "curl_code": playground.as_curl(payload, base_url),
        }
    )
    return render_page(request, PAGE, context)


def _run(request: HttpRequest, row: Prompt, call: playground.Call, connection, inputs: Inputs) -> dict:
    if inputs.missing:
        names = ", ".join("{{%s}}" % name for name in inputs.missing)  # noqa: UP031
        return {"error": f"Fill in every variable before running: {names} (nothing was sent)"}
    result = playground.run(
        request.project.pk,
        call.payload(),
        connection,
        prompt=(row.name, row.version),
        variables=inputs.filled(),
    )
    if result.error:
        return {"error": result.error}
    prompt_url = reverse("prompts:detail", args=[request.project.pk, row.name])
    return {
        "completion": result.completion,
        "replay_url": reverse("traces:detail", args=[request.project.pk, result.trace_id]),
        "replay_usage": result.usage,
        "version_generations_url": f"{prompt_url}?version={row.version}#prompt-generations",
    }
