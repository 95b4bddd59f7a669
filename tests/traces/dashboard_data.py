"""A small, hand-countable data set for the dashboard tests (window 2026-01-10 .. 2026-01-13 UTC).

    trace  day   name       user   team     env         observations (env "default" unless staging) (model, cost, usage, seconds)
    t1     10th  chat       alice  search   production  gpt-4o 0.5 {in 100, out 50, cached 20}, 2 s, TTFT 0.5 s,
                                                         prompt greet v1; a 3 s span at level ERROR
    t2     10th  chat       bob    search   production  claude 0.25 -> updated to 0.75 {in 40, out 10, reasoning 5},
                                                         4 s, TTFT 1 s, prompt greet v2
    t3     11th  summarise  alice  billing  staging     gpt-4o 1.0 {in 200, out 100}, 6 s, TTFT 2 s
    t4     12th  summarise  -      -        production  gpt-4o 0.125 {in 10, out 5}, 1 s
    gone   11th  chat       carol  search   production  gpt-4o 9.0, deleted
    p1     8th   chat       alice  search   production  gpt-4o 2.0 (previous window)
    late   20th  chat       alice  search   production  gpt-4o 4.0 (after the window)

Scores: quality 0.8 on t1 (trace), 0.4 on t2's generation, 1.0 on t3, 0.0 on gone; tone "friendly"
on t1 (categorical).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from tests.traces.list_data import make_observation, make_score, make_trace
from traces.deletion import delete_traces
from traces.ingest.writer import refresh_trace_aggregates
from traces.models import Observation, ScoreDataType

WINDOW = "range=custom&since=2026-01-10T00:00:00&until=2026-01-13T00:00:00"


def at(day: int, hour: int, second: float = 0) -> datetime:
    return datetime(2026, 1, day, hour, tzinfo=UTC) + timedelta(seconds=second)


def usage(**values: int) -> dict:
    return {**values, "total": sum(values.values())}


@dataclass
class DashboardData:
    project: object
    generation_t2: Observation


def add_trace(
    project, trace_id: str, day: int, hour: int, *, model: str, cost: str, seconds: float, **fields
):
    ttft = fields.pop("ttft", None)
    prompt = fields.pop("prompt", None)
    tokens = fields.pop("usage", {})
    trace = make_trace(project, trace_id, timestamp=at(day, hour), **fields)
    generation = make_observation(
        project,
        trace,
        type="GENERATION",
        provided_model_name=model,
        start_time=at(day, hour),
        end_time=at(day, hour, seconds),
        completion_start_time=at(day, hour, ttft) if ttft is not None else None,
        total_cost=Decimal(cost),
        cost_details={"total": float(cost)},
        usage_details=tokens,
        prompt_name=prompt and prompt[0],
        prompt_version=prompt and prompt[1],
    )
    return trace, generation


def make_dashboard_data(project) -> DashboardData:
    search, billing = {"team": "search"}, {"team": "billing"}
    t1, _ = add_trace(
        project,
        "t1",
        10,
        10,
        model="gpt-4o",
        cost="0.5",
        seconds=2,
        ttft=0.5,
        prompt=("greet", 1),
        usage=usage(input=100, output=50, input_cached_tokens=20),
        name="chat",
        user_id="alice",
        session_id="s1",
        metadata=search,
        release="r1",
    )
    make_observation(project, t1, type="SPAN", start_time=at(10, 10), end_time=at(10, 10, 3), level="ERROR")
    t2, generation_t2 = add_trace(
        project,
        "t2",
        10,
        15,
        model="claude",
        cost="0.25",
        seconds=4,
        ttft=1,
        prompt=("greet", 2),
        usage=usage(input=40, output=10, output_reasoning_tokens=5),
        name="chat",
        user_id="bob",
        session_id="s1",
        metadata=search,
        release="r1",
    )
    t3, _ = add_trace(
        project,
        "t3",
        11,
        9,
        model="gpt-4o",
        cost="1.0",
        seconds=6,
        ttft=2,
        usage=usage(input=200, output=100),
        name="summarise",
        user_id="alice",
        session_id="s2",
        metadata=billing,
        environment="staging",
        release="r2",
    )
    add_trace(
        project,
        "t4",
        12,
        12,
        model="gpt-4o",
        cost="0.125",
        seconds=1,
        usage=usage(input=10, output=5),
        name="summarise",
    )
    gone, _ = add_trace(
        project,
        "gone",
        11,
        11,
        model="gpt-4o",
        cost="9.0",
        seconds=30,
        name="chat",
        user_id="carol",
        metadata=search,
        usage=usage(input=1000, output=1000),
    )
    add_trace(
        project,
        "p1",
        8,
        10,
        model="gpt-4o",
        cost="2.0",
        seconds=5,
        name="chat",
        user_id="alice",
        metadata=search,
        usage=usage(input=1, output=1),
    )
    add_trace(
        project,
        "late",
        20,
        10,
        model="gpt-4o",
        cost="4.0",
        seconds=5,
        name="chat",
        user_id="alice",
        metadata=search,
        usage=usage(input=1, output=1),
    )
    make_score(project, t1, "quality", 0.8)
    make_score(project, t2, "quality", 0.4, observation_id=generation_t2.id)
    make_score(project, t3, "quality", 1.0)
    make_score(project, gone, "quality", 0.0)
    make_score(project, t1, "tone", None, string_value="friendly", data_type=ScoreDataType.CATEGORICAL)
    refresh_trace_aggregates(project.id, ["t1", "t2", "t3", "t4", "gone", "p1", "late"])
    delete_traces(project, ["gone"])
    # An update that changes cost after ingestion (as a re-priced or corrected generation would).
    generation_t2.total_cost = Decimal("0.75")
    generation_t2.cost_details = {"total": 0.75}
    generation_t2.save(update_fields=["total_cost", "cost_details"])
    refresh_trace_aggregates(project.id, ["t2"])
    return DashboardData(project, generation_t2)
