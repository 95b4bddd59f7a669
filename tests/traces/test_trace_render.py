"""Input/output JSON turned into displays: chat, text with media, collapsible JSON."""

from __future__ import annotations

import json
from urllib.parse import parse_qs, urlparse

import pytest

from traces.render import (
    MAX_DEPTH,
    MAX_ITEMS,
    MAX_STRING,
    Source,
    make_text,
    present,
    present_at,
    split_media,
    value_at,
)
from traces.trace_detail import build_tree, format_cost, format_duration, ticks

SOURCE = Source("proj", "trace-1", "obs-1", "input")
IMAGE = "@@@langfuseMedia:type=image/jpeg|id=MEDIA123|source=bytes@@@"


def test_plain_string_is_text():
    display = present("hello", SOURCE)
    assert display.kind == "text"
    assert [s.text for s in display.segments] == ["hello"]


def test_empty_values_show_nothing():
    assert present(None) is None and present({}) is None and present("") is None


def test_media_references_split_out_of_text_with_their_download_url():
    segments = split_media(f"before {IMAGE} after", SOURCE)
    assert [s.text for s in segments] == ["before ", "", " after"]
    media = segments[1].media
    assert (media.media_id, media.content_type, media.kind, media.source) == (
        "MEDIA123",
        "image/jpeg",
        "image",
        "bytes",
    )
    assert media.url == "/project/proj/media/MEDIA123"


def test_a_reference_without_id_stays_text():
    assert [s.text for s in split_media("@@@langfuseMedia:type=image/png@@@", SOURCE)] == [
        "@@@langfuseMedia:type=image/png@@@"
    ]


def test_long_text_is_cut_with_a_url_for_the_rest():
    text = make_text("a" * (MAX_STRING + 10), ["messages", 0, "content"], SOURCE, full=False)
    assert text.truncated and text.length == MAX_STRING + 10
    assert len(text.segments[0].text) == MAX_STRING
    query = parse_qs(urlparse(text.more_url).query)
    assert urlparse(text.more_url).path == "/project/proj/trace-value"
    assert query == {
        "trace": ["trace-1"],
        "observation": ["obs-1"],
        "field": ["input"],
        "path": [json.dumps(["messages", 0, "content"])],
    }


def test_cutting_never_splits_a_media_reference():
    value = "x" * (MAX_STRING - 10) + IMAGE
    text = make_text(value, [], SOURCE, full=False)
    assert text.truncated
    assert all(s.media is None for s in text.segments)
    assert "@@@" not in "".join(s.text for s in text.segments)


def test_openai_chat_with_tool_calls_and_results():
    chat = present(
        {
            "messages": [
                {"role": "user", "content": "Weather?"},
                {
                    "role": "assistant",
                    "content": None,
                    "tool_calls": [
                        {"id": "c1", "type": "function", "function": {"name": "wx", "arguments": "{}"}}
                    ],
                },
                {"role": "tool", "tool_call_id": "c1", "content": "sunny"},
            ],
            "tools": [{"type": "function", "function": {"name": "wx"}}],
        },
        SOURCE,
    )
    assert chat.kind == "chat"
    assert [m.role for m in chat.messages] == ["user", "assistant", "tool"]
    assert chat.messages[1].tool_calls[0].name == "wx"
    assert chat.messages[2].tool_name == "wx"
    assert chat.messages[2].parts[0].kind == "tool_result"
    assert chat.extra is not None  # the tools list is shown beside the conversation
    assert chat.messages[0].parts[0].text.segments[0].text == "Weather?"


def test_content_parts_with_images_and_media():
    chat = present(
        [
            {
                "role": "user",
                "content": [
                    {"type": "text", "text": "Look"},
                    {"type": "image_url", "image_url": {"url": IMAGE}},
                    {"type": "image_url", "image_url": {"url": "https://example.com/cat.png"}},
                    {"type": "image_url", "image_url": {"url": "javascript:alert(1)"}},
                ],
            }
        ],
        SOURCE,
    )
    parts = chat.messages[0].parts
    assert [p.kind for p in parts] == ["text", "text", "image", "json"]
    assert parts[1].text.segments[0].media.media_id == "MEDIA123"
    assert parts[2].url == "https://example.com/cat.png"


def test_anthropic_tool_use_and_tool_result_blocks():
    chat = present(
        [
            {
                "role": "assistant",
                "content": [{"type": "tool_use", "id": "tu1", "name": "search", "input": {"q": "x"}}],
            },
            {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "tu1", "content": "found"}]},
        ],
        SOURCE,
    )
    call = chat.messages[0].parts[0].call
    assert (call.id, call.name, call.arguments.kind) == ("tu1", "search", "json")
    result = chat.messages[1].parts[0]
    assert (result.kind, result.label) == ("tool_result", "search")


