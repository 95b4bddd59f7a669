"""Scores per prompt version, and how the values of each score are distributed."""

from __future__ import annotations

from dataclasses import dataclass

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
    the trace's generations used."""
    rows = with_traces(
        scope,
        """SELECT name, prompt_name, prompt_version, avg(value), count(*)
           FROM (SELECT DISTINCT s.id, s.name, s.value, o.prompt_name, o.prompt_version
                 FROM t JOIN scores s ON s.project_id = %s AND s.trace_id = t.id
                 JOIN observations o ON o.project_id = s.project_id AND o.trace_id = s.trace_id
                      AND o.prompt_name IS NOT NULL AND o.prompt_version IS NOT NULL
                      AND (s.observation_id IS NULL OR o.id = s.observation_id)
                 WHERE s.value IS NOT NULL AND s.data_type <> 'CATEGORICAL') AS linked
           GROUP BY 1, 2, 3 ORDER BY 1, 2, 3""",
        [scope.project_id],
    )
    return [PromptScore(*row) for row in rows]


@dataclass(frozen=True)
class ValueCount:
    score: str
    value: str
    count: int


def distribution(scope: Scope) -> list[ValueCount]:
    """How often each value occurs per score name: categories as labelled, booleans as
    true/false, numbers as given (rounded to 2 decimals)."""
    rows = with_traces(
        scope,
        """SELECT s.name,
                  CASE WHEN s.data_type = 'CATEGORICAL' THEN coalesce(s.string_value, '(none)')
                       WHEN s.data_type = 'BOOLEAN' THEN CASE WHEN s.value = 1 THEN 'true' ELSE 'false' END
                       ELSE coalesce(round(s.value::numeric, 2)::text, '(none)') END AS label,
                  count(*)
           FROM t JOIN scores s ON s.project_id = %s AND s.trace_id = t.id
           GROUP BY 1, 2 ORDER BY 1, 3 DESC, 2
        """,
        [scope.project_id],
    )
    return [ValueCount(*row) for row in rows]
