"""Differences between two prompt versions: lines of text, chat messages one by one, and config."""

from __future__ import annotations

import difflib
import json
from dataclasses import dataclass, field
from typing import Any

from prompts.models import Prompt, PromptType


@dataclass(frozen=True)
class DiffLine:
    kind: str  # "same", "add" or "remove"
    text: str

    @property
    def sign(self) -> str:
        return {"add": "+", "remove": "-"}.get(self.kind, " ")


@dataclass
class MessageDiff:
    position: int
    old_role: str | None
    new_role: str | None
    lines: list[DiffLine] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return self.old_role != self.new_role or any(line.kind != "same" for line in self.lines)


@dataclass
class VersionDiff:
    old: Prompt
    new: Prompt
    text: list[DiffLine] = field(default_factory=list)
    messages: list[MessageDiff] = field(default_factory=list)
    config: list[DiffLine] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return any(line.kind != "same" for line in self.text + self.config) or any(
            message.changed for message in self.messages
        )


def line_diff(old: str, new: str) -> list[DiffLine]:
    a, b = old.splitlines(), new.splitlines()
    lines: list[DiffLine] = []
    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(a=a, b=b, autojunk=False).get_opcodes():
        if tag == "equal":
            lines.extend(DiffLine("same", text) for text in a[i1:i2])
            continue
        lines.extend(DiffLine("remove", text) for text in a[i1:i2])
        lines.extend(DiffLine("add", text) for text in b[j1:j2])
    return lines


def _message_parts(message: Any) -> tuple[str | None, str]:
    if not isinstance(message, dict):
        return None, json.dumps(message)
    if message.get("type") == "placeholder":
        return "placeholder", str(message.get("name", ""))
    return message.get("role"), str(message.get("content", ""))


def message_diff(old: list, new: list) -> list[MessageDiff]:
    diffs = []
    for position in range(max(len(old), len(new))):
        old_role, old_text = _message_parts(old[position]) if position < len(old) else (None, "")
        new_role, new_text = _message_parts(new[position]) if position < len(new) else (None, "")
        diffs.append(MessageDiff(position + 1, old_role, new_role, line_diff(old_text, new_text)))
    return diffs


def config_text(config: Any) -> str:
    return json.dumps(config if config is not None else {}, indent=2, sort_keys=True, ensure_ascii=False)


def diff_versions(old: Prompt, new: Prompt) -> VersionDiff:
    result = VersionDiff(old=old, new=new, config=line_diff(config_text(old.config), config_text(new.config)))
    if new.type == PromptType.CHAT and isinstance(old.prompt, list) and isinstance(new.prompt, list):
        result.messages = message_diff(old.prompt, new.prompt)
    else:
        result.text = line_diff(str(old.prompt), str(new.prompt))
    return result
