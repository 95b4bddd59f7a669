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


@dataclass
class Draft:
    """The version as it would be sent: resolved content, the form's inputs, the compiled call, and why it
    cannot be sent (a reference that does not resolve, a placeholder that is not JSON, a missing variable)."""

    content: Any
    inputs: Inputs
    call: playground.Call
    ignored_config: list[str]
    error: str = ""


def _draft(request: HttpRequest, row: Prompt, connection: LlmConnection | None) -> Draft:
    posted = request.method == "POST"
    errors = []
    try:
        content = composition.resolve_content(request.project, row)[0]
    except PromptError as exc:
        content = row.prompt
        errors.append(str(exc))
    inputs = _inputs(content, request.POST if posted else request.GET)
    placeholders: dict[str, list] = {}
    for placeholder, text in inputs.placeholders.items():
        try:
            placeholders[placeholder] = playground.placeholder_messages(placeholder, text)
        except ValueError as exc:
            errors.append(str(exc))
    if posted and inputs.missing:
        names = ", ".join("{{%s}}" % name for name in inputs.missing)  # noqa: UP031
        errors.append(f"Fill in every variable before running: {names} (nothing was sent)")
    config = row.config if isinstance(row.config, dict) else {}
    config_rows, ignored = playground.config_params(config)
    model = request.POST.get("model", "").strip() if posted else ""
    model = model or str(config.get("model") or (connection.default_model if connection else ""))
    compiled = compile_prompt(content, inputs.filled(), placeholders)
    call = playground.Call(
        model=model,
        messages=playground.prompt_messages(compiled),
        params=playground.params_from_post(request.POST) if posted else config_rows,
    )
    return Draft(content, inputs, call, ignored, " ".join(errors))


@require_http_methods(["GET", "HEAD", "POST"])
@project_view()
def prompt_playground(request: HttpRequest, name: str) -> HttpResponse:
    """GET shows the version with an input per variable; POST (members) compiles it, runs it and traces it.

    Input that cannot be sent answers 422 with the reason in the results panel; an error of the LLM
    endpoint is a result like an answer (200), shown in the same panel."""
    row = _version(request, name)
    posted = request.method == "POST"
    if posted and not has_role(request.role, Role.MEMBER):
        raise PermissionDenied("Running the playground needs the Member role or higher")
    connection = playground.pick_connection(
        request.project, request.POST.get("connection") or request.GET.get("connection")
    )
    draft = _draft(request, row, connection)
    context: dict[str, Any] = {"error": draft.error}
    status = 422 if posted and draft.error else 200
    if posted and not draft.error:
        context.update(_run(request, row, draft, connection))
        status = context.pop("status", 200)
    base_url = connection.base_url if connection else playground.DEFAULT_BASE_URL
    payload = draft.call.payload()
    context.update(
        {
            "project": request.project,
            "name": row.name,
            "selected": row,
            "draft": draft,
            "call": draft.call,
            "connections": LlmConnection.objects.for_project(request.project),
            "connection": connection,
            "can_run": has_role(request.role, Role.MEMBER),
            "can_manage": has_role(request.role, Role.ADMIN),
            "prompt_url": reverse("prompts:detail", args=[request.project.pk, row.name]),
            "python_code": playground.as_python(payload, base_url),
            "curl_code": playground.as_curl(payload, base_url),
        }
    )
    response = render_page(request, PAGE, context)
    response.status_code = status
    return response


def _run(request: HttpRequest, row: Prompt, draft: Draft, connection: LlmConnection | None) -> dict:
    result = playground.run(
        request.project.pk,
        draft.call.payload(),
        connection,
        prompt=(row.name, row.version),
        variables=draft.inputs.filled(),
    )
    if result.error:
        return {"error": result.error, "status": result.status}
    prompt_url = reverse("prompts:detail", args=[request.project.pk, row.name])
    return {
        "completion": result.completion,
        "replay_url": reverse("traces:detail", args=[request.project.pk, result.trace_id]),
        "replay_usage": result.usage,
        "version_generations_url": f"{prompt_url}?version={row.version}#prompt-generations",
    }
