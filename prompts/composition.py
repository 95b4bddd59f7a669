"""Prompt composition: `@@@langfusePrompt:name=NAME|label=LABEL@@@` (or `|version=N`) inside a prompt.

References are resolved when a prompt is fetched: each tag is replaced by the referenced text prompt,
itself resolved. A reference back to a prompt already on the path is a loop and is refused with a
message naming it; so is nesting deeper than MAX_DEPTH.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from accounts.models import Project
from prompts.errors import CompositionError
from prompts.models import Prompt, PromptDependency, PromptType

TAG_RE = re.compile(r"@@@langfusePrompt:(.*?)@@@")
MAX_DEPTH = 5
DEFAULT_LABEL = "production"


@dataclass(frozen=True)
class Reference:
    tag: str
    name: str
    label: str | None = None
    version: int | None = None

    def describe(self) -> str:
        return f"{self.name!r} with " + (
            f"version {self.version}" if self.version is not None else f"label {self.label!r}"
        )


def _parse_tag(tag: str, body: str) -> Reference:
    fields: dict[str, str] = {}
    for part in body.split("|"):
        key, sep, value = part.partition("=")
        if not sep:
            raise CompositionError(
                f"Malformed prompt reference {tag}: expected name=...|label=... or |version=N"
            )
        fields[key.strip()] = value.strip()
    name = fields.get("name")
    if not name:
        raise CompositionError(f"Prompt reference {tag} needs a name")
    if "version" in fields and "label" in fields:
        raise CompositionError(f"Prompt reference {tag} gives both version and label; give one")
    if "version" in fields:
        try:
            return Reference(tag, name, version=int(fields["version"]))
        except ValueError:
            raise CompositionError(f"Prompt reference {tag}: version must be a whole number") from None
    if "label" in fields:
        return Reference(tag, name, label=fields["label"])
    raise CompositionError(f"Prompt reference {tag} needs a label or a version")


def _texts(content: Any) -> list[str]:
    if isinstance(content, str):
        return [content]
    if isinstance(content, list):
        return [m["content"] for m in content if isinstance(m, dict) and isinstance(m.get("content"), str)]
    return []


def parse_references(content: Any) -> list[Reference]:
    found: dict[str, Reference] = {}
    for text in _texts(content):
        for match in TAG_RE.finditer(text):
            if match.group(0) not in found:
                found[match.group(0)] = _parse_tag(match.group(0), match.group(1))
    return list(found.values())


def find_version(project: Project, name: str, *, version: int | None = None, label: str | None = None):
    rows = Prompt.objects.for_project(project).named(name)
    if version is not None:
        return rows.filter(version=version).first()
    return rows.labelled(label or DEFAULT_LABEL).order_by("-version").first()


def _replace(content: Any, replacements: dict[str, str]) -> Any:
    def fill(text: str) -> str:
        return TAG_RE.sub(lambda m: replacements.get(m.group(0), m.group(0)), text)

    if isinstance(content, str):
        return fill(content)
    return [
        {**m, "content": fill(m["content"])}
        if isinstance(m, dict) and isinstance(m.get("content"), str)
        else m
        for m in content
    ]


def _node(row: Prompt) -> dict[str, Any]:
    return {"id": row.pk, "name": row.name, "version": row.version}


def _resolve(project: Project, name: str, content: Any, path: list[str], graph: dict, parent_id: str) -> Any:
    references = parse_references(content)
    if not references:
        return content
    if len(path) > MAX_DEPTH:
        raise CompositionError(f"Prompt nesting is deeper than {MAX_DEPTH} levels: {' -> '.join(path)}")
    replacements: dict[str, str] = {}
    for ref in references:
        if ref.name in path:
            loop = " -> ".join([*path[path.index(ref.name) :], ref.name])
            raise CompositionError(f"Circular prompt dependency: {loop}")
        child = find_version(project, ref.name, version=ref.version, label=ref.label)
        if child is None:
            raise CompositionError(f"Prompt dependency not found: {ref.describe()} (referenced by {name!r})")
        if child.type != PromptType.TEXT:
            raise CompositionError(
                f"Prompt dependency {ref.describe()} is a chat prompt; only text prompts can be referenced"
            )
        graph.setdefault(parent_id, []).append(_node(child))
        replacements[ref.tag] = _resolve(
            project, child.name, child.prompt, [*path, child.name], graph, child.pk
        )
    return _replace(content, replacements)


def resolve_content(project: Project, row: Prompt) -> tuple[Any, dict[str, Any] | None]:
    """The prompt with every reference filled in, and Langfuse's resolutionGraph (None without references)."""
    dependencies: dict[str, list] = {}
    content = _resolve(project, row.name, row.prompt, [row.name], dependencies, row.pk)
    if not dependencies:
        return row.prompt, None
    return content, {"root": _node(row), "dependencies": dependencies}


def check_references(project: Project, name: str, references: list[Reference]) -> None:
    """Before a new version of `name` is stored: every reference resolves and none leads back to `name`."""
    for ref in references:
        if ref.name == name:
            raise CompositionError(f"Circular prompt dependency: {name} -> {name}")
        child = find_version(project, ref.name, version=ref.version, label=ref.label)
        if child is None:
            raise CompositionError(f"Prompt dependency not found: {ref.describe()}")
        if child.type != PromptType.TEXT:
            raise CompositionError(
                f"Prompt dependency {ref.describe()} is a chat prompt; only text prompts can be referenced"
            )
        _resolve(project, child.name, child.prompt, [name, child.name], {}, child.pk)


def check_not_depended_on(project: Project, name: str, doomed: list[Prompt]) -> None:
    """Refuse to delete versions that other prompts reference by version or by a label they carry."""
    versions = {row.version for row in doomed}
    labels = {label for row in doomed for label in row.labels}
    users = (
        PromptDependency.objects.filter(project=project, child_name=name)
        .exclude(parent__name=name)
        .select_related("parent")
    )
    blocking = sorted(
        {
            f"{dep.parent.name} v{dep.parent.version}"
            for dep in users
            if (dep.child_version is not None and dep.child_version in versions)
            or (dep.child_label is not None and dep.child_label in labels)
        }
    )
    if blocking:
        raise CompositionError(
            f"Other prompts reference the versions of {name!r} you are deleting: {', '.join(blocking)}. "
            "Remove those references first."
        )