def test_single_message_and_choices_outputs_read_as_chat():
    assert present({"role": "assistant", "content": "hi"}).kind == "chat"
    choices = present({"id": "x", "choices": [{"message": {"role": "assistant", "content": "hi"}}]})
    assert choices.kind == "chat" and choices.messages[0].role == "assistant"


def test_other_json_is_a_flat_list_of_rows_that_open_and_close():
    tree = present({"a": {"b": [1, True, None]}, "c": "d"}, SOURCE)
    assert tree.kind == "json"
    shape = [
        (r.key, r.opens, r.literal or (r.text.segments[0].text if r.text else ""), len(r.closes))
        for r in tree.rows
    ]
    assert shape == [
        (None, True, "", 0),
        ("a", True, "", 0),
        ("b", True, "", 0),
        ("0", False, "1", 0),
        ("1", False, "true", 0),
        ("2", False, "null", 2),  # closes b and a
        ("c", False, "d", 1),  # closes the root
    ]
    assert sum(len(r.closes) for r in tree.rows) == sum(r.opens for r in tree.rows)


def test_long_arrays_show_the_first_items_then_a_show_all_row():
    tree = present(list(range(MAX_ITEMS + 5)), SOURCE)
    more = tree.rows[-1]
    assert more.omitted == 5 and more.more_url
    assert len(tree.rows) == MAX_ITEMS + 2
    full = present_at(list(range(MAX_ITEMS + 5)), [], SOURCE)
    assert len(full.rows) == MAX_ITEMS + 6


def test_very_deep_json_becomes_stubs_instead_of_recursing():
    value: dict = {}
    node = value
    for _ in range(3000):
        node["x"] = {}
        node = node["x"]
    node["x"] = "bottom"
    tree = present(value, SOURCE)
    assert len(tree.rows) == MAX_DEPTH + 1
    assert tree.rows[-1].omitted == 1 and tree.rows[-1].more_url


def test_value_at_walks_keys_and_indexes():
    value = {"messages": [{"content": "hi"}], "0": "zero"}
    assert value_at(value, ["messages", 0, "content"]) == "hi"
    assert value_at(value, ["0"]) == "zero"
    for path in (["messages", "0"], ["nope"], ["messages", 5], ["messages", True]):
        with pytest.raises(KeyError):
            value_at(value, path)


# --- Tree and formatting ------------------------------------------------------------------


class FakeObservation:
    def __init__(self, id, parent=None, start=0):
        from tests.traces.api.factories import at

        self.id, self.parent_observation_id, self.start_time = id, parent, at(start)
        self.end_time = at(start + 1)


def test_tree_orders_children_by_start_and_keeps_orphans_and_cycles():
    observations = [
        FakeObservation("b", "root", 2),
        FakeObservation("a", "root", 1),
        FakeObservation("root", None, 0),
        FakeObservation("orphan", "missing", 5),
        FakeObservation("c1", "c2", 7),
        FakeObservation("c2", "c1", 6),
        FakeObservation("a1", "a", 1.5),
    ]
    nodes = build_tree(observations)
    assert [(n.id, n.depth) for n in nodes] == [
        ("root", 0),
        ("a", 1),
        ("a1", 2),
        ("b", 1),
        ("orphan", 0),
        ("c2", 0),
        ("c1", 1),
    ]
    assert sum(len(n.closes) for n in nodes) == sum(n.has_children for n in nodes)


def test_a_long_chain_builds_without_recursion():
    observations = [FakeObservation(f"n{i}", f"n{i - 1}" if i else None, i) for i in range(5000)]
    nodes = build_tree(observations)
    assert nodes[-1].depth == 4999
    assert len(nodes[-1].closes) == 4999


@pytest.mark.parametrize(
    ("seconds", "text"),
    [(None, ""), (0.0004, "0ms"), (0.25, "250ms"), (1.5, "1.50s"), (75, "1m 15s"), (3700, "1h 1m")],
)
def test_durations_read_naturally(seconds, text):
    assert format_duration(seconds) == text


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (None, ""),
        (0, "$0"),
        (0.000315, "$0.000315"),
        (1.23456, "$1.2346"),
        (1234.5, "$1,234.5"),
        (1e-9, "<$0.000001"),
    ],
)
def test_costs_show_small_amounts(value, text):
    assert format_cost(value) == text


def test_axis_ticks_use_round_steps():
    assert [t.label for t in ticks(4.0)] == ["0ms", "1.00s", "2.00s", "3.00s", "4.00s"]
    assert [t.label for t in ticks(0.9)] == ["0ms", "200ms", "400ms", "600ms", "800ms"]
