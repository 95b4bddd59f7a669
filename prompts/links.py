"""Linking generations to prompt versions: the ingestion writer asks which prompt row a (name, version) is."""

from __future__ import annotations

from collections.abc import Iterable

from django.db.models import Q

from prompts.models import Prompt


def prompt_ids_for(project_id: str, pairs: Iterable[tuple[str, int]]) -> dict[tuple[str, int], str]:
    """{(name, version): prompt id} for the pairs that exist in the project, in one query."""
    wanted = {(name, int(version)) for name, version in pairs if name and version is not None}
    if not wanted:
        return {}
    match = Q()
    for name, version in wanted:
        match |= Q(name=name, version=version)
    rows = Prompt.objects.filter(project_id=project_id).filter(match).values_list("name", "version", "id")
    return {(name, version): prompt_id for name, version, prompt_id in rows}


def prompt_id_for(project_id: str, name: str, version: int) -> str | None:
    """The id of one prompt version, or None when the project has no such version."""
    return prompt_ids_for(project_id, [(name, version)]).get((name, int(version)))
