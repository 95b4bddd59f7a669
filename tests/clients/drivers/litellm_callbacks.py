"""LiteLLM with one of its tracing callbacks, mocked completions (no model provider is contacted).

Usage: python litellm_callbacks.py MODE, MODE one of
  langfuse       success_callback/failure_callback ["langfuse"] (needs the langfuse 4.x SDK)
  langfuse_otel  ["langfuse_otel"] (OpenTelemetry SDK + OTLP/HTTP exporter)
  otel           the generic ["otel"] exporter pointed at the server's OTLP endpoint

Makes one successful call and one that fails, then waits for the callbacks and flushes them.
"""

from __future__ import annotations

import base64
import os
import sys

from driver_io import load_scenario, report

FAILURE_MESSAGE = "upstream exploded"


def configure(mode: str) -> None:
    if mode == "otel":
        token = base64.b64encode(
            f"{os.environ['LANGFUSE_PUBLIC_KEY']}:{os.environ['LANGFUSE_SECRET_KEY']}".encode()
        ).decode()
        os.environ["OTEL_EXPORTER"] = "otlp_http"
        os.environ["OTEL_ENDPOINT"] = f"{os.environ['LANGFUSE_HOST']}/api/public/otel/v1/traces"
        os.environ["OTEL_HEADERS"] = f"Authorization=Basic {token}"


def wait_and_flush(mode: str) -> None:
    from litellm.litellm_core_utils.thread_pool_executor import executor

    executor.shutdown(wait=True)  # the success/failure handlers run there
    if mode == "langfuse":
        from litellm.integrations.langfuse.langfuse_sdk import flush_langfuse_tracing

        flush_langfuse_tracing()
    else:
        from opentelemetry import trace

        provider = trace.get_tracer_provider()
        if hasattr(provider, "force_flush"):
            provider.force_flush()


def main(mode: str) -> None:
    configure(mode)
    import litellm

    s = load_scenario()
    gen_s = s["generation"]
    litellm.success_callback = [mode]
    litellm.failure_callback = [mode]
    metadata = {
        "trace_name": s["trace_name"],
        "trace_user_id": s["user_id"],
        "session_id": s["session_id"],
        "tags": s["tags"],
        "trace_metadata": s["trace_metadata"],
        "trace_release": s["release"],
        "trace_version": s["version"],
        "generation_name": gen_s["name"],
    }
    response = litellm.completion(
        model=gen_s["model"],
        messages=gen_s["input"],
        mock_response=gen_s["output"]["content"],
        metadata=metadata,
        **gen_s["model_parameters"],
    )
    error = None
    try:
        litellm.completion(
            model=gen_s["model"],
            messages=gen_s["input"],
            mock_response=Exception(FAILURE_MESSAGE),
            metadata={**metadata, "generation_name": f"{gen_s['name']}-failed"},
            **gen_s["model_parameters"],
        )
    except Exception as exc:
        error = str(exc)
    wait_and_flush(mode)
    report(
        {
            "mode": mode,
            "content": response.choices[0].message.content,
            "usage": response.usage.model_dump() if response.usage else None,
            "error": error,
        }
    )


if __name__ == "__main__":
    main(sys.argv[1])
