"""A session's traces read as one conversation: each trace's input, then its output.

Inputs and outputs are whatever the SDK sent: a string, a list of chat messages, a dict with
"messages", one message, or any JSON. Chat messages become (role, text) pairs; anything else
is shown as pretty-printed JSON.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Message:
    role: str
    text: str
    is_json: bool = False


@dataclass
class Turn:
    trace: Any
    said: list[Message] = field(default_factory=list)
    earlier: list[Message] = field(default_factory=list)  # history the input repeated
    answer: list[Message] = field(default_factory=list)


def pretty(value: Any) -> str:
    return json.dumps(value, indent=2, ensure_ascii=False, sort_keys=False, default=str)


def content_text(content: Any) -> tuple[str, bool]:
    """The readable text of a message's content, and whether it is JSON."""
    if content is None:
        return "", False
    if isinstance(content, str):
        return content, False
    if isinstance(content, list):
        parts = []
        for part in content:
            if isinstance(part, str):
                parts.append(part)
            elif isinstance(part, dict) and isinstance(part.get("text"), str):
                parts.append(part["text"])
            elif isinstance(part, dict) and part.get("type"):
                parts.append(f"[{part['type']}]")
            else:
                parts.append(pretty(part))
        return "\n".join(parts), False
    return pretty(content), True


def is_message(value: Any) -> bool:
    return isinstance(value, dict) and isinstance(value.get("role"), str)


def message(value: dict) -> Message:
    text, is_json = content_text(value.get("content"))
    if not text and value.get("tool_calls"):
        text, is_json = pretty(value["tool_calls"]), True
    return Message(role=value["role"], text=text, is_json=is_json)


def messages_of(value: Any) -> list[Message]:
    if value is None:
        return []
    if isinstance(value, str):
        return [Message(role="", text=value)]
    if isinstance(value, list) and value and all(is_message(item) for item in value):
        return [message(item) for item in value]
    if isinstance(value, dict):
        if isinstance(value.get("messages"), list) and all(is_message(m) for m in value["messages"]):
            return [message(item) for item in value["messages"]]
        if is_message(value):
            return [message(value)]
    return [Message(role="", text=pretty(value), is_json=True)]


def turn(trace) -> Turn:
    said = messages_of(trace.input)
    return Turn(trace=trace, said=said[-1:], earlier=said[:-1], answer=messages_of(trace.output))
