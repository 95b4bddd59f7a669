"""One trace read for its page: the observation tree, the timeline, scores and comments.

A constant number of queries whatever the trace's size: the trace, its observations (light
columns only), the selected observation in full, its scores, its comments. The tree and the
timeline positions are built in Python, in one pass, as a flat depth-first list, so templates
render nested, collapsible rows with a plain loop (no recursion).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from django.db.models import OuterRef, Q, QuerySet, Subquery
from django.http import Http404
from django.utils.http import urlencode

from accounts.models import User
from traces.models import Comment, CommentObjectType, Observation, Score, ScoreConfig, Trace

TREE_FIELDS = (
    "project_id",
    "id",
    "trace_id",
    "parent_observation_id",
    "type",
    "name",
    "start_time",
    "end_time",
    "completion_start_time",
    "level",
    "status_message",
    "provided_model_name",
    "usage_details",
    "total_cost",
)
TYPE_LABELS = {  # short type names for the tree's type badges
    "TRACE": "TRACE",
    "SPAN": "SPAN",
    "GENERATION": "GEN",
    "EVENT": "EVENT",
    "AGENT": "AGENT",
    "TOOL": "TOOL",
    "CHAIN": "CHAIN",
    "RETRIEVER": "RETR",
    "EVALUATOR": "EVAL",
    "EMBEDDING": "EMBED",
    "GUARDRAIL": "GUARD",
}
MIN_BAR_PERCENT = 0.25


# --- Formatting -------------------------------------------------------------------------


def format_duration(seconds: float | None) -> str:
    if seconds is None:
        return ""
    if seconds < 1:
        return f"{seconds * 1000:.0f}ms"
    if seconds < 60:
        return f"{seconds:.2f}s"
    minutes, rest = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes:.0f}m {rest:.0f}s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours:.0f}h {minutes:.0f}m"


def format_cost(value: Decimal | float | int | None) -> str:
    """US dollars with enough digits to see small per-call costs: $0.000315, $1.2345."""
    if value is None:
        return ""
    number = Decimal(str(value))
    if number == 0:
        return "$0"
    digits = 6 if abs(number) < 1 else 4
    text = f"{number:,.{digits}f}".rstrip("0").rstrip(".")
    return f"${text}" if text not in ("0", "-0") else f"<${Decimal(1).scaleb(-digits)}"


def token_total(usage: dict | None) -> int:
    if not usage:
        return 0
    if isinstance(usage.get("total"), int | float):
        return int(usage["total"])
    return int(sum(v for v in usage.values() if isinstance(v, int | float)))


# --- Tree and timeline ------------------------------------------------------------------


@dataclass
class Node:
    """A row of the tree and of the timeline."""

    observation: Observation
    depth: int = 0
    children: list[Node] = field(default_factory=list)
    closes: list[None] = field(default_factory=list)  # containers that end after this row
    offset: float = 0.0  # timeline: start, percent of the axis
    width: float = 0.0  # timeline: length, percent of the axis
    ttft_at: float | None = None  # timeline: first token, percent of the bar
    score_count: int = 0
    comment_count: int = 0

    @property
    def id(self) -> str:
        return self.observation.id

    @property
    def icon(self) -> str:
        return TYPE_LABELS.get(self.observation.type, self.observation.type[:5])

    @property
    def has_children(self) -> bool:
        return bool(self.children)

    @property
    def duration(self) -> str:
        return format_duration(self.observation.latency_seconds)

    @property
    def cost(self) -> str:
        return format_cost(self.observation.total_cost) if self.observation.total_cost else ""

    @property
    def tokens(self) -> int:
        return token_total(self.observation.usage_details)

    @property
    def ttft(self) -> str:
        return format_duration(time_to_first_token(self.observation))

    @property
    def level(self) -> str:
        return self.observation.level.lower()

    @property
    def bar_style(self) -> str:
        return f"left:{self.offset:.3f}%;width:{self.width:.3f}%"

    @property
    def ttft_style(self) -> str:
        return f"left:{self.ttft_at:.3f}%" if self.ttft_at is not None else ""


def time_to_first_token(observation: Observation) -> float | None:
    if observation.completion_start_time is None:
        return None
    return max(0.0, (observation.completion_start_time - observation.start_time).total_seconds())


def build_tree(observations: list[Observation]) -> list[Node]:
    """Depth-first rows, children by start time. An observation whose parent is missing (or
    that sits in a parent cycle) becomes a root, so every observation shows exactly once."""
    nodes = {o.id: Node(o) for o in observations}
    roots: list[Node] = []
    for node in nodes.values():
        parent = nodes.get(node.observation.parent_observation_id or "")
        (parent.children if parent is not None and parent is not node else roots).append(node)
    ordered: list[Node] = []
    seen: set[str] = set()
    pending = sorted(roots, key=_start_key)
    pending += sorted((n for n in nodes.values() if n not in roots), key=_start_key)  # cycle members
    for root in pending:
        if root.id not in seen:
            _walk(root, ordered, seen)
    return ordered


def _start_key(node: Node) -> tuple[datetime, str]:
    return node.observation.start_time, node.id


def _walk(root: Node, ordered: list[Node], seen: set[str]) -> None:
    """Iterative depth-first walk that records depths and how many containers each row closes."""
    stack: list[tuple[Node, int]] = [(root, 0)]
    open_parents: list[Node] = []
    while stack:
        node, depth = stack.pop()
        if node.id in seen:
            continue
        seen.add(node.id)
        while len(open_parents) > depth:
            open_parents.pop()
            ordered[-1].closes.append(None)
        node.depth = depth
        ordered.append(node)
        children = [c for c in sorted(node.children, key=_start_key) if c.id not in seen]
        node.children = children
        if children:
            open_parents.append(node)
            stack.extend((child, depth + 1) for child in reversed(children))
    for _ in open_parents:
        ordered[-1].closes.append(None)


@dataclass
class Tick:
    at: float  # percent of the axis
    label: str

    @property
    def style(self) -> str:
        return f"left:{self.at:.3f}%"


@dataclass
class Axis:
    start: datetime | None
    seconds: float
    ticks: list[Tick]


def place_on_timeline(nodes: list[Node], trace: Trace) -> Axis:
    """Offsets and widths (percent of the trace's span) for every node's bar."""
    starts = [n.observation.start_time for n in nodes]
    ends = [n.observation.end_time or n.observation.start_time for n in nodes]
    start = min(starts) if starts else trace.timestamp
    end = max(ends) if ends else trace.timestamp
    span = max((end - start).total_seconds(), 0.0)
    scale = span or 1.0
    for node in nodes:
        o = node.observation
        node.offset = min(100.0, (o.start_time - start).total_seconds() / scale * 100)
        length = (o.latency_seconds or 0.0) / scale * 100
        node.width = max(MIN_BAR_PERCENT, min(length, 100.0 - node.offset))
        ttft = time_to_first_token(o)
        if ttft is not None and o.latency_seconds:
            node.ttft_at = min(100.0, ttft / o.latency_seconds * 100)
    return Axis(start, span, ticks(span))


def ticks(span: float, count: int = 5) -> list[Tick]:
    if span <= 0:
        return [Tick(0.0, "0ms")]
    raw = span / count
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 5, 10) if m * magnitude >= raw)
    marks, value = [], 0.0
    while value <= span + 1e-9:
        marks.append(Tick(value / span * 100, format_duration(value)))
        value += step
    return marks


def node_rows(nodes: list[Node], base_url: str, view: str, selected_id: str | None) -> list[dict]:
    """What the tree and timeline templates print per node, as plain strings in dicts: a
    thousand rows render fast when the template engine does no formatting or attribute lookups."""
    suffix = "&view=timeline" if view == "timeline" else ""
    rows = []
    for node in nodes:
        o = node.observation
        meta = [node.duration]
        if node.cost:
            meta.append(node.cost)
        if node.tokens:
            meta.append(f"{node.tokens} tok")
        if node.score_count:
            meta.append(f"★{node.score_count}")
        if node.comment_count:
            meta.append(f"✎{node.comment_count}")
        ttft = node.ttft
        rows.append(
            {
                "href": f"{base_url}?{urlencode({'observation': o.id})}{suffix}",
                "current": o.id == selected_id,
                "icon": node.icon,
                "type": o.type,
                "type_class": o.type.lower(),
                "label": o.name or o.type,
                "level": node.level,
                "flagged": o.level in ("ERROR", "WARNING"),
                "level_label": o.level,
                "status": o.status_message or "",
                "meta": " · ".join(m for m in meta if m),
                "depth": str(node.depth),
                "children": node.has_children,
                "closes": node.closes,
                "bar": node.bar_style,
                "ttft_style": node.ttft_style,
                "timing": node.duration,
                "ttft": ttft,
            }
        )
    return rows


# --- The page's data --------------------------------------------------------------------


@dataclass
class TraceDetail:
    trace: Trace
    nodes: list[Node]
    axis: Axis
    selected: Observation | None
    scores: list[Score]
    comments: list[Comment]

    @property
    def trace_scores(self) -> list[Score]:
        return [s for s in self.scores if not s.observation_id]

    @property
    def selected_scores(self) -> list[Score]:
        wanted = self.selected.id if self.selected else None
        return [s for s in self.scores if (s.observation_id or None) == wanted]

    @property
    def selected_comments(self) -> list[Comment]:
        if self.selected is None:
            return [c for c in self.comments if c.object_type == CommentObjectType.TRACE]
        return [
            c
            for c in self.comments
            if c.object_type == CommentObjectType.OBSERVATION and c.object_id == self.selected.id
        ]

    @property
    def latency(self) -> str:
        return format_duration(self.trace.latency_seconds)

    @property
    def cost(self) -> str:
        return format_cost(self.trace.total_cost)


def with_author_email(queryset: QuerySet) -> QuerySet:
    return queryset.annotate(
        author_email=Subquery(User.objects.filter(pk=OuterRef("author_user_id")).values("email")[:1])
    )


def get_trace(project, trace_id: str) -> Trace:
    trace = Trace.objects.for_project(project).filter(id=trace_id).first()
    if trace is None:
        raise Http404("No such trace in this project")
    return trace


def get_observation(project, trace: Trace, observation_id: str) -> Observation:
    observation = (
        Observation.objects.for_project(project).in_trace(trace.id).filter(id=observation_id).first()
    )
    if observation is None:
        raise Http404("No such observation in this trace")
    return observation


def load_trace_detail(
    project, trace_id: str, selected_id: str | None, *, with_tree: bool = True
) -> TraceDetail:
    """Everything the trace page shows. Without the tree (a pane-only refresh), the
    observations and comment counts of other nodes are not read."""
    trace = get_trace(project, trace_id)
    selected = get_observation(project, trace, selected_id) if selected_id else None
    observations = (
        list(Observation.objects.for_project(project).in_trace(trace.id).only(*TREE_FIELDS))
        if with_tree
        else []
    )
    scores = list(
        with_author_email(Score.objects.for_project(project).filter(trace_id=trace.id)).order_by("timestamp")
    )
    comments = list(
        trace_comments(project, trace, [o.id for o in observations] if with_tree else [selected_id])
    )
    nodes = build_tree(observations)
    axis = place_on_timeline(nodes, trace)
    counts = {}
    for score in scores:
        counts[score.observation_id] = counts.get(score.observation_id, 0) + 1
    comment_counts = {}
    for comment in comments:
        if comment.object_type == CommentObjectType.OBSERVATION:
            comment_counts[comment.object_id] = comment_counts.get(comment.object_id, 0) + 1
    for node in nodes:
        node.score_count = counts.get(node.id, 0)
        node.comment_count = comment_counts.get(node.id, 0)
    return TraceDetail(trace, nodes, axis, selected, scores, comments)


def trace_comments(project, trace: Trace, observation_ids: list[str | None]) -> QuerySet:
    wanted = Q(object_type=CommentObjectType.TRACE, object_id=trace.id)
    ids = [i for i in observation_ids if i]
    if ids:
        wanted |= Q(object_type=CommentObjectType.OBSERVATION, object_id__in=ids)
    return with_author_email(Comment.objects.for_project(project).filter(wanted)).order_by("created_at")


def annotation_configs(project) -> list[ScoreConfig]:
    return list(ScoreConfig.objects.for_project(project).filter(is_archived=False).order_by("name"))


@dataclass
class UsageLine:
    usage_type: str
    units: str
    cost: str


def usage_breakdown(observation: Observation) -> list[UsageLine]:
    """Units and cost per usage type (input, output, cached, reasoning, ...), total last."""
    usage = observation.usage_details or {}
    costs = observation.cost_details or {}
    order = {"input": 0, "output": 1}
    kinds = sorted((set(usage) | set(costs)) - {"total"}, key=lambda k: (order.get(k, 2), k))
    lines = [
        UsageLine(kind, _units(usage.get(kind)), format_cost(costs[kind]) if kind in costs else "")
        for kind in kinds
    ]
    if kinds or "total" in usage or "total" in costs:
        total_cost = costs.get("total", observation.total_cost)
        lines.append(UsageLine("total", _units(usage.get("total")), format_cost(total_cost)))
    return lines


def _units(value) -> str:
    if value is None:
        return ""
    if isinstance(value, int | float):
        return f"{value:,.0f}" if float(value).is_integer() else f"{value:,}"
    return str(value)
