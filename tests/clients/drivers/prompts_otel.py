"""Python SDK 3.x, 4.x and 5.x prompt management and a generation linked to the prompt (OTLP).

Usage: python prompts_otel.py  (scenario and server from the environment; see driver_io.py)
"""

from __future__ import annotations

from driver_io import load_scenario, report
from langfuse import Langfuse
from prompts_common import run


def main() -> None:
    s = load_scenario()
    langfuse = Langfuse()
    prompt, seen = run(langfuse, s["names"], placeholders=True)
    with langfuse.start_as_current_observation(
        as_type="generation",
        name="critic-call",
        model="gpt-4o-mini",
        input=prompt.compile(level="mild", movie="Up"),
        prompt=prompt,
    ) as generation:
        generation.update(output="Lovely.")
    langfuse.flush()
    langfuse.shutdown()
    report({**seen, "trace_id": generation.trace_id, "generation_id": generation.id})


if __name__ == "__main__":
    main()
