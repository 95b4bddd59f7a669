"""Process-wide shutdown flag, set when the server receives SIGTERM, read by /ready."""

from __future__ import annotations

import threading

_stopping = threading.Event()


def begin_shutdown() -> None:
    _stopping.set()


def shutting_down() -> bool:
    return _stopping.is_set()
