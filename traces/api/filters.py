"""The advanced `filter` parameter of the read API: a JSON list of conditions -> QuerySet filters.

Each condition is {type, column, operator, value, key?} as in Langfuse's spec. A column table
per resource says what each column is (a plain field, a computed expression, a JSON key, or a
subquery); anything unknown answers 400 naming the column or operator and what is allowed.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.db.models import Avg, Case, Exists, F, FloatField, OuterRef, Q, Subquery, Value, When
from django.db.models.fields.json import KeyTextTransform, KeyTransform
from django.db.models.functions import Cast
from django.db.models.lookups import Exact

from traces.api.params import InvalidRequest, parse_timestamp
from traces.models import Score, Trace

OPERATORS = {
    "datetime": (">", "<", ">=", "<="),
    "string": ("=", "contains", "does not contain", "starts with", "ends with", "matches"),
    "stringOptions": ("any of", "none of"),
    "categoryOptions": ("any of", "none of"),
    "arrayOptions": ("any of", "none of", "all of"),
    "number": ("=", ">", "<", ">=", "<=", "<>"),
    "stringObject": ("=", "contains", "does not contain", "starts with", "ends with", "matches"),
    "numberObject": ("=", ">", "<", ">=", "<=", "<>"),
    "booleanObject": ("=", "<>"),
    "boolean": ("=", "<>"),
    "null": ("is null", "is not null"),
}

# Which filter types each kind of column accepts.
KIND_TYPES = {
    "string": ("string", "stringOptions", "categoryOptions", "null"),
    "datetime": ("datetime", "null"),
    "number": ("number", "null"),
    "array": ("arrayOptions",),
    "boolean": ("boolean",),
    "json": ("stringObject", "numberObject", "booleanObject", "categoryOptions", "null"),
    "score_avg": ("numberObject", "number"),
    "score_categories": ("categoryOptions",),
    "score_booleans": ("booleanObject",),
}

COMPARISONS = {"=": "exact", ">": "gt", "<": "lt", ">=": "gte", "<=": "lte"}


@dataclass(frozen=True)
class Column:
    kind: str
    # A model field name, or a factory of an expression to annotate.
    field: str | None = None
    expression: Callable[[], Any] | None = None


def seconds(start: str, end: str) -> Any:
    duration = models.ExpressionWrapper(F(end) - F(start), output_field=models.DurationField())
    return models.Func(duration, template="EXTRACT(EPOCH FROM %(expressions)s)", output_field=FloatField())


def json_number(field: str, key: str) -> Any:
    """A JSON key as float where it holds a number, NULL otherwise (never a cast error)."""
    typeof = models.Func(KeyTransform(key, field), function="jsonb_typeof", output_field=models.CharField())
    return Case(
        When(Exact(typeof, "number"), then=Cast(KeyTextTransform(key, field), FloatField())),
        default=Value(None, output_field=FloatField()),
        output_field=FloatField(),
    )


def trace_value(field: str, output_field: models.Field | None = None) -> Callable[[], Any]:
    """A field of an observation's trace, as a correlated subquery (no FK between them)."""

    def build() -> Subquery:
        traces = Trace.objects.filter(project_id=OuterRef("project_id"), id=OuterRef("trace_id"))
        return Subquery(traces.values(field)[:1], output_field=output_field)

    return build


def trace_level() -> Case:
    return Case(
        When(error_count__gt=0, then=Value("ERROR")),
        When(warning_count__gt=0, then=Value("WARNING")),
        default=Value("DEFAULT"),
        output_field=models.CharField(),
    )


TRACE_COLUMNS: dict[str, Column] = {
    "id": Column("string", "id"),
    "name": Column("string", "name"),
    "timestamp": Column("datetime", "timestamp"),
    "userId": Column("string", "user_id"),
    "sessionId": Column("string", "session_id"),
    "environment": Column("string", "environment"),
    "version": Column("string", "version"),
    "release": Column("string", "release"),
    "tags": Column("array", "tags"),
    "bookmarked": Column("boolean", "bookmarked"),
    "public": Column("boolean", "public"),
    "metadata": Column("json", "metadata"),
    "latency": Column("number", expression=lambda: seconds("start_time", "end_time")),
    "inputTokens": Column("number", "input_tokens"),
    "outputTokens": Column("number", "output_tokens"),
    "totalTokens": Column("number", "total_tokens"),
    "tokens": Column("number", "total_tokens"),
    "inputCost": Column("number", "input_cost"),
    "outputCost": Column("number", "output_cost"),
    "totalCost": Column("number", "total_cost"),
    "level": Column("string", expression=trace_level),
    "warningCount": Column("number", "warning_count"),
    "errorCount": Column("number", "error_count"),
    "scores_avg": Column("score_avg"),
    "scores": Column("score_avg"),
    "score_categories": Column("score_categories"),
    "score_booleans": Column("score_booleans"),
}

_TAGS = ArrayField(models.CharField(max_length=800))

