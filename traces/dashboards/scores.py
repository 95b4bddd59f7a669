"""Scores per prompt version, and how the values of each score are distributed."""

from __future__ import annotations

from dataclasses import dataclass

from traces.dashboards import rollups
from traces.dashboards.base import Scope, with_traces


@dataclass(frozen=True)
class PromptScore:
    score: str
    prompt: str
    version: int
    average: float
    count: int


def by_prompt_version(scope: Scope) -> list[PromptScore]:
    """Average of each numeric or boolean score per prompt version. A score on a generation
    counts for that generation's prompt; a trace-level score counts once for each prompt version
    the trace's generations used. Averages are sum(value::numeric) / count (see rollups)."""
    if span := rollups.span_of(scope):
        rows = rollups.scores_by_prompt(scope, span)
    else:
        rows = with_traces(
            scope,
            f"""SELECT name, prompt_name, prompt_version, sum(value::numeric) / count(*), count(*)
               FROM (SELECT DISTINCT s.id, s.name, s.value, o.prompt_name, o.prompt_version
                     FROM t {rollups.SCORES} {rollups.PROMPT_PAIRS}
                     WHERE {rollups.AVERAGED}) AS linked
               GROUP BY 1, 2, 3 ORDER BY 1, 2, 3""",
            [scope.project_id],
        )
    return [
        PromptScore(name, prompt, version, float(average), int(count))
        for name, prompt, version, average, count in rows
    ]


@dataclass(frozen=True)
class ValueCount:
    score: str
    value: str
    count: int


def distribution(scope: Scope) -> list[ValueCount]:
    """How often each value occurs per score name: categories as labelled, booleans as
    true/false, numbers as given (rounded to 2 decimals)."""
    if span := rollups.span_of(scope):
        rows = rollups.score_labels(scope, span)
    else:
        rows = with_traces(
            scope,
            f"""SELECT s.name, {rollups.SCORE_LABEL} AS label, count(*)
               FROM t {rollups.SCORES}
               GROUP BY 1, 2 ORDER BY 1, 3 DESC, 2""",
            [scope.project_id],
        )
    return [ValueCount(name, label, int(count)) for name, label, count in rows]
