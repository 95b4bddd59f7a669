"""The single-trace page: header, observation tree or timeline, the selected observation,
annotation (scores and comments), "show all" for long values, and media downloads."""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import urlencode
from django.views.decorators.http import require_POST, require_safe

from accounts.access import has_role, project_view
from accounts.models import Role
from langfuse_ui.htmx import render_page
from traces import annotations
from traces.annotation_forms import CommentForm, PageForm, ScoreForm, TargetForm, ValueForm
from traces.media import MediaError, get_uploaded_media
from traces.models import Observation, ScoreConfig, ScoreSource, Trace
from traces.render import Source, present, present_at, stringify
from traces.storage import storage_for
from traces.trace_detail import (
    TraceDetail,
    annotation_configs,
    format_cost,
    format_duration,
    get_observation,
    get_trace,
    load_trace_detail,
    node_rows,
    time_to_first_token,
    usage_breakdown,
)

TEMPLATE = "traces/trace_detail.html"
PANE_TARGET = "observation-pane"


def page_url(project_id: str, trace_id: str, observation_id: str | None = None, view: str = "tree") -> str:
    query = {k: v for k, v in (("observation", observation_id), ("view", view)) if v and v != "tree"}
    base = reverse("traces:detail", args=[project_id, trace_id])
    return f"{base}?{urlencode(query)}" if query else base


@require_safe
@project_view()
def trace_detail(request: HttpRequest, trace_id: str) -> HttpResponse:
    form = PageForm(request.GET)
    if not form.is_valid():
        return HttpResponseBadRequest("view must be tree or timeline")
    observation_id, view = form.cleaned_data["observation"] or None, form.cleaned_data["view"]
    pane_only = request.htmx.target == PANE_TARGET and not request.htmx.history_restore_request
    detail = load_trace_detail(request.project, trace_id, observation_id, with_tree=not pane_only)
    context = page_context(request, detail, view)
    return render_page(request, TEMPLATE, context, partial="pane-response" if pane_only else None)


def page_context(request: HttpRequest, detail: TraceDetail, view: str, errors: dict | None = None) -> dict:
    project, trace, selected = request.project, detail.trace, detail.selected
    row = selected or trace
    source = {f: Source(project.id, trace.id, selected.id if selected else None, f) for f in FIELDS}
    can_annotate = has_role(request.role, Role.MEMBER)
    errors = dict(errors or {})
    fields = score_fields(request, detail) if can_annotate else []
    for score_field in fields:
        score_field["error"] = errors.get("score", {}).pop(score_field["config"].id, "")
    errors["score_other"] = " ".join(errors.pop("score", {}).values())
    return {
        "project": project,
        "trace": trace,
        "detail": detail,
        "rows": node_rows(
            detail.nodes, page_url(project.id, trace.id), view, selected.id if selected else None
        ),
        "selected": selected,
        "view": view,
        "tree_url": page_url(project.id, trace.id, selected.id if selected else None, "tree"),
        "timeline_url": page_url(project.id, trace.id, selected.id if selected else None, "timeline"),
        "trace_url": page_url(project.id, trace.id, None, view),
        "displays": {f: present(getattr(row, f), source[f]) for f in FIELDS},
        "facts": observation_facts(selected) if selected else None,
        "can_annotate": can_annotate,
        "score_fields": fields,
        "errors": errors,
    }


FIELDS = ("input", "output", "metadata")


def observation_facts(observation: Observation) -> dict:
    prompt_url = ""
    if observation.prompt_name:
        prompt_url = f"/project/{observation.project_id}/prompts/{observation.prompt_name}"
        if observation.prompt_version is not None:
            prompt_url += f"?{urlencode({'version': observation.prompt_version})}"
    parameters = observation.model_parameters if isinstance(observation.model_parameters, dict) else {}
    return {
        "latency": format_duration(observation.latency_seconds),
        "ttft": format_duration(time_to_first_token(observation)),
        "cost": format_cost(observation.total_cost) if observation.total_cost is not None else "",
        "usage": usage_breakdown(observation),
        "parameters": [(name, stringify(value)) for name, value in sorted(parameters.items())],
        "prompt_url": prompt_url,
    }


