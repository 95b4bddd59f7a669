"""Python SDK 2.x prompt management and a generation linked to the prompt (ingestion API).

Usage: python prompts_v2.py  (scenario and server from the environment; see driver_io.py)
"""

from __future__ import annotations

from driver_io import load_scenario, report
from langfuse import Langfuse
from prompts_common import run


def main() -> None:
    s = load_scenario()
    langfuse = Langfuse()
    prompt, seen = run(langfuse, s["names"], placeholders=False)
    trace = langfuse.trace(name="prompt-linking")
    generation = trace.generation(
        name="critic-call", model="gpt-4o-mini", input=prompt.compile(level="mild", movie="Up"), prompt=prompt
    )
    generation.end(output="Lovely.")
    langfuse.flush()
    langfuse.shutdown()
    report({**seen, "trace_id": trace.id, "generation_id": generation.id})


if __name__ == "__main__":
    main()
