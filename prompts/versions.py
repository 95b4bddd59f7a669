"""Writes to prompts: new versions, label moves, deletes. The API and the HTML views both call these.

A prompt is the set of rows sharing (project, name); each row is one version. Labels are unique per
name: giving a label to one version takes it off every other version. `latest` always sits on the
highest version and is never set by hand. Protected labels may only be moved by owners and admins
(or by a project API key, as in Langfuse).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.db import connection, transaction
from django.db.models import Max
from django.utils import timezone

from accounts.access import has_role
from accounts.models import Project, Role
from prompts import composition
from prompts.errors import PromptError, PromptNotFound, ProtectedLabelError
from prompts.models import Prompt, PromptDependency, PromptType, ProtectedLabel

LATEST = "latest"
PRODUCTION = "production"
DEFAULT_PROTECTED = frozenset({PRODUCTION})
LABEL_RE = re.compile(r"^[a-z0-9_\-.]+$")
MAX_LABEL_LENGTH = 36


@dataclass(frozen=True)
class Actor:
    """Who is changing prompts: a signed-in user with a role, or a project API key."""

    name: str
    role: Role | None = None
    api_key: bool = False

    @property
    def may_move_protected(self) -> bool:
        return self.api_key or has_role(self.role, Role.ADMIN)


API_ACTOR = Actor(name="API", api_key=True)


# --- validation ---------------------------------------------------------------------------------


def validate_name(name: Any) -> str:
    if not isinstance(name, str) or not name.strip():
        raise PromptError("name is required: a non-empty string")
    name = name.strip()
    if "|" in name:
        raise PromptError("Prompt name cannot contain '|' character")
    if name.startswith("/"):
        raise PromptError("Name cannot start with a slash")
    if name.endswith("/"):
        raise PromptError("Name cannot end with a slash")
    if "//" in name:
        raise PromptError("Name cannot contain consecutive slashes")
    if name == "new":
        raise PromptError("Prompt name cannot be 'new'")
    if len(name) > 800:
        raise PromptError("Prompt name is longer than 800 characters")
    return name


def validate_labels(labels: Any, *, allow_latest: bool = True) -> list[str]:
    if labels is None:
        return []
    if not isinstance(labels, list) or not all(isinstance(label, str) for label in labels):
        raise PromptError("labels must be a list of strings")
    clean: list[str] = []
    for label in labels:
        if not LABEL_RE.match(label) or len(label) > MAX_LABEL_LENGTH:
            raise PromptError(
                f"Invalid label {label!r}: use lowercase letters, digits, '_', '-' or '.', "
                f"at most {MAX_LABEL_LENGTH} characters"
            )
        if label == LATEST and not allow_latest:
            raise PromptError("The 'latest' label is reserved: it always points at the newest version")
        if label not in clean:
            clean.append(label)
    return clean


def validate_tags(tags: Any) -> list[str] | None:
    if tags is None:
        return None
    if not isinstance(tags, list) or not all(isinstance(tag, str) and tag for tag in tags):
        raise PromptError("tags must be a list of non-empty strings")
    return list(dict.fromkeys(tags))


def validate_content(prompt_type: str, prompt: Any) -> Any:
    if prompt_type == PromptType.TEXT:
        if not isinstance(prompt, str):
            raise PromptError("A text prompt's prompt must be a string")
        return prompt
    if not isinstance(prompt, list):
        raise PromptError("A chat prompt's prompt must be a list of messages")
    for position, message in enumerate(prompt, start=1):
        if not isinstance(message, dict):
            raise PromptError(f"Chat message {position} must be an object")
        if message.get("type") == "placeholder":
            if not isinstance(message.get("name"), str) or not message["name"]:
                raise PromptError(f"Chat message {position} is a placeholder and needs a name")
            continue
        if not isinstance(message.get("role"), str) or not isinstance(message.get("content"), str):
            raise PromptError(
                f"Chat message {position} needs a string role and content "
                '(or {"type": "placeholder", "name": ...})'
            )
    return prompt


# --- reads used by the writes ---------------------------------------------------------------------


def protected_labels(project: Project) -> set[str]:
    """`production` always, plus the labels the project protected."""
    extra = ProtectedLabel.objects.filter(project=project).values_list("label", flat=True)
    return set(DEFAULT_PROTECTED) | set(extra)


def check_may_move(project: Project, labels: Iterable[str], actor: Actor) -> None:
    if actor.may_move_protected:
        return
    blocked = sorted(set(labels) & protected_labels(project))
    if blocked:
        raise ProtectedLabelError(
            f"Only owners and admins may move the protected label(s) {', '.join(blocked)}"
        )


def _versions(project: Project, name: str):
    return Prompt.objects.for_project(project).named(name)


def _refresh_latest(project: Project, name: str) -> None:
    """Put `latest` on the highest version only."""
    rows = list(_versions(project, name).select_for_update().order_by("-version"))
    for position, row in enumerate(rows):
        has = LATEST in row.labels
        if position == 0 and not has:
            row.labels = [*row.labels, LATEST]
            row.save(update_fields=["labels"])
        elif position > 0 and has:
            row.labels = [label for label in row.labels if label != LATEST]
            row.save(update_fields=["labels"])


def _take_labels_off_others(project: Project, name: str, labels: list[str], keep_id: str) -> None:
    if not labels:
        return
    others = _versions(project, name).exclude(pk=keep_id).filter(labels__overlap=labels)
    now = timezone.now()
    for row in others.select_for_update():
        row.labels = [label for label in row.labels if label not in labels]
        row.updated_at = now
        row.save(update_fields=["labels", "updated_at"])


# --- writes ------------------------------------------------------------------------------------------


@transaction.atomic
def create_version(
    project: Project,
    name: Any,
    type: Any,
    prompt: Any,
    config: Any = None,
    labels: Any = None,
    tags: Any = None,
    commit_message: Any = None,
    author: Actor = API_ACTOR,
) -> Prompt:
    """A new version of `name` (version = max + 1), with `latest`, the given labels and the shared tags."""
    name = validate_name(name)
    prompt_type = type or PromptType.TEXT
    if prompt_type not in PromptType.values:
        raise PromptError(f"type must be 'text' or 'chat', got {prompt_type!r}")
    content = validate_content(prompt_type, prompt)
    wanted = [label for label in validate_labels(labels) if label != LATEST]
    new_tags = validate_tags(tags)
    if config is None:
        config = {}
    if commit_message is not None and not isinstance(commit_message, str):
        raise PromptError("commitMessage must be a string")
    check_may_move(project, wanted, author)

    # One writer per prompt name at a time (held to commit), so two concurrent creates get
    # versions n+1 and n+2 instead of both computing n+1; row locks cannot cover a first version.
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))", [f"prompt:{project.pk}:{name}"]
        )
    existing = list(_versions(project, name).order_by("-version")[:1])
    previous = existing[0] if existing else None
    if previous and previous.type != prompt_type:
        raise PromptError(
            f"Prompt {name!r} is a {previous.type} prompt; a new version cannot change its type to {prompt_type}. "
            "Create a prompt with another name instead."
        )
    dependencies = composition.parse_references(content)
    composition.check_references(project, name, dependencies)
    if new_tags is None:
        new_tags = previous.tags if previous else []
    now = timezone.now()
    version = (previous.version if previous else 0) + 1
    row = Prompt.objects.create(
        project=project,
        name=name,
        version=version,
        type=prompt_type,
        prompt=content,
        config=config,
        labels=[*wanted, LATEST],
        tags=new_tags,
        commit_message=commit_message,
        created_by=author.name,
        created_at=now,
        updated_at=now,
    )
    PromptDependency.objects.bulk_create(
        PromptDependency(
            project=project,
            parent=row,
            child_name=ref.name,
            child_label=ref.label,
            child_version=ref.version,
        )
        for ref in dependencies
    )
    _versions(project, name).exclude(pk=row.pk).update(tags=new_tags)
    _take_labels_off_others(project, name, [*wanted, LATEST], row.pk)
    return row


@transaction.atomic
def set_labels(version: Prompt, labels: Any, actor: Actor = API_ACTOR) -> Prompt:
    """Add `labels` to this version (PATCH newLabels): they move off every other version of the name."""
    wanted = validate_labels(labels, allow_latest=False)
    check_may_move(version.project, wanted, actor)
    row = Prompt.objects.select_for_update().get(pk=version.pk)
    row.labels = [*row.labels, *[label for label in wanted if label not in row.labels]]
    row.updated_at = timezone.now()
    row.save(update_fields=["labels", "updated_at"])
    _take_labels_off_others(row.project, row.name, wanted, row.pk)
    return row


@transaction.atomic
def remove_label(version: Prompt, label: str, actor: Actor) -> Prompt:
    """Take one label off a version (the UI's "remove"); `latest` stays where it is."""
    if label == LATEST:
        raise PromptError("The 'latest' label always points at the newest version and cannot be removed")
    check_may_move(version.project, [label], actor)
    row = Prompt.objects.select_for_update().get(pk=version.pk)
    row.labels = [existing for existing in row.labels if existing != label]
    row.updated_at = timezone.now()
    row.save(update_fields=["labels", "updated_at"])
    return row


@transaction.atomic
def delete_prompt(
    project: Project,
    name: str,
    *,
    version: int | None = None,
    label: str | None = None,
    actor: Actor = API_ACTOR,
) -> int:
    """Delete every version of `name`, or only `version`, or the versions carrying `label`. Returns the count."""
    rows = _versions(project, name)
    if version is not None:
        rows = rows.filter(version=version)
    if label is not None:
        rows = rows.filter(labels__contains=[label])
    doomed = list(rows.select_for_update())
    if not doomed:
        what = f"version {version}" if version is not None else f"label {label!r}" if label else "any version"
        raise PromptNotFound(f"Prompt not found: {name!r} with {what}")
    check_may_move(project, {lbl for row in doomed for lbl in row.labels if lbl != LATEST}, actor)
    composition.check_not_depended_on(project, name, doomed)
    ids = [row.pk for row in doomed]
    Prompt.objects.filter(project=project, pk__in=ids).delete()
    _refresh_latest(project, name)
    return len(ids)


def next_version(project: Project, name: str) -> int:
    found = _versions(project, name).aggregate(top=Max("version"))["top"]
    return (found or 0) + 1
