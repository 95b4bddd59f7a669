"""Public prompt API, as Langfuse's: /api/public/v2/prompts[...] and the legacy /api/public/prompts."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from django.http import HttpRequest, HttpResponse, JsonResponse

from accounts.access import api_error, api_route
from prompts import composition, versions
from prompts.errors import PromptError, PromptNotFound, ProtectedLabelError
from prompts.models import Prompt, PromptType
from prompts.queries import PromptFilters, count_names, summaries
from traces.api.params import InvalidRequest, Params, page_params
from traces.api.serializers import iso
from traces.ingest.body import BodyError, read_json


def prompt_json(row: Prompt, content: Any = None, graph: dict | None = None) -> dict[str, Any]:
    return {
        "id": row.pk,
        "createdAt": iso(row.created_at),
        "updatedAt": iso(row.updated_at),
        "projectId": row.project_id,
        "createdBy": row.created_by,
        "prompt": row.prompt if content is None else content,
        "name": row.name,
        "version": row.version,
        "type": row.type,
        "isActive": versions.PRODUCTION in row.labels,
        "config": row.config,
        "tags": row.tags,
        "labels": row.labels,
        "commitMessage": row.commit_message,
        "resolutionGraph": graph,
    }


def not_found(message: str) -> JsonResponse:
    return api_error(message, 404, "LangfuseNotFoundError")


def answers_domain_errors(view: Callable) -> Callable:
    """PromptError -> 400/403/404 with its message; also bad JSON bodies and bad query parameters."""

    @functools.wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        try:
            return view(request, *args, **kwargs)
        except PromptNotFound as exc:
            return not_found(str(exc))
        except ProtectedLabelError as exc:
            return api_error(str(exc), 403, "ForbiddenError")
        except (PromptError, InvalidRequest) as exc:
            return api_error(str(exc), 400, "InvalidRequestError")
        except BodyError as exc:
            return api_error(str(exc), exc.status, "InvalidRequestError")

    return wrapper


def _body(request: HttpRequest) -> dict:
    body = read_json(request)
    if not isinstance(body, dict):
        raise InvalidRequest("The body must be a JSON object")
    return body


def fetch(project, name: str, params: Params) -> tuple[Prompt, Any, dict | None]:
    """The version asked for (version, label, else production), resolved unless resolve=false."""
    version = params.integer("version")
    label = params.get("label")
    if version is not None and label is not None:
        raise InvalidRequest("Give either version or label, not both")
    row = composition.find_version(project, name, version=version, label=label)
    if row is None:
        what = f"version {version}" if version is not None else f"label '{label or versions.PRODUCTION}'"
        raise PromptNotFound(f"Prompt not found: '{name}' with {what}")
    if params.boolean("resolve") is False:
        return row, None, None
    content, graph = composition.resolve_content(project, row)
    return row, content, graph


@api_route()
@answers_domain_errors
def list_prompts(request: HttpRequest) -> JsonResponse:
    params = Params(request.GET)
    page = page_params(params)
    filters = PromptFilters(
        name=params.get("name"),
        label=params.get("label"),
        tag=params.get("tag"),
        from_updated_at=params.timestamp("fromUpdatedAt"),
        to_updated_at=params.timestamp("toUpdatedAt"),
    )
    total = count_names(request.project, filters)
    data = [
        {
            "name": s.name,
            "type": s.type,
            "versions": s.versions,
            "labels": s.labels,
            "tags": s.tags,
            "lastUpdatedAt": iso(s.last_updated_at),
            "lastConfig": s.last_config,
        }
        for s in summaries(request.project, filters, page.offset, page.limit)
    ]
    return JsonResponse({"data": data, "meta": page.meta(total)})


@api_route()
@answers_domain_errors
def create_prompt(request: HttpRequest) -> JsonResponse:
    body = _body(request)
    row = versions.create_version(
        request.project,
        name=body.get("name"),
        type=body.get("type") or PromptType.TEXT,
        prompt=body.get("prompt"),
        config=body.get("config"),
        labels=body.get("labels"),
        tags=body.get("tags"),
        commit_message=body.get("commitMessage"),
    )
    return JsonResponse(prompt_json(row), status=201)


@api_route()
@answers_domain_errors
def get_prompt(request: HttpRequest, name: str) -> JsonResponse:
    row, content, graph = fetch(request.project, name, Params(request.GET))
    return JsonResponse(prompt_json(row, content, graph))


@api_route()
@answers_domain_errors
def delete_prompt(request: HttpRequest, name: str) -> HttpResponse:
    params = Params(request.GET)
    versions.delete_prompt(
        request.project, name, version=params.integer("version"), label=params.get("label")
    )
    return HttpResponse(status=204)


@api_route()
@answers_domain_errors
def update_version(request: HttpRequest, name: str, version: int) -> JsonResponse:
    body = _body(request)
    if "newLabels" not in body:
        raise InvalidRequest("newLabels is required: a list of labels for this version")
    row = Prompt.objects.for_project(request.project).named(name).filter(version=version).first()
    if row is None:
        raise PromptNotFound(f"Prompt not found: '{name}' with version {version}")
    row = versions.set_labels(row, body["newLabels"])
    return JsonResponse(prompt_json(row))


# --- legacy v1 (/api/public/prompts) ---------------------------------------------------------------


@api_route()
@answers_domain_errors
def get_prompt_v1(request: HttpRequest) -> JsonResponse:
    params = Params(request.GET)
    name = params.get("name")
    if not name:
        raise InvalidRequest("name is required")
    row, content, graph = fetch(request.project, name, params)
    return JsonResponse(prompt_json(row, content, graph))


@api_route()
@answers_domain_errors
def create_prompt_v1(request: HttpRequest) -> JsonResponse:
    """Legacy create: `isActive: true` means the production label."""
    body = _body(request)
    labels = [versions.PRODUCTION] if body.get("isActive") else []
    row = versions.create_version(
        request.project,
        name=body.get("name"),
        type=PromptType.TEXT,
        prompt=body.get("prompt"),
        config=body.get("config"),
        labels=labels,
    )
    return JsonResponse(prompt_json(row), status=201)