OBSERVATION_COLUMNS: dict[str, Column] = {
    "id": Column("string", "id"),
    "type": Column("string", "type"),
    "name": Column("string", "name"),
    "traceId": Column("string", "trace_id"),
    "parentObservationId": Column("string", "parent_observation_id"),
    "startTime": Column("datetime", "start_time"),
    "endTime": Column("datetime", "end_time"),
    "environment": Column("string", "environment"),
    "level": Column("string", "level"),
    "statusMessage": Column("string", "status_message"),
    "version": Column("string", "version"),
    "isRootObservation": Column("boolean", expression=lambda: Q(parent_observation_id__isnull=True)),
    "latency": Column("number", expression=lambda: seconds("start_time", "end_time")),
    "timeToFirstToken": Column("number", expression=lambda: seconds("start_time", "completion_start_time")),
    "inputTokens": Column("number", expression=lambda: json_number("usage_details", "input")),
    "outputTokens": Column("number", expression=lambda: json_number("usage_details", "output")),
    "totalTokens": Column("number", expression=lambda: json_number("usage_details", "total")),
    "tokens": Column("number", expression=lambda: json_number("usage_details", "total")),
    "inputCost": Column("number", expression=lambda: json_number("cost_details", "input")),
    "outputCost": Column("number", expression=lambda: json_number("cost_details", "output")),
    "totalCost": Column("number", "total_cost"),
    "model": Column("string", "provided_model_name"),
    "providedModelName": Column("string", "provided_model_name"),
    "promptName": Column("string", "prompt_name"),
    "promptVersion": Column("number", "prompt_version"),
    "input": Column("string", expression=lambda: Cast("input", models.TextField())),
    "output": Column("string", expression=lambda: Cast("output", models.TextField())),
    "metadata": Column("json", "metadata"),
    "userId": Column("string", expression=trace_value("user_id")),
    "sessionId": Column("string", expression=trace_value("session_id")),
    "traceName": Column("string", expression=trace_value("name")),
    "traceEnvironment": Column("string", expression=trace_value("environment")),
    "traceTags": Column("array", expression=trace_value("tags", _TAGS)),
    "tags": Column("array", expression=trace_value("tags", _TAGS)),
}

SCORE_COLUMNS: dict[str, Column] = {
    "id": Column("string", "id"),
    "name": Column("string", "name"),
    "source": Column("string", "source"),
    "dataType": Column("string", "data_type"),
    "environment": Column("string", "environment"),
    "traceId": Column("string", "trace_id"),
    "observationId": Column("string", "observation_id"),
    "sessionId": Column("string", "session_id"),
    "datasetRunId": Column("string", "dataset_run_id"),
    "configId": Column("string", "config_id"),
    "queueId": Column("string", "queue_id"),
    "stringValue": Column("string", "string_value"),
    "comment": Column("string", "comment"),
    "timestamp": Column("datetime", "timestamp"),
    "value": Column("number", "value"),
    "metadata": Column("json", "metadata"),
}


def parse_conditions(raw: Any) -> list[dict]:
    """The decoded `filter` value -> a list of condition dicts (shape checked, not columns)."""
    if raw is None:
        return []
    if isinstance(raw, dict):
        raw = [raw]
    if not isinstance(raw, list):
        raise InvalidRequest("filter must be a JSON array of {type, column, operator, value} objects")
    for index, condition in enumerate(raw):
        if not isinstance(condition, dict):
            raise InvalidRequest(f"filter[{index}] must be an object with type, column, operator and value")
        for required in ("type", "column", "operator"):
            if not isinstance(condition.get(required), str):
                raise InvalidRequest(f"filter[{index}] needs a string '{required}'")
    return raw


def filtered_columns(conditions: list[dict]) -> set[str]:
    return {condition["column"] for condition in conditions}


def apply_conditions(
    qs: models.QuerySet, conditions: list[dict], columns: dict[str, Column]
) -> models.QuerySet:
    for index, condition in enumerate(conditions):
        qs = _apply(qs, index, condition, columns)
    return qs


