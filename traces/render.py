"""Input, output and metadata JSON turned into structures a template can show to people.

`present(value, source)` answers one of three displays, each with a `kind` the template
switches on:
- "chat": a conversation (OpenAI / Anthropic style messages) with roles, tool calls and
  tool results;
- "text": a plain string;
- "json": any other JSON as a flat list of rows that open and close collapsible containers
  (flat, so a deeply nested value never recurses in the template engine).

Strings are split around Langfuse media references (`@@@langfuseMedia:type=...|id=...|source=...@@@`)
so images, audio and files show as such. Long strings and long lists are cut short; their
`more_url` loads the whole value through htmx ("show all").
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

from django.urls import reverse
from django.utils.http import urlencode

MAX_STRING = 2000  # characters of a string shown before "show all"
MAX_ITEMS = 100  # items of one array or object shown before "show all"
MAX_ROWS = 1500  # rows of one JSON display; containers past this budget show collapsed to a link
OPEN_DEPTH = 2  # containers shallower than this start open
MAX_DEPTH = 40  # deeper containers show as stubs that load on demand (no deep recursion)

MEDIA_REFERENCE = re.compile(r"@@@langfuseMedia:(?P<fields>[^@]*?)@@@")
SAFE_IMAGE_URL = re.compile(r"^(https?://|data:image/(png|jpe?g|gif|webp|avif|bmp);base64,)", re.IGNORECASE)
MESSAGE_KEYS = {"role", "content", "tool_calls", "name", "tool_call_id", "function_call"}
TEXT_PART_TYPES = {"text", "input_text", "output_text"}

Path = list  # keys and indexes from the field's root value down to a nested value


@dataclass(frozen=True)
class Source:
    """Where a displayed value lives, to build "show all" and media URLs."""

    project_id: str
    trace_id: str
    observation_id: str | None
    field: str  # input, output or metadata

    def more_url(self, path: Path) -> str:
        query = {"trace": self.trace_id, "field": self.field, "path": json.dumps(path)}
        if self.observation_id:
            query["observation"] = self.observation_id
        return f"{reverse('traces:value', args=[self.project_id])}?{urlencode(query)}"

    def media_url(self, media_id: str) -> str:
        return reverse("traces:media", args=[self.project_id, media_id])


# --- Text and media ---------------------------------------------------------------------


@dataclass(frozen=True)
class MediaRef:
    media_id: str
    content_type: str
    source: str
    url: str

    @property
    def kind(self) -> str:
        major = self.content_type.split("/", 1)[0]
        return major if major in ("image", "audio", "video") else "file"


@dataclass(frozen=True)
class Segment:
    text: str = ""
    media: MediaRef | None = None


@dataclass
class Text:
    segments: list[Segment]
    length: int
    truncated: bool = False
    more_url: str | None = None
    kind: str = "text"


def parse_media_reference(fields: str, source: Source | None) -> MediaRef | None:
    parts = dict(part.split("=", 1) for part in fields.split("|") if "=" in part)
    media_id = parts.get("id")
    if not media_id:
        return None
    url = source.media_url(media_id) if source else ""
    return MediaRef(media_id, parts.get("type", "application/octet-stream"), parts.get("source", ""), url)


def split_media(text: str, source: Source | None) -> list[Segment]:
    """Plain text with media references cut out as media segments."""
    segments, position = [], 0
    for match in MEDIA_REFERENCE.finditer(text):
        media = parse_media_reference(match.group("fields"), source)
        if media is None:
            continue
        if match.start() > position:
            segments.append(Segment(text=text[position : match.start()]))
        segments.append(Segment(media=media))
        position = match.end()
    if position < len(text) or not segments:
        segments.append(Segment(text=text[position:]))
    return segments


def make_text(value: str, path: Path, source: Source | None, full: bool) -> Text:
    if full or len(value) <= MAX_STRING:
        return Text(split_media(value, source), len(value))
    cut_at = MAX_STRING
    for match in MEDIA_REFERENCE.finditer(value):
        if match.start() >= MAX_STRING:
            break
        if match.end() > MAX_STRING:
            cut_at = match.start()  # never cut a media reference in half
    cut = value[:cut_at]
    more_url = source.more_url(path) if source else None
    return Text(split_media(cut, source), len(value), truncated=True, more_url=more_url)


# --- JSON -------------------------------------------------------------------------------


@dataclass
class JsonRow:
    """One line of a JSON display: a container that opens, or a leaf.

    `closes` counts the containers that end after this row; the template closes that many.
    """

    key: str | None
    depth: int
    opens: bool = False
    container: str = ""  # "object" or "array" when opens
    size: int = 0
    start_open: bool = False
    scalar: str = ""  # "string", "number", "boolean", "null" for leaves
    text: Text | None = None  # strings
    literal: str = ""  # numbers, booleans, null
    omitted: int = 0  # items of a container not shown
    more_url: str | None = None
    closes: list[None] = field(default_factory=list)


@dataclass
class JsonTree:
    rows: list[JsonRow]
    kind: str = "json"


class _JsonBuilder:
    def __init__(self, source: Source | None, full: bool) -> None:
        self.source = source
        self.full = full
        self.rows: list[JsonRow] = []

    def more_url(self, path: Path) -> str | None:
        return self.source.more_url(path) if self.source else None

    def add(self, key: str | None, value: Any, path: Path, depth: int) -> None:
        if isinstance(value, dict | list):
            self.add_container(key, value, path, depth)
        elif isinstance(value, str):
            text = make_text(value, path, self.source, self.full)
            self.rows.append(JsonRow(key, depth, scalar="string", text=text))
        elif isinstance(value, bool):
            self.rows.append(JsonRow(key, depth, scalar="boolean", literal="true" if value else "false"))
        elif value is None:
            self.rows.append(JsonRow(key, depth, scalar="null", literal="null"))
        else:
            self.rows.append(JsonRow(key, depth, scalar="number", literal=json.dumps(value)))

    def add_container(self, key: str | None, value: dict | list, path: Path, depth: int) -> None:
        container = "object" if isinstance(value, dict) else "array"
        items = list(value.items()) if isinstance(value, dict) else list(enumerate(value))
        over_budget = not self.full and len(self.rows) >= MAX_ROWS
        if items and (over_budget or depth >= MAX_DEPTH):
            # A collapsed stub that loads the container on demand (and keeps deep values flat).
            self.rows.append(
                JsonRow(
                    key,
                    depth,
                    container=container,
                    size=len(items),
                    omitted=len(items),
                    more_url=self.more_url(path),
                )
            )
            return
        row = JsonRow(
            key, depth, opens=True, container=container, size=len(items), start_open=depth < OPEN_DEPTH
        )
        self.rows.append(row)
        shown = items if self.full else items[:MAX_ITEMS]
        for item_key, item in shown:
            self.add(str(item_key), item, [*path, item_key], depth + 1)
        if len(shown) < len(items):
            omitted = len(items) - len(shown)
            self.rows.append(JsonRow(None, depth + 1, omitted=omitted, more_url=self.more_url(path)))
        self.rows[-1].closes.append(None)


def json_tree(value: Any, source: Source | None, *, path: Path | None = None, full: bool = False) -> JsonTree:
    builder = _JsonBuilder(source, full)
    key = str(path[-1]) if path else None
    builder.add(key, value, list(path or []), 0)
    return JsonTree(builder.rows)


# --- Chat -------------------------------------------------------------------------------


@dataclass
class ToolCall:
    id: str
    name: str
    arguments: Text | JsonTree | None


@dataclass
class Part:
    """One piece of a message's content."""

    kind: str  # "text", "image", "tool_call", "tool_result", "json"
    text: Text | None = None
    url: str = ""
    call: ToolCall | None = None
    tree: JsonTree | None = None
    label: str = ""
    body: Text | JsonTree | None = None


