"""Sessions and users as the UI lists them: traces grouped by session_id or user_id.

A page is found in two steps: first the page's keys by keyset on the group's first (sessions)
or last (users) trace time, which the (project_id, session_id|user_id, timestamp) indexes
answer; then the aggregates of only those groups.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from urllib.parse import quote

from django.contrib.postgres.aggregates import ArrayAgg
from django.db.models import Avg, Count, F, Max, Min, Q, Sum
from django.db.models.functions import Coalesce

from traces.keyset import Page, keyset_page, parse_datetime_value
from traces.models import Score, Trace

PAGE_SIZE = 50


@dataclass
class Group:
    """A session or a user with the totals of their traces."""

    id: str
    href: str
    trace_count: int = 0
    first_seen: datetime | None = None
    last_seen: datetime | None = None
    started: datetime | None = None
    ended: datetime | None = None
    input_tokens: int = 0
    output_tokens: int = 0
    total_tokens: int = 0
    total_cost: Decimal = Decimal(0)
    users: list[str] = field(default_factory=list)
    sessions: int = 0
    environments: list[str] = field(default_factory=list)

    @property
    def duration_seconds(self) -> float | None:
        if self.started and self.ended:
            return (self.ended - self.started).total_seconds()
        return None


KINDS = {
    # kind: (trace field, path segment, sort aggregate)
    "session": ("session_id", "sessions", Min),
    "user": ("user_id", "users", Max),
}


def group_href(project_id: str, kind: str, group_id: str) -> str:
    return f"/project/{project_id}/{KINDS[kind][1]}/{quote(group_id, safe='')}"


def group_totals(project, kind: str, ids: list[str]) -> dict[str, Group]:
    """The aggregates of the given sessions or users, in one query."""
    column = KINDS[kind][0]
    if not ids:
        return {}
    rows = (
        Trace.objects.for_project(project)
        .filter(**{f"{column}__in": ids})
        .values(column)
        .annotate(
            trace_count=Count("id"),
            first_seen=Min("timestamp"),
            last_seen=Max("timestamp"),
            started=Min(Coalesce("start_time", "timestamp")),
            ended=Max(Coalesce("end_time", "timestamp")),
            input_tokens=Sum("input_tokens"),
            output_tokens=Sum("output_tokens"),
            total_tokens=Sum("total_tokens"),
            total_cost=Sum("total_cost"),
            users=ArrayAgg("user_id", distinct=True, filter=Q(user_id__isnull=False), default=[]),
            sessions=Count("session_id", distinct=True),
            environments=ArrayAgg("environment", distinct=True, default=[]),
        )
        .order_by()
    )
    groups = {}
    for row in rows:
        group_id = row.pop(column)
        groups[group_id] = Group(id=group_id, href=group_href(project.id, kind, group_id), **row)
    return groups


def group_page(project, kind: str, state: dict, size: int = PAGE_SIZE) -> Page:
    """A page of sessions (newest first by their first trace) or users (by their last trace)."""
    column, _, aggregate = KINDS[kind]
    keys = Trace.objects.for_project(project).filter(**{f"{column}__isnull": False})
    if term := (state.get("q") or "").strip():
        keys = keys.filter(**{f"{column}__icontains": term})
    keys = keys.values(column).annotate(sort_key=aggregate("timestamp"))
    page = keyset_page(
        keys,
        key="sort_key",
        id_field=column,
        parse=parse_datetime_value,
        descending=True,
        after=state.get("after"),
        before=state.get("before"),
        size=size,
        value_of=lambda row: (row["sort_key"], row[column]),
    )
    totals = group_totals(project, kind, [row[column] for row in page.rows])
    page.rows = [totals[row[column]] for row in page.rows if row[column] in totals]
    return page


def group(project, kind: str, group_id: str) -> Group | None:
    return group_totals(project, kind, [group_id]).get(group_id)


def session_scores(project, session_id: str) -> list[dict]:
    """Scores given to the session itself, averaged per name."""
    return list(
        Score.objects.for_project(project)
        .filter(session_id=session_id)
        .values("name")
        .annotate(average=Avg("value"), count=Count("id"))
        .order_by("name")
    )


def session_traces(project, session_id: str, after: str | None, size: int = PAGE_SIZE) -> Page:
    """The session's traces oldest first: the conversation in the order it happened."""
    qs = Trace.objects.for_project(project).filter(session_id=session_id).annotate(sort_key=F("timestamp"))
    return keyset_page(
        qs, key="sort_key", parse=parse_datetime_value, descending=False, after=after, size=size
    )
