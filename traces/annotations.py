"""People annotating traces and observations from the UI: scores by score config, and comments."""

from __future__ import annotations

import math

from django.utils import timezone

from accounts.models import User
from langfuse_ui.ids import new_id
from traces.models import (
    Comment,
    CommentObjectType,
    Observation,
    Score,
    ScoreConfig,
    ScoreDataType,
    ScoreSource,
    Trace,
)

MAX_COMMENT_LENGTH = 5000
BOOLEAN_WORDS = {"true": 1.0, "1": 1.0, "yes": 1.0, "false": 0.0, "0": 0.0, "no": 0.0}


class AnnotationError(ValueError):
    """A value a person entered that the score config or the comment rules refuse."""


def score_value(config: ScoreConfig, raw: str) -> tuple[float, str | None]:
    """(value, string_value) for what was entered, checked against the config."""
    raw = (raw or "").strip()
    if not raw:
        raise AnnotationError(f"Enter a value for {config.name}")
    if config.data_type == ScoreDataType.NUMERIC:
        try:
            value = float(raw)
        except ValueError:
            raise AnnotationError(f"{config.name} needs a number; got {raw!r}") from None
        if not math.isfinite(value):
            raise AnnotationError(f"{config.name} needs a finite number")
        if config.min_value is not None and value < config.min_value:
            raise AnnotationError(f"{config.name} must be at least {config.min_value:g}")
        if config.max_value is not None and value > config.max_value:
            raise AnnotationError(f"{config.name} must be at most {config.max_value:g}")
        return value, None
    if config.data_type == ScoreDataType.BOOLEAN:
        if raw.lower() not in BOOLEAN_WORDS:
            raise AnnotationError(f"{config.name} is true or false; got {raw!r}")
        value = BOOLEAN_WORDS[raw.lower()]
        return value, "True" if value else "False"
    for category in config.categories or []:
        if raw == str(category.get("label")):
            return float(category.get("value")), str(category.get("label"))
    labels = ", ".join(str(c.get("label")) for c in config.categories or [])
    raise AnnotationError(f"{config.name} is one of {labels}; got {raw!r}")


def add_score(
    project,
    user: User,
    *,
    trace: Trace,
    observation: Observation | None,
    config: ScoreConfig,
    value: str,
    comment: str = "",
) -> Score:
    """The user's annotation score for this config on the trace (or observation).

    One annotation per person, config and target: annotating again replaces the value, as in
    Langfuse's annotation panel.
    """
    if config.is_archived or config.project_id != getattr(project, "pk", project):
        raise AnnotationError(f"The score config {config.name!r} cannot be used for new scores")
    number, label = score_value(config, value)
    now = timezone.now()
    fields = {
        "name": config.name,
        "value": number,
        "string_value": label,
        "data_type": config.data_type,
        "comment": comment.strip() or None,
        "timestamp": now,
        "updated_at": now,
        "environment": (observation or trace).environment,
    }
    existing = Score.objects.for_project(project).filter(
        trace_id=trace.id,
        observation_id=observation.id if observation else None,
        config_id=config.id,
        source=ScoreSource.ANNOTATION,
        author_user_id=user.pk,
    )
    score = existing.first()
    if score is not None:
        existing.filter(id=score.id).update(**fields)
        for name, field_value in fields.items():
            setattr(score, name, field_value)
        return score
    return Score.objects.create(
        project_id=getattr(project, "pk", project),
        id=new_id(),
        trace_id=trace.id,
        observation_id=observation.id if observation else None,
        config_id=config.id,
        source=ScoreSource.ANNOTATION,
        author_user_id=user.pk,
        created_at=now,
        **fields,
    )


def add_comment(
    project, user: User, *, trace: Trace, observation: Observation | None, content: str
) -> Comment:
    content = (content or "").strip()
    if not content:
        raise AnnotationError("Write something to comment")
    if len(content) > MAX_COMMENT_LENGTH:
        raise AnnotationError(f"A comment holds at most {MAX_COMMENT_LENGTH} characters")
    if observation is None:
        object_type, object_id = CommentObjectType.TRACE, trace.id
    else:
        object_type, object_id = CommentObjectType.OBSERVATION, observation.id
    now = timezone.now()
    return Comment.objects.create(
        project_id=getattr(project, "pk", project),
        object_type=object_type,
        object_id=object_id,
        content=content,
        author_user_id=user.pk,
        created_at=now,
        updated_at=now,
    )
