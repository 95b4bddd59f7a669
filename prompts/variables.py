"""Mustache variables (`{{name}}`) in prompt content."""

from __future__ import annotations

import re
from typing import Any

VARIABLE_RE = re.compile(r"\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}")


def variables_in(content: Any) -> list[str]:
    """The distinct variable names, in order of first appearance, of a text or chat prompt."""
    texts = (
        [content]
        if isinstance(content, str)
        else [
            m.get("content", "")
            for m in content or []
            if isinstance(m, dict) and isinstance(m.get("content"), str)
        ]
    )
    found: dict[str, None] = {}
    for text in texts:
        for match in VARIABLE_RE.finditer(text):
            found.setdefault(match.group(1))
    return list(found)


def placeholders_in(content: Any) -> list[str]:
    if not isinstance(content, list):
        return []
    return [
        m["name"] for m in content if isinstance(m, dict) and m.get("type") == "placeholder" and m.get("name")
    ]


def fill_variables(text: str, values: dict[str, str]) -> str:
    """`{{name}}` replaced by its value; variables without a value stay as written (as the SDKs' compile)."""
    return VARIABLE_RE.sub(lambda m: values.get(m.group(1), m.group(0)), text)


def compile_prompt(content: Any, values: dict[str, str], placeholders: dict[str, list] | None = None) -> Any:
    """A text prompt's text, or a chat prompt's messages, with variables filled in and each placeholder
    replaced by its messages (a placeholder without messages is dropped)."""
    if isinstance(content, str):
        return fill_variables(content, values)
    compiled: list[Any] = []
    for message in content or []:
        if isinstance(message, dict) and message.get("type") == "placeholder":
            compiled.extend((placeholders or {}).get(message.get("name", ""), []))
        elif isinstance(message, dict) and isinstance(message.get("content"), str):
            compiled.append({**message, "content": fill_variables(message["content"], values)})
        else:
            compiled.append(message)
    return compiled
