"""Trace exports: CSV and JSON Lines of every trace matching a traces-list filter, streamed in
keyset chunks; viewers may export, outsiders get 404."""

from __future__ import annotations

import csv
import io
import json
from datetime import timedelta

import pytest
import requests
from asgiref.sync import async_to_sync
from django.conf import settings
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from tests.factories import make_project_with_roles
from tests.live import database_url_of_current_connection, start_server
from tests.traces.list_data import make_observation, make_trace, make_traces
from traces.exports import COLUMNS, as_async, csv_chunks, iter_trace_chunks
from traces.forms import TraceListForm

pytestmark = pytest.mark.django_db


def csv_url(project, query: str = "") -> str:
    return f"/project/{project.id}/traces/actions/export.csv" + (f"?{query}" if query else "")


def jsonl_url(project, query: str = "") -> str:
    return f"/project/{project.id}/traces/actions/export.jsonl" + (f"?{query}" if query else "")


def body(response) -> str:
    return b"".join(response.streaming_content).decode()


def state(query: str = "") -> dict:
    from django.http import QueryDict

    return TraceListForm(QueryDict(query)).state()


def test_csv_holds_every_matching_trace_in_list_order(client, team):
    make_traces(team.project, 300, environment="production")
    make_traces(team.project, 20, prefix="dev", environment="dev")
    client.force_login(team.viewer)

    response = client.get(csv_url(team.project, "environment=production"))

    assert response.status_code == 200
    assert response.streaming
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"].startswith('attachment; filename="traces-')
    rows = list(csv.DictReader(io.StringIO(body(response))))
    assert [row["id"] for row in rows] == [f"t-{i:04d}" for i in range(300)]
    assert list(rows[0]) == COLUMNS


def test_csv_cells_carry_json_fields_and_costs(client, team):
    make_trace(
        team.project,
        "rich",
        name="chat",
        user_id="u1",
        tags=["a", "b"],
        input={"messages": [{"role": "user", "content": 'hi, "there"\nnext'}]},
        metadata={"k": 1},
        total_cost=0.0125,
        error_count=1,
        latency=2.5,
    )
    client.force_login(team.viewer)

    (row,) = csv.DictReader(io.StringIO(body(client.get(csv_url(team.project)))))

    assert row["name"] == "chat" and row["userId"] == "u1"
    assert json.loads(row["tags"]) == ["a", "b"]
    assert json.loads(row["input"]) == {"messages": [{"role": "user", "content": 'hi, "there"\nnext'}]}
    assert json.loads(row["metadata"]) == {"k": 1}
    assert row["output"] == ""
    assert float(row["totalCost"]) == 0.0125
    assert row["level"] == "ERROR"
    assert float(row["latencySeconds"]) == 2.5


def test_jsonl_has_one_object_per_line(client, team):
    make_trace(team.project, "a", ago=timedelta(seconds=1), output="done", total_cost=0.5)
    make_trace(team.project, "b", ago=timedelta(seconds=2), tags=["x"])
    client.force_login(team.viewer)

    response = client.get(jsonl_url(team.project))

    assert response["Content-Type"] == "application/x-ndjson; charset=utf-8"
    lines = body(response).splitlines()
    records = [json.loads(line) for line in lines]
    assert [r["id"] for r in records] == ["a", "b"]
    assert records[0]["output"] == "done" and records[0]["totalCost"] == 0.5
    assert records[1]["tags"] == ["x"]
    assert set(records[0]) == set(COLUMNS)


def test_export_applies_the_filters_and_sort_of_the_list(client, team):
    make_trace(team.project, "cheap", total_cost=0.1, name="chat")
    make_trace(team.project, "dear", total_cost=3, name="chat")
    make_trace(team.project, "other", total_cost=5, name="embed")
    old = make_trace(team.project, "old", total_cost=9, name="chat", ago=timedelta(days=3))
    make_observation(team.project, old, provided_model_name="gpt-4o")
    client.force_login(team.viewer)

    ids = [
        json.loads(line)["id"]
        for line in body(client.get(jsonl_url(team.project, "name=chat&sort=cost&order=asc"))).splitlines()
    ]
    recent = [
        json.loads(line)["id"]
        for line in body(client.get(jsonl_url(team.project, "name=chat&range=24h"))).splitlines()
    ]
    by_model = [
        json.loads(line)["id"]
        for line in body(client.get(jsonl_url(team.project, "model=gpt-4o"))).splitlines()
    ]

    assert ids == ["cheap", "dear", "old"]
    assert sorted(recent) == ["cheap", "dear"]
    assert by_model == ["old"]


