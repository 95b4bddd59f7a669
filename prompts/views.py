"""Prompt pages: the list grouped by folder, a prompt's page (versions, editor, labels, diff, generations), a new
prompt, and the comparison of two versions' metrics."""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import quote

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from accounts.access import has_role, project_view
from accounts.models import Role
from langfuse_ui.htmx import render_page
from prompts import composition, versions
from prompts.comparison import compare_versions
from prompts.diff import config_text, diff_versions
from prompts.errors import PromptError
from prompts.forms import CHAT_ROLES, CompareForm, DiffForm, LabelForm, VersionForm
from prompts.models import Prompt, PromptType
from prompts.queries import (
    PromptFilters,
    VersionMetrics,
    summaries,
    usage_counts,
    version_generations,
    version_metrics,
)
from prompts.variables import placeholders_in, variables_in


@dataclass
class Folder:
    path: str
    prompts: list = field(default_factory=list)


def prompt_url(project_id: str, name: str) -> str:
    return f"/project/{project_id}/prompts/{quote(name, safe='/')}"


def compare_url(project_id: str, name: str) -> str:
    return f"/project/{project_id}/prompt-compare/{quote(name, safe='/')}"


def actor_for(request: HttpRequest) -> versions.Actor:
    return versions.Actor(name=request.user.email, role=request.role)


@require_safe
@project_view()
def prompt_list(request: HttpRequest) -> HttpResponse:
    found = summaries(request.project, PromptFilters())
    usage = usage_counts(request.project, [s.name for s in found])
    folders: dict[str, Folder] = {}
    for summary in found:
        summary.usage_7d = usage.get(summary.name, 0)
        folders.setdefault(summary.folder, Folder(summary.folder)).prompts.append(summary)
    context = {
        "folders": sorted(folders.values(), key=lambda f: (f.path != "", f.path)),
        "prompt_count": len(found),
        "can_edit": has_role(request.role, Role.MEMBER),
    }
    return render_page(request, "prompts/prompt_list.html", context)


def _editor_context(form: VersionForm, current: Prompt | None) -> dict:
    rows = form.messages if form.is_bound else list(_message_rows(current))
    rows = [*rows, {"role": "user", "content": ""}, {"role": "assistant", "content": ""}]
    return {"form": form, "message_rows": rows, "chat_roles": CHAT_ROLES}


def _message_rows(current: Prompt | None):
    if current is None or current.type != PromptType.CHAT:
        return
    for message in current.prompt:
        if message.get("type") == "placeholder":
            yield {"role": "placeholder", "content": message.get("name", "")}
        else:
            yield {"role": message.get("role", "user"), "content": message.get("content", "")}


def _initial_form(current: Prompt | None) -> VersionForm:
    if current is None:
        return VersionForm(name_required=True)
    initial = {"type": current.type, "config": config_text(current.config)}
    if current.type == PromptType.TEXT:
        initial["text"] = current.prompt
    return VersionForm(initial=initial)


def _save_version(request: HttpRequest, form: VersionForm, name: str) -> Prompt | None:
    if not form.is_valid():
        return None
    try:
        return versions.create_version(
            request.project,
            name=name,
            type=form.cleaned_data["type"],
            prompt=form.prompt_content(),
            config=form.cleaned_data["config"],
            labels=form.cleaned_data["labels"],
            commit_message=form.cleaned_data["commit_message"] or None,
            author=actor_for(request),
        )
    except PromptError as exc:
        form.add_error(None, str(exc))
        return None


@require_http_methods(["GET", "HEAD", "POST"])
@project_view(Role.MEMBER)
def new_prompt(request: HttpRequest) -> HttpResponse:
    form = VersionForm(request.POST or None, name_required=True)
    if request.method == "POST":
        created = _save_version(request, form, form.data.get("name", ""))
        if created is not None:
            messages.success(request, f"Created {created.name} version 1")
            return HttpResponseRedirect(prompt_url(request.project.pk, created.name))
    context = {"new": True, **_editor_context(form, None)}
    return render_page(request, "prompts/prompt_new.html", context)


@require_http_methods(["GET", "HEAD", "POST"])
@project_view()
def prompt_detail(request: HttpRequest, name: str) -> HttpResponse:
    rows = list(Prompt.objects.for_project(request.project).named(name).order_by("-version"))
    if not rows:
        raise Http404("No such prompt")
    can_edit = has_role(request.role, Role.MEMBER)
    form = _initial_form(rows[0])
    if request.method == "POST":
        if not can_edit:
            raise PermissionDenied("Viewers cannot create versions")
        form = VersionForm(request.POST)
        created = _save_version(request, form, name)
        if created is not None:
            messages.success(request, f"Saved version {created.version}")
            return HttpResponseRedirect(prompt_url(request.project.pk, name) + f"?version={created.version}")
    return render_page(request, "prompts/prompt_detail.html", _detail_context(request, rows, form, can_edit))