@dataclass
class Message:
    role: str
    parts: list[Part] = field(default_factory=list)
    tool_calls: list[ToolCall] = field(default_factory=list)
    name: str = ""
    tool_call_id: str = ""
    tool_name: str = ""
    extra: JsonTree | None = None

    @property
    def role_class(self) -> str:
        role = self.role.lower()
        return role if role in ("system", "user", "assistant", "tool", "developer", "function") else "other"


@dataclass
class Conversation:
    messages: list[Message]
    extra: JsonTree | None = None
    kind: str = "chat"


def _is_message(value: Any) -> bool:
    return isinstance(value, dict) and isinstance(value.get("role"), str)


def find_messages(value: Any) -> tuple[list[tuple[dict, Path]], dict] | None:
    """([(message, its path)], the other keys) when the value reads as chat, else None."""
    if isinstance(value, list) and value and all(_is_message(m) for m in value):
        return [(m, [i]) for i, m in enumerate(value)], {}
    if not isinstance(value, dict):
        return None
    messages = value.get("messages")
    if isinstance(messages, list) and messages and all(_is_message(m) for m in messages):
        rest = {k: v for k, v in value.items() if k != "messages"}
        return [(m, ["messages", i]) for i, m in enumerate(messages)], rest
    if _is_message(value) and ("content" in value or "tool_calls" in value):
        return [(value, [])], {}
    choices = value.get("choices")
    if (
        isinstance(choices, list)
        and choices
        and all(isinstance(c, dict) and _is_message(c.get("message")) for c in choices)
    ):
        rest = {k: v for k, v in value.items() if k != "choices"}
        return [(c["message"], ["choices", i, "message"]) for i, c in enumerate(choices)], rest
    return None