def test_no_match_gives_the_header_only(client, team):
    client.force_login(team.viewer)

    assert body(client.get(csv_url(team.project, "name=nothing"))).splitlines() == [",".join(COLUMNS)]
    assert body(client.get(jsonl_url(team.project, "name=nothing"))) == ""


def test_rows_are_read_in_chunks_one_query_each(team):
    make_traces(team.project, 250)

    with CaptureQueriesContext(connection) as queries:
        chunks = iter_trace_chunks(team.project, state(), timezone.now(), chunk_size=100)
        first = next(chunks)
        after_first = len(queries)
        rest = list(chunks)

    assert len(first) == 100 and after_first == 1  # nothing beyond the first chunk was read yet
    assert [len(chunk) for chunk in rest] == [100, 50]
    assert len(queries) == 3
    assert all("LIMIT 101" in q["sql"] for q in queries.captured_queries)


def test_the_encoder_yields_a_block_per_chunk(team):
    make_traces(team.project, 250)

    blocks = list(csv_chunks(iter_trace_chunks(team.project, state(), timezone.now(), chunk_size=100)))

    assert len(blocks) == 4  # header, then three chunks
    assert [block.count("\n") for block in blocks] == [1, 100, 100, 50]


def test_the_asgi_stream_pulls_one_chunk_at_a_time(team):
    make_traces(team.project, 30)
    pulled: list[int] = []

    def counted():
        for chunk in iter_trace_chunks(team.project, state(), timezone.now(), chunk_size=10):
            pulled.append(len(chunk))
            yield chunk

    async def first_two_blocks():
        stream = as_async(csv_chunks(counted()))
        return [await anext(stream), await anext(stream)]

    # From a sync caller, as Django's ASGI handler does: the queries run on this thread's connection.
    header, first = async_to_sync(first_two_blocks)()

    assert header.startswith("id,timestamp")
    assert first.count("\n") == 10
    assert pulled == [10]  # the other chunks were not read


def test_outsider_gets_404(client, team):
    client.force_login(team.outsider)

    assert client.get(csv_url(team.project)).status_code == 404
    assert client.get(jsonl_url(team.project)).status_code == 404


def test_anonymous_is_sent_to_sign_in(client, team):
    response = client.get(csv_url(team.project))

    assert response.status_code == 302 and "/auth/" in response["Location"]


def test_export_is_get_only(client, team):
    client.force_login(team.owner)

    assert client.post(csv_url(team.project)).status_code == 405


def test_the_list_links_to_both_exports_with_its_filter(client, team):
    client.force_login(team.viewer)

    html = client.get(f"/project/{team.project.id}/traces?name=chat&level=ERROR").content.decode()

    assert f'href="/project/{team.project.id}/traces/actions/export.csv?name=chat&amp;level=ERROR"' in html
    assert f'href="/project/{team.project.id}/traces/actions/export.jsonl?name=chat&amp;level=ERROR"' in html


# --- Through a real ASGI server ------------------------------------------------------------


def test_a_live_uvicorn_server_streams_the_export(transactional_db, tmp_path, client):
    team = make_project_with_roles()
    make_traces(team.project, 2_500)
    client.force_login(team.viewer)
    cookies = {settings.SESSION_COOKIE_NAME: client.cookies[settings.SESSION_COOKIE_NAME].value}
    server = start_server(database_url_of_current_connection(), tmp_path / "server.log")
    try:
        with requests.get(
            f"{server.url}{csv_url(team.project)}", cookies=cookies, stream=True, timeout=30
        ) as response:
            assert response.status_code == 200
            assert "Content-Length" not in response.headers  # sent as it is produced
            lines = [line for line in response.iter_lines() if line]
        jsonl = requests.get(f"{server.url}{jsonl_url(team.project)}", cookies=cookies, timeout=30)
    finally:
        server.stop()

    assert len(lines) == 2_501
    assert lines[1].startswith(b"t-0000,")
    assert len(jsonl.text.splitlines()) == 2_500
    assert "consume synchronous iterators" not in (tmp_path / "server.log").read_text()