def score_fields(request: HttpRequest, detail: TraceDetail) -> list[dict]:
    """Each score config with the value this person gave the selected trace or observation."""
    mine = {
        s.config_id: s
        for s in detail.selected_scores
        if s.source == ScoreSource.ANNOTATION and s.author_user_id == request.user.pk
    }
    fields = []
    for config in annotation_configs(request.project):
        score = mine.get(config.id)
        current = ""
        if score is not None:
            current = score.string_value if config.data_type != "NUMERIC" else f"{score.value:g}"
        fields.append({"config": config, "current": current})
    return fields


# --- Annotation -------------------------------------------------------------------------


@require_POST
@project_view(Role.MEMBER)
def annotate_score(request: HttpRequest) -> HttpResponse:
    form = ScoreForm(request.POST)
    trace, observation = annotation_target(request, form)
    config = (
        ScoreConfig.objects.for_project(request.project).filter(id=form.cleaned_data["config_id"]).first()
    )
    if config is None:
        raise Http404("No such score config in this project")
    try:
        annotations.add_score(
            request.project,
            request.user,
            trace=trace,
            observation=observation,
            config=config,
            value=form.cleaned_data["value"],
            comment=form.cleaned_data["comment"],
        )
    except annotations.AnnotationError as exc:
        return after_annotation(request, form, {"score": {config.id: str(exc)}})
    return after_annotation(request, form)


@require_POST
@project_view(Role.MEMBER)
def annotate_comment(request: HttpRequest) -> HttpResponse:
    form = CommentForm(request.POST)
    trace, observation = annotation_target(request, form)
    try:
        annotations.add_comment(
            request.project,
            request.user,
            trace=trace,
            observation=observation,
            content=form.cleaned_data["content"],
        )
    except annotations.AnnotationError as exc:
        return after_annotation(request, form, {"comment": str(exc)})
    return after_annotation(request, form)


def annotation_target(request: HttpRequest, form: TargetForm) -> tuple[Trace, Observation | None]:
    if not form.is_valid():
        raise Http404("Say which trace (and observation) to annotate")
    trace = get_trace(request.project, form.cleaned_data["trace_id"])
    observation_id = form.cleaned_data["observation_id"]
    return trace, get_observation(request.project, trace, observation_id) if observation_id else None


def after_annotation(request: HttpRequest, form: TargetForm, errors: dict | None = None) -> HttpResponse:
    """htmx: the refreshed pane (and the trace's scores); otherwise back to the page."""
    trace_id, observation_id = form.cleaned_data["trace_id"], form.cleaned_data["observation_id"]
    view = form.cleaned_data["view"]
    if not request.htmx and not errors:
        return redirect(page_url(request.project.id, trace_id, observation_id, view), permanent=False)
    detail = load_trace_detail(request.project, trace_id, observation_id, with_tree=not request.htmx)
    context = page_context(request, detail, view, errors)
    if request.htmx:
        response = render(request, f"{TEMPLATE}#pane-response", context)
        response["HX-Retarget"] = f"#{PANE_TARGET}"
        response["HX-Reswap"] = "outerHTML"
        return response
    return render(request, TEMPLATE, context, status=400)


# --- Show all, media --------------------------------------------------------------------


@require_safe
@project_view()
def trace_value(request: HttpRequest) -> HttpResponse:
    """The whole of a value that the page cut short."""
    form = ValueForm(request.GET)
    if not form.is_valid():
        return HttpResponseBadRequest(" ".join(m for ms in form.errors.values() for m in ms))
    trace = get_trace(request.project, form.cleaned_data["trace"])
    observation_id, field = form.cleaned_data["observation"] or None, form.cleaned_data["field"]
    row = get_observation(request.project, trace, observation_id) if observation_id else trace
    source = Source(request.project.id, trace.id, observation_id, field)
    try:
        display = present_at(getattr(row, field), form.cleaned_data["path"], source)
    except KeyError:
        raise Http404("Nothing at this path") from None
    response = render(request, "traces/_value.html", {"display": display})
    response["Vary"] = "HX-Request"
    return response


@require_safe
@project_view()
def media_file(request: HttpRequest, media_id: str) -> HttpResponse:
    """A media reference of a trace, as a redirect to a short-lived download URL."""
    try:
        media = get_uploaded_media(request.project.id, media_id)
    except MediaError as exc:
        raise Http404(str(exc)) from None
    url, _expires = storage_for(media).download_url(request, media)
    return redirect(url)