class _ChatBuilder:
    def __init__(self, source: Source | None, full: bool) -> None:
        self.source = source
        self.full = full
        self.tool_names: dict[str, str] = {}

    def structured(self, value: Any, path: Path) -> Text | JsonTree:
        """A tool's arguments or result: JSON (also JSON inside a string) as a tree, else text."""
        if isinstance(value, str):
            try:
                parsed = json.loads(value)
            except ValueError:
                return make_text(value, path, self.source, self.full)
            if isinstance(parsed, dict | list):
                return (
                    json_tree(parsed, None, full=True)
                    if len(value) <= MAX_STRING * 4
                    else self.text(value, path)
                )
            return make_text(value, path, self.source, self.full)
        return json_tree(value, self.source, path=path, full=self.full)

    def text(self, value: str, path: Path) -> Text:
        return make_text(value, path, self.source, self.full)

    def tool_call(self, call: dict, path: Path) -> ToolCall:
        function = call.get("function") if isinstance(call.get("function"), dict) else call
        name = str(function.get("name") or "")
        call_id = str(call.get("id") or "")
        if call_id:
            self.tool_names[call_id] = name
        arguments = function.get("arguments", function.get("input"))
        key = "arguments" if "arguments" in function else "input"
        inner = [*path, "function", key] if function is not call else [*path, key]
        return ToolCall(call_id, name, None if arguments is None else self.structured(arguments, inner))

    def part(self, item: Any, path: Path) -> Part:
        if isinstance(item, str):
            return Part("text", text=self.text(item, path))
        if not isinstance(item, dict):
            return Part("json", tree=json_tree(item, self.source, path=path, full=self.full))
        kind = item.get("type")
        if kind in TEXT_PART_TYPES and isinstance(item.get("text"), str):
            return Part("text", text=self.text(item["text"], [*path, "text"]))
        if kind == "thinking" and isinstance(item.get("thinking"), str):
            return Part("text", text=self.text(item["thinking"], [*path, "thinking"]), label="thinking")
        if kind in ("image_url", "input_image", "image"):
            image = item.get("image_url", item.get("url"))
            url = image.get("url") if isinstance(image, dict) else image
            if isinstance(url, str) and MEDIA_REFERENCE.search(url):
                return Part("text", text=self.text(url, path))
            if isinstance(url, str) and SAFE_IMAGE_URL.match(url):
                return Part("image", url=url)
        if kind == "tool_use":
            return Part("tool_call", call=self.tool_call(item, path))
        if kind == "tool_result":
            call_id = str(item.get("tool_use_id") or "")
            label = self.tool_names.get(call_id, "") or call_id
            body = self.structured(item.get("content"), [*path, "content"])
            return Part("tool_result", label=label, body=body)
        return Part("json", tree=json_tree(item, self.source, path=path, full=self.full))

    def message(self, raw: dict, path: Path) -> Message:
        message = Message(role=str(raw.get("role")), name=str(raw.get("name") or ""))
        content = raw.get("content")
        if isinstance(content, list):
            message.parts = [self.part(item, [*path, "content", i]) for i, item in enumerate(content)]
        elif message.role == "tool" and content is not None:
            message.parts = [Part("tool_result", body=self.structured(content, [*path, "content"]))]
        elif isinstance(content, str):
            message.parts = [Part("text", text=self.text(content, [*path, "content"]))]
        elif content is not None:
            message.parts = [self.part(content, [*path, "content"])]
        for i, call in enumerate(raw.get("tool_calls") or []):
            if isinstance(call, dict):
                message.tool_calls.append(self.tool_call(call, [*path, "tool_calls", i]))
        if isinstance(raw.get("function_call"), dict):
            message.tool_calls.append(self.tool_call(raw["function_call"], [*path, "function_call"]))
        message.tool_call_id = str(raw.get("tool_call_id") or "")
        message.tool_name = self.tool_names.get(message.tool_call_id, "")
        extra = {k: v for k, v in raw.items() if k not in MESSAGE_KEYS and v not in (None, [], {}, "")}
        if extra:
            message.extra = json_tree(extra, None, full=self.full)
        return message


