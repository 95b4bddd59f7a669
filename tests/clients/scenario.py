"""The realistic trace every client driver sends, as plain data shared by the test and its driver.

The test builds one scenario per run (unique names and ids), hands it to the driver as JSON in the
CLIENT_SCENARIO environment variable, and compares what the server stored with the same dict.
"""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Any

# What the generation's usage costs with the default gpt-4o-mini prices (USD per token):
# input 0.15e-6, cache_read_input_tokens 0.075e-6, output 0.6e-6. The client sends an inclusive
# input (12 with 2 of them cached, total 15); the server keeps that raw and prices the exclusive form.
SENT_USAGE = {"input": 12, "output": 3, "cache_read_input_tokens": 2, "total": 15}
EXCLUSIVE_USAGE = {"input": 10, "output": 3, "cache_read_input_tokens": 2, "total": 15}
EXPECTED_COST = Decimal("10") * Decimal("0.00000015") + 2 * Decimal("0.000000075") + 3 * Decimal("0.0000006")


def make_scenario(client: str) -> dict[str, Any]:
    # Starts with a letter: an all-digit run id in OTLP metadata reads back as a number, as in Langfuse,
    # whose attribute values are parsed as JSON where they parse.
    run = "r" + uuid.uuid4().hex[:11]
    return {
        "client": client,
        "run_id": run,
        "trace_name": f"{client}-trace-{run}",
        "user_id": f"user-{run}",
        "session_id": f"session-{run}",
        "tags": ["clients", client],
        "trace_metadata": {"tenant": "acme", "run": run},
        "release": "rel-1.2.3",
        "version": "app-v7",
        "environment": "staging",
        "root": {
            "name": "pipeline",
            "input": {"question": "What is 2+2?"},
            "output": {"answer": "4"},
            "metadata": {"step": "root"},
        },
        "span": {
            "name": "answer-step",
            "input": "plain text in",
            "output": ["doc-1", "doc-2"],
            "metadata": {"k": 3},
            "level": "WARNING",
            "status_message": "slow index",
        },
        "generation": {
            "name": "llm-call",
            "model": "gpt-4o-mini",
            "model_parameters": {"temperature": 0.2, "max_tokens": 256},
            "input": [
                {"role": "system", "content": "Be brief."},
                {"role": "user", "content": "What is 2+2?"},
            ],
            "output": {"role": "assistant", "content": "It is 4."},
            "usage_details": dict(SENT_USAGE),
            "metadata": {"gen": "meta"},
            "prompt": {"name": f"clients-prompt-{run}", "version": 3, "prompt": "Answer: {{question}}"},
        },
        "event": {
            "name": "guardrail-check",
            "input": {"text": "4"},
            "output": "blocked",
            "metadata": {"rule": "no-digits"},
            "level": "ERROR",
            "status_message": "guardrail tripped",
        },
        "scores": {
            "numeric": {"name": "quality", "value": 0.9, "comment": "great"},
            "categorical": {"name": "category", "value": "good"},
            "boolean": {"name": "correct", "value": 1},
            "session": {"name": "session-quality", "value": 0.7},
        },
    }
