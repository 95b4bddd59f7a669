"""Scores checked against their score configs (type, range, categories, archived)."""

from __future__ import annotations

from traces.ingest.records import ScoreRecord
from traces.models import ScoreConfig


def check_score_configs(project, scores: list[ScoreRecord]) -> dict[str, str]:
    """Scores that break the config they name: {score id: message}. One query for all."""
    config_ids = {s.fields.get("config_id") for s in scores if s.fields.get("config_id")}
    if not config_ids:
        return {}
    configs = {c.id: c for c in ScoreConfig.objects.for_project(project).filter(id__in=config_ids)}
    rejected = {}
    for score in scores:
        config_id = score.fields.get("config_id")
        if not config_id:
            continue
        problem = _problem(score, configs.get(config_id))
        if problem:
            rejected[score.id] = problem
    return rejected


def _problem(score: ScoreRecord, config: ScoreConfig | None) -> str | None:
    fields = score.fields
    if config is None:
        return f"score config {fields['config_id']} does not exist in this project"
    if config.is_archived:
        return f"score config {config.name!r} is archived"
    if fields["data_type"] != config.data_type:
        if config.data_type == "CATEGORICAL" and fields["data_type"] == "NUMERIC":
            fields["data_type"] = "CATEGORICAL"
        else:
            return f"score data type {fields['data_type']} does not match config {config.name!r} ({config.data_type})"
    if fields.get("name") != config.name:
        return f"score name {fields.get('name')!r} does not match config name {config.name!r}"
    value = fields.get("value")
    if config.data_type == "NUMERIC":
        if config.min_value is not None and value < config.min_value:
            return f"score value {value} is below the config minimum {config.min_value}"
        if config.max_value is not None and value > config.max_value:
            return f"score value {value} is above the config maximum {config.max_value}"
    if config.data_type == "CATEGORICAL":
        categories = config.categories or []
        by_label = {c.get("label"): c.get("value") for c in categories}
        by_value = {c.get("value"): c.get("label") for c in categories}
        label = fields.get("string_value")
        if label in by_label:
            fields["value"] = by_label[label]
        elif value is not None and value in by_value:
            fields["string_value"] = by_value[value]
        else:
            return f"score value {label!r} is not a category of config {config.name!r}"
    return None
