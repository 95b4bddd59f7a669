"""The two-step page of traces/list_queries.trace_page (a bounded walk in time order, then the
collect-and-sort plan when the walk does not fill the page) returns exactly the rows and cursors of
one plain query, whichever step answers. WALK_LIMIT is shrunk so small data sets reach both steps."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.http import QueryDict
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from tests.traces.list_data import make_observation, make_score, make_trace, row_ids
from traces import list_queries
from traces.forms import TraceListForm
from traces.list_queries import trace_page

pytestmark = pytest.mark.django_db

# Newest first: (id, seconds ago, tagged "rare"). Matches sit in clusters with long gaps between
# them, two of them share a timestamp with a non-matching trace, and one pair shares a timestamp.
LAYOUT = [(f"t{i:02d}", ago, i in {0, 1, 9, 10, 11, 22, 28}) for i, ago in enumerate(range(30))]
LAYOUT[10] = ("t10", 9, True)  # same second as t09
LAYOUT[12] = ("t12", 11, False)  # same second as t11


@pytest.fixture
def traces(team):
    now = timezone.now().replace(microsecond=0)
    for trace_id, ago, rare in LAYOUT:
        trace = make_trace(
            team.project,
            trace_id,
            now=now,
            ago=timedelta(seconds=ago),
            tags=["rare"] if rare else ["common"],
            metadata={"kind": "rare" if rare else "common"},
            total_cost=5 if rare else 1,
        )
        make_observation(team.project, trace, provided_model_name="rare-model" if rare else "common")
        if rare:
            make_score(team.project, trace, "rare-score", 1.0)
    return now


def state_of(**params) -> dict:
    query = QueryDict(mutable=True)
    for key, value in params.items():
        query[key] = value
    return TraceListForm(query).state()


def expected(order: str) -> list[str]:
    rows = [(ago, trace_id) for trace_id, ago, rare in LAYOUT if rare]
    # Newest first is timestamp descending, then id descending.
    ordered = sorted(rows, key=lambda row: (-row[0], row[1]), reverse=True)
    return [trace_id for _, trace_id in (ordered if order == "desc" else ordered[::-1])]


def all_pages(project, params: dict, now, size: int) -> tuple[list[list[str]], list[list[str]]]:
    """Every page following next links, then every page following previous links back."""
    forward, cursor = [], None
    while True:
        page = trace_page(project, state_of(**params, **({"after": cursor} if cursor else {})), now, size)
        forward.append([row.id for row in page.rows])
        if not page.next_cursor:
            break
        cursor = page.next_cursor
    backward = []
    while page.previous_cursor:
        page = trace_page(project, state_of(**params, before=page.previous_cursor), now, size)
        backward.append([row.id for row in page.rows])
    return forward, backward


FILTERS = {
    "tags": {"tags": "rare"},
    "metadata": {"meta_key": "kind", "meta_value": "rare"},
    "model": {"model": "rare-model"},
    "score": {"score_name": "rare-score"},
    "cost": {"cost_min": "2"},
}


@pytest.mark.parametrize("collect_limit", [0, 1000], ids=["walk-on", "collect"])
@pytest.mark.parametrize("walk_limit", [1, 3, 8, 1000])
@pytest.mark.parametrize("order", ["desc", "asc"])
@pytest.mark.parametrize("name", sorted(FILTERS))
def test_pages_are_those_of_a_plain_query_whichever_step_answers(
    team, traces, monkeypatch, walk_limit, collect_limit, order, name
):
    monkeypatch.setattr(list_queries, "WALK_LIMIT", walk_limit)
    monkeypatch.setattr(list_queries, "COLLECT_LIMIT", collect_limit)
    want = expected(order)
    forward, backward = all_pages(team.project, {**FILTERS[name], "order": order}, traces, size=2)
    assert forward == [want[i : i + 2] for i in range(0, len(want), 2)]
    assert backward == forward[-2::-1]


def test_a_sparse_filter_takes_the_second_step_and_a_dense_one_does_not(team, traces, monkeypatch):
    monkeypatch.setattr(list_queries, "WALK_LIMIT", 5)
    # The 6 newest traces hold 2 matches: the walk cannot fill a page of 3; PostgreSQL expects few
    # matches in so small a table, so they are collected and sorted.
    with CaptureQueriesContext(connection) as sparse:
        page = trace_page(team.project, state_of(tags="rare"), traces, size=3)
    assert [row.id for row in page.rows] == ["t00", "t01", "t10"]
    bound, walk, estimate, collect = (query["sql"] for query in sparse.captured_queries)
    assert "OFFSET 5" in bound
    assert '"traces"."timestamp" >=' in walk
    assert estimate.startswith("EXPLAIN")
    assert "ORDER BY" in collect and "interval" in collect
    # Every trace has a cost of at least 1: the walk fills the page.
    with CaptureQueriesContext(connection) as dense:
        page = trace_page(team.project, state_of(cost_min="1"), traces, size=3)
    assert [row.id for row in page.rows] == ["t00", "t01", "t02"]
    assert len(dense.captured_queries) == 2


def test_the_list_view_shows_the_rows_of_the_second_step(client, team, traces, monkeypatch):
    monkeypatch.setattr(list_queries, "WALK_LIMIT", 2)
    client.force_login(team.member)
    response = client.get(f"/project/{team.project.id}/traces", {"tags": "rare"})
    assert response.status_code == 200
    assert row_ids(response.content.decode()) == expected("desc")
