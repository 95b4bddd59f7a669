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
