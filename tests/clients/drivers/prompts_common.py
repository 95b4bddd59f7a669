"""Prompt management steps shared by every Python SDK version (runs under the client's own Python).

create_prompt (text and chat), get_prompt by label and by version, compile, update_prompt, and a fallback for
a prompt the server does not have. Returns the prompt client to link a generation to, and what it saw.
"""

from __future__ import annotations

import time
from typing import Any

TEXT_V1 = "As a {{level}} critic, do you like {{movie}}?"
TEXT_V2 = "As a {{level}} critic, rate {{movie}} out of 10."
CHAT = [
    {"role": "system", "content": "You are a {{level}} critic."},
    {"role": "user", "content": "Review {{movie}}."},
]
VARIABLES = {"level": "harsh", "movie": "Dune 2"}


def run(langfuse: Any, names: dict[str, str], *, placeholders: bool) -> tuple[Any, dict[str, Any]]:
    text, chat, missing = names["text"], names["chat"], names["missing"]
    seen: dict[str, Any] = {}
    created = langfuse.create_prompt(
        name=text,
        prompt=TEXT_V1,
        labels=["production"],
        tags=["sdk-test"],
        config={"model": "gpt-4o-mini", "temperature": 0.2},
        commit_message="first take",
    )
    seen["created_version"] = created.version
    second = langfuse.create_prompt(name=text, prompt=TEXT_V2, labels=["staging"])
    seen["second_version"] = second.version
    messages = list(CHAT)
    if placeholders:
        messages.insert(1, {"type": "placeholder", "name": "history"})
    langfuse.create_prompt(name=chat, type="chat", prompt=messages, labels=["production"])

    by_label = langfuse.get_prompt(text, cache_ttl_seconds=0)
    seen["production"] = {"version": by_label.version, "compiled": by_label.compile(**VARIABLES)}
    seen["production_config"] = by_label.config
    by_version = langfuse.get_prompt(text, version=2, cache_ttl_seconds=0)
    seen["version_2"] = {"version": by_version.version, "compiled": by_version.compile(**VARIABLES)}
    staging = langfuse.get_prompt(text, label="staging", cache_ttl_seconds=0)
    seen["staging_version"] = staging.version

    chat_prompt = langfuse.get_prompt(chat, type="chat", cache_ttl_seconds=0)
    extra = {"history": [{"role": "user", "content": "earlier"}]} if placeholders else {}
    seen["chat"] = {"version": chat_prompt.version, "compiled": chat_prompt.compile(**VARIABLES, **extra)}

    started = time.monotonic()
    fallback = langfuse.get_prompt(missing, fallback="Fallback for {{movie}}", cache_ttl_seconds=0)
    seen["fallback"] = {
        "seconds": time.monotonic() - started,
        "is_fallback": getattr(fallback, "is_fallback", None),
        "compiled": fallback.compile(movie="Dune 2"),
    }

    langfuse.update_prompt(name=text, version=2, new_labels=["production"])
    promoted = langfuse.get_prompt(text, cache_ttl_seconds=0)
    seen["promoted_version"] = promoted.version
    return promoted, seen