def conversation(value: Any, source: Source | None, *, full: bool = False) -> Conversation | None:
    found = find_messages(value)
    if found is None:
        return None
    messages, rest = found
    builder = _ChatBuilder(source, full)
    shown = [builder.message(raw, path) for raw, path in messages]
    extra = {k: v for k, v in rest.items() if v not in (None, [], {}, "")}
    return Conversation(shown, json_tree(extra, source, full=full) if extra else None)


# --- Entry point ------------------------------------------------------------------------

Display = Conversation | Text | JsonTree


def present(value: Any, source: Source | None = None, *, full: bool = False) -> Display | None:
    """The display of a whole field (input, output or metadata); None when there is nothing."""
    if value is None or value in ({}, [], ""):
        return None
    if isinstance(value, str):
        return make_text(value, [], source, full)
    chat = conversation(value, source, full=full)
    if chat is not None:
        return chat
    return json_tree(value, source, full=full)


def value_at(value: Any, path: Path) -> Any:
    """The nested value a "show all" link points at; KeyError when the path leads nowhere."""
    for step in path:
        in_object = isinstance(value, dict) and isinstance(step, str) and step in value
        in_array = isinstance(value, list) and type(step) is int and 0 <= step < len(value)
        if not (in_object or in_array):
            raise KeyError(step)
        value = value[step]
    return value


def present_at(value: Any, path: Path, source: Source) -> Text | JsonTree:
    """The whole of one nested value, for "show all"."""
    nested = value_at(value, path)
    if isinstance(nested, str):
        return make_text(nested, path, source, full=True)
    return json_tree(nested, source, path=path, full=True)


def stringify(value: Any) -> str:
    """A scalar as people write it; containers as compact JSON (model parameters, metadata cells)."""
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False)
