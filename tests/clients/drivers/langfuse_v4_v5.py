"""Python SDK 5.x and 4.x (same tracing API; v5 sends scores as a list, v4 as ingestion events).

Usage: python langfuse_v4_v5.py  (scenario and server from the environment; see driver_io.py)
"""

from __future__ import annotations

from driver_io import load_scenario, prompt_source, report
from langfuse import Langfuse, propagate_attributes
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

    # One "with" per observation, nested as the trace is (SIM117 would flatten the first two).
    with langfuse.start_as_current_observation(  # noqa: SIM117
        as_type="span", name=root_s["name"], input=root_s["input"], metadata=root_s["metadata"]
    ) as root:
        with propagate_attributes(
            user_id=s["user_id"],
            session_id=s["session_id"],
            tags=s["tags"],
            metadata=s["trace_metadata"],
            version=s["version"],
            trace_name=s["trace_name"],
        ):
            with langfuse.start_as_current_observation(
                as_type="span", name=span_s["name"], input=span_s["input"], metadata=span_s["metadata"]
            ) as span:
                with langfuse.start_as_current_observation(
                    as_type="generation",
                    name=gen_s["name"],
                    model=gen_s["model"],
                    model_parameters=gen_s["model_parameters"],
                    input=gen_s["input"],
                    metadata=gen_s["metadata"],
                    prompt=prompt,
                ) as generation:
                    generation.update(output=gen_s["output"], usage_details=gen_s["usage_details"])
                    generation.score(
                        name=scores["categorical"]["name"],
                        value=scores["categorical"]["value"],
                        data_type="CATEGORICAL",
                    )
                span.update(
                    output=span_s["output"], level=span_s["level"], status_message=span_s["status_message"]
                )
            event = langfuse.create_event(
                name=event_s["name"],
                input=event_s["input"],
                output=event_s["output"],
                metadata=event_s["metadata"],
                level=event_s["level"],
                status_message=event_s["status_message"],
            )
            root.update(output=root_s["output"])
            root.score_trace(
                name=scores["numeric"]["name"],
                value=scores["numeric"]["value"],
                comment=scores["numeric"]["comment"],
            )

    langfuse.create_score(
        name=scores["boolean"]["name"],
        value=scores["boolean"]["value"],
        trace_id=root.trace_id,
        data_type="BOOLEAN",
    )
    langfuse.create_score(
        name=scores["session"]["name"], value=scores["session"]["value"], session_id=s["session_id"]
    )
    langfuse.flush()
    langfuse.shutdown()
    report(
        {
            "auth_check": auth_ok,
            "trace_id": root.trace_id,
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
