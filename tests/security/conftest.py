from __future__ import annotations

import pytest

from langfuse_ui import throttle


@pytest.fixture(autouse=True)
def _no_remembered_blocks():
    """Blocks live in each process's memory: no test inherits another's, nor leaves one behind."""
    throttle.forget_blocks()
    yield
    throttle.forget_blocks()
