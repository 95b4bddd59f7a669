"""Identifiers for rows this server creates (organisations, projects, keys, prompts...).

Ingested traces, observations and scores keep the ids their clients chose.
"""

from __future__ import annotations

import secrets
import string
import time

_ALPHABET = string.ascii_lowercase + string.digits


def new_id() -> str:
    """A 25-character, time-prefixed, lowercase id in the style of Langfuse's cuids."""
    millis = int(time.time() * 1000)
    stamp = ""
    while millis:
        millis, digit = divmod(millis, 36)
        stamp = _ALPHABET[digit] + stamp
    return "c" + stamp.rjust(8, "0") + "".join(secrets.choice(_ALPHABET) for _ in range(16))