def _apply(qs: models.QuerySet, index: int, cond: dict, columns: dict[str, Column]) -> models.QuerySet:
    name, kind_of_filter, operator = cond["column"], cond["type"], cond["operator"]
    column = columns.get(name)
    where = f"filter[{index}]"
    if column is None:
        raise InvalidRequest(f"{where}: unknown column {name!r}; available columns: {', '.join(columns)}")
    if kind_of_filter not in OPERATORS:
        raise InvalidRequest(f"{where}: unknown type {kind_of_filter!r}; available: {', '.join(OPERATORS)}")
    if kind_of_filter not in KIND_TYPES[column.kind]:
        allowed = ", ".join(KIND_TYPES[column.kind])
        raise InvalidRequest(
            f"{where}: column {name!r} cannot be filtered as {kind_of_filter!r}; use {allowed}"
        )
    if operator not in OPERATORS[kind_of_filter]:
        allowed = ", ".join(repr(op) for op in OPERATORS[kind_of_filter])
        raise InvalidRequest(
            f"{where}: operator {operator!r} is not valid for type {kind_of_filter!r}; use {allowed}"
        )
    key = cond.get("key")
    value = cond.get("value")
    if column.kind.startswith("score_"):
        return qs.filter(_score_condition(where, column.kind, operator, key, value))
    target = f"_filter{index}"
    if column.kind == "json" and kind_of_filter != "null":
        if not isinstance(key, str) or not key:
            raise InvalidRequest(f"{where}: {kind_of_filter} on {name!r} needs a 'key'")
        if kind_of_filter == "numberObject":
            qs = qs.annotate(**{target: json_number(column.field, key)})
            kind_of_filter = "number"
        else:
            qs = qs.annotate(**{target: KeyTextTransform(key, column.field)})
            if kind_of_filter == "booleanObject":
                return qs.filter(_boolean(where, target, operator, value, as_text=True))
            kind_of_filter = "string" if kind_of_filter == "stringObject" else kind_of_filter
    elif column.kind == "json" and key:
        qs = qs.annotate(**{target: KeyTransform(key, column.field)})
    elif column.expression is not None:
        built = column.expression()
        if isinstance(built, Q):
            built = models.ExpressionWrapper(built, output_field=models.BooleanField())
        qs = qs.annotate(**{target: built})
    else:
        target = column.field
    return qs.filter(_condition(where, kind_of_filter, operator, target, value))


def _condition(where: str, kind: str, operator: str, target: str, value: Any) -> Q:
    if kind == "null":
        return Q(**{f"{target}__isnull": operator == "is null"})
    if kind == "boolean":
        return _boolean(where, target, operator, value)
    if kind == "datetime":
        if not isinstance(value, str):
            raise InvalidRequest(f"{where}: datetime value must be an ISO 8601 string")
        return Q(**{f"{target}__{COMPARISONS[operator]}": parse_timestamp(value, f"{where}.value")})
    if kind == "number":
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise InvalidRequest(f"{where}: number value must be a number, got {value!r}")
        if operator == "<>":
            return ~Q(**{target: value})
        return Q(**{f"{target}__{COMPARISONS[operator]}": value})
    if kind == "string":
        if not isinstance(value, str):
            raise InvalidRequest(f"{where}: string value must be a string, got {value!r}")
        lookup = {
            "=": "exact",
            "contains": "icontains",
            "matches": "icontains",
            "does not contain": "icontains",
            "starts with": "istartswith",
            "ends with": "iendswith",
        }[operator]
        condition = Q(**{f"{target}__{lookup}": value})
        return ~condition if operator == "does not contain" else condition
    values = _string_list(where, value)
    if kind in ("stringOptions", "categoryOptions"):
        condition = Q(**{f"{target}__in": values})
        return ~condition if operator == "none of" else condition
    # arrayOptions
    if operator == "all of":
        return Q(**{f"{target}__contains": values})
    condition = Q(**{f"{target}__overlap": values})
    return ~condition if operator == "none of" else condition


def _boolean(where: str, target: str, operator: str, value: Any, *, as_text: bool = False) -> Q:
    if not isinstance(value, bool):
        raise InvalidRequest(f"{where}: boolean value must be true or false, got {value!r}")
    wanted = value if operator == "=" else not value
    if as_text:
        return Q(**{f"{target}__iexact": "true" if wanted else "false"})
    return Q(**{target: wanted})


def _string_list(where: str, value: Any) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise InvalidRequest(f"{where}: value must be a list of strings, got {value!r}")
    return value


def _trace_scores(name: Any, where: str) -> models.QuerySet:
    if not isinstance(name, str) or not name:
        raise InvalidRequest(f"{where}: score filters need 'key' set to the score name")
    return Score.objects.filter(project_id=OuterRef("project_id"), trace_id=OuterRef("id"), name=name)


def _score_condition(where: str, kind: str, operator: str, key: Any, value: Any) -> Q:
    scores = _trace_scores(key, where)
    if kind == "score_avg":
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise InvalidRequest(f"{where}: number value must be a number, got {value!r}")
        average = scores.filter(data_type="NUMERIC").values("trace_id").annotate(avg=Avg("value"))
        if operator == "<>":
            return ~Exists(average.filter(avg=value))
        return Exists(average.filter(**{f"avg__{COMPARISONS[operator]}": value}))
    if kind == "score_categories":
        matching = Exists(scores.filter(string_value__in=_string_list(where, value)))
        return ~matching if operator == "none of" else matching
    if not isinstance(value, bool):
        raise InvalidRequest(f"{where}: boolean value must be true or false, got {value!r}")
    holds = Exists(scores.filter(data_type="BOOLEAN", value=1.0 if value else 0.0))
    # `<>` also matches traces that have no score of that name.
    return holds if operator == "=" else ~holds