def _detail_context(request: HttpRequest, rows: list[Prompt], form: VersionForm, can_edit: bool) -> dict:
    by_version = {row.version: row for row in rows}
    selected = by_version.get(_int(request.GET.get("version"))) or rows[0]
    try:
        resolved, graph = composition.resolve_content(request.project, selected)
        resolve_error = None
    except PromptError as exc:
        resolved, graph, resolve_error = None, None, str(exc)
    diff_form = DiffForm(request.GET if "compare" in request.GET else None)
    diff = None
    if diff_form.is_bound and diff_form.is_valid():
        old, new = (
            by_version.get(diff_form.cleaned_data["base"]),
            by_version.get(diff_form.cleaned_data["compare"]),
        )
        if old is None or new is None:
            diff_form.add_error(None, "Pick two versions of this prompt")
        else:
            diff = diff_versions(old, new)
    metrics = version_metrics(request.project, selected.name)
    older = [row.version for row in rows if row.version < selected.version]
    return {
        "name": selected.name,
        "versions": [(row, metrics.get(row.version) or VersionMetrics(row.version)) for row in rows],
        "selected": selected,
        "resolved": resolved if graph else None,
        "resolve_error": resolve_error,
        "variables": variables_in(selected.prompt),
        "placeholders": placeholders_in(selected.prompt),
        "config_json": config_text(selected.config),
        "can_edit": can_edit,
        "can_move_protected": actor_for(request).may_move_protected,
        "protected": sorted(versions.protected_labels(request.project)),
        "diff_form": diff_form,
        "diff": diff,
        "page_url": prompt_url(request.project.pk, selected.name),
        "compare_query": f"a={older[0] if older else rows[0].version}&b={selected.version}",
        "compare_url": compare_url(request.project.pk, selected.name),
        "generations": version_generations(
            request.project,
            selected.name,
            selected.version,
            request.GET.get("after"),
            request.GET.get("before"),
        ),
        **_editor_context(form, rows[0]),
    }


def _int(raw: str | None) -> int | None:
    try:
        return int(raw) if raw else None
    except ValueError:
        return None


@require_POST
@project_view(Role.MEMBER)
def prompt_labels(request: HttpRequest, name: str) -> HttpResponse:
    form = LabelForm(request.POST)
    back = prompt_url(request.project.pk, name)
    if not form.is_valid():
        messages.error(request, "Pick a version and a label")
        return HttpResponseRedirect(back)
    row = (
        Prompt.objects.for_project(request.project)
        .named(name)
        .filter(version=form.cleaned_data["version"])
        .first()
    )
    if row is None:
        raise Http404("No such prompt version")
    label = form.cleaned_data["label"].strip()
    try:
        if form.cleaned_data["action"] == "remove":
            versions.remove_label(row, label, actor_for(request))
            messages.success(request, f"Removed {label} from version {row.version}")
        else:
            versions.set_labels(row, [label], actor_for(request))
            messages.success(request, f"Moved {label} to version {row.version}")
    except PromptError as exc:
        messages.error(request, str(exc))
    return HttpResponseRedirect(f"{back}?version={row.version}")


@require_safe
@project_view()
def prompt_compare(request: HttpRequest, name: str) -> HttpResponse:
    rows = list(
        Prompt.objects.for_project(request.project).named(name).order_by("-version").only("version", "labels")
    )
    if not rows:
        raise Http404("No such prompt")
    known = [row.version for row in rows]
    form = CompareForm(request.GET or {"a": known[1] if len(known) > 1 else known[0], "b": known[0]})
    comparison = None
    if form.is_valid():
        a, b = form.cleaned_data["a"], form.cleaned_data["b"]
        if a not in known or b not in known:
            form.add_error(None, "Pick two versions of this prompt")
        else:
            comparison = compare_versions(request.project, name, a, b)
    context = {
        "name": name,
        "versions": rows,
        "form": form,
        "comparison": comparison,
        "page_url": prompt_url(request.project.pk, name),
        "compare_url": compare_url(request.project.pk, name),
    }
    return render_page(request, "prompts/prompt_compare.html", context)
