"""Python SDK 2.x: the low-level stateful client, sending JSON batches to /api/public/ingestion."""

from __future__ import annotations

from driver_io import load_scenario, prompt_source, report
from langfuse import Langfuse
from langfuse.model import TextPromptClient


def main() -> None:
    s = load_scenario()
    root_s, span_s, gen_s, event_s, scores = (
        s["root"],
        s["span"],
        s["generation"],
        s["event"],
        s["scores"],
    )
    langfuse = Langfuse(release=s["release"], environment=s["environment"])
    auth_ok = langfuse.auth_check()
    prompt = TextPromptClient(prompt_source(gen_s["prompt"]))

    trace = langfuse.trace(
        name=s["trace_name"],
        user_id=s["user_id"],
        session_id=s["session_id"],
        version=s["version"],
        tags=s["tags"],
        metadata=s["trace_metadata"],
        input=root_s["input"],
    )
    root = trace.span(name=root_s["name"], input=root_s["input"], metadata=root_s["metadata"])
    span = root.span(name=span_s["name"], input=span_s["input"], metadata=span_s["metadata"])
    generation = span.generation(
        name=gen_s["name"],
        model=gen_s["model"],
        model_parameters=gen_s["model_parameters"],
        input=gen_s["input"],
        metadata=gen_s["metadata"],
        prompt=prompt,
    )
    generation.end(output=gen_s["output"], usage_details=gen_s["usage_details"])
    generation.score(name=scores["categorical"]["name"], value=scores["categorical"]["value"])
    span.end(output=span_s["output"], level=span_s["level"], status_message=span_s["status_message"])
    event = root.event(
        name=event_s["name"],
        input=event_s["input"],
        output=event_s["output"],
        metadata=event_s["metadata"],
        level=event_s["level"],
        status_message=event_s["status_message"],
    )
    root.end(output=root_s["output"])
    trace.update(output=root_s["output"])
    trace.score(
        name=scores["numeric"]["name"], value=scores["numeric"]["value"], comment=scores["numeric"]["comment"]
    )
    langfuse.score(
        trace_id=trace.id,
        name=scores["boolean"]["name"],
        value=scores["boolean"]["value"],
        data_type="BOOLEAN",
    )
    langfuse.flush()
    langfuse.shutdown()
    report(
        {
            "auth_check": auth_ok,
            "trace_id": trace.id,
            "observations": {
                root_s["name"]: root.id,
                span_s["name"]: span.id,
                gen_s["name"]: generation.id,
                event_s["name"]: event.id,
            },
        }
    )


if __name__ == "__main__":
    main()
