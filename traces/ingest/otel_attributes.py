"""Reading span attribute values the way real exporters send them.

Exporters disagree on encodings: the Langfuse SDKs send JSON strings (sometimes JSON-quoted
strings, sometimes raw ones), LiteLLM sends OpenInference `llm.*` keys, generic OTel sends
`gen_ai.*` keys. Each helper here takes plain attribute dicts and returns Python values.
"""

from __future__ import annotations

import json
import math
import re
from datetime import UTC, datetime
from typing import Any

Attributes = dict[str, Any]

DEFAULT_ENVIRONMENT = "default"
_ENVIRONMENT = re.compile(r"[a-z0-9_-]{1,40}")
_RESERVED_ENVIRONMENT_PREFIX = re.compile(r"^langfuse[-_]")


def first(attributes: Attributes, *keys: str) -> Any:
    """The value of the first key present with a non-empty value."""
    for key in keys:
        value = attributes.get(key)
        if value is not None and value != "":
            return value
    return None


_JSON_STARTS = frozenset('{["-0123456789tfn')


def parse_json_tolerantly(value: Any) -> Any:
    """json.loads for strings that hold JSON; anything else (raw strings too) is returned unchanged."""
    if isinstance(value, str):
        # Most raw strings ("openai", "chat gpt-4o") cannot be JSON: skip the failing parse.
        if value[:1] not in _JSON_STARTS and value.lstrip()[:1] not in _JSON_STARTS:
            return value
        try:
            return json.loads(value)
        except (ValueError, RecursionError):  # not JSON, or nested too deeply to be worth parsing
            return value
    return value


def json_object(value: Any) -> dict[str, Any] | None:
    parsed = parse_json_tolerantly(value)
    return parsed if isinstance(parsed, dict) else None


def prefixed(attributes: Attributes, prefix: str) -> dict[str, Any]:
    """{suffix: JSON-decoded value} for every key `<prefix><suffix>`."""
    size = len(prefix)
    keys_under = getattr(attributes, "keys_under", None)
    keys = keys_under(prefix.partition(".")[0]) if keys_under else attributes
    return {
        key[size:]: parse_json_tolerantly(attributes[key])
        for key in keys
        if len(key) > size and key.startswith(prefix)
    }


def metadata_from(attributes: Attributes, key: str) -> dict[str, Any]:
    """Metadata sent as one JSON object under `key`, as flattened `key.<k>` attributes, or both."""
    metadata: dict[str, Any] = {}
    whole = attributes.get(key)
    if whole is not None:
        parsed = json_object(whole)
        metadata.update(parsed if parsed is not None else {"metadata": parse_json_tolerantly(whole)})
    metadata.update(prefixed(attributes, key + "."))
    return metadata


def as_text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    return json.dumps(value, separators=(",", ":"))


def as_bool(value: Any) -> bool | None:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("true", "false"):
        return value.strip().lower() == "true"
    if isinstance(value, int | float):
        return bool(value)
    return None


def as_int(value: Any) -> int | None:
    number = as_number(value)
    if number is None or number != int(number):
        return None
    return int(number)


def as_number(value: Any) -> float | int | None:
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, str):
        value = parse_json_tolerantly(value.strip())
        if isinstance(value, str | bool):
            return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and math.isfinite(value):
        return value
    return None


def as_tags(value: Any) -> list[str] | None:
    """Tags from an arrayValue, a JSON-array string, a comma list, or a single string."""
    if value is None:
        return None
    if isinstance(value, str):
        parsed = parse_json_tolerantly(value)
        if isinstance(parsed, list):
            value = parsed
        else:
            value = value.split(",")
    if not isinstance(value, list):
        value = [value]
    tags: list[str] = []
    for item in value:
        text = as_text(item)
        if text is not None and text.strip() and text.strip() not in tags:
            tags.append(text.strip())
    return tags


def as_datetime(value: Any) -> datetime | None:
    """An ISO-8601 string (possibly JSON-quoted) or epoch seconds/milliseconds -> aware UTC datetime."""
    value = parse_json_tolerantly(value)
    try:
        if isinstance(value, str):
            parsed = datetime.fromisoformat(value.strip())
        elif isinstance(value, int | float) and not isinstance(value, bool):
            parsed = datetime.fromtimestamp(value / 1000 if value > 1e11 else value, tz=UTC)
        else:
            return None
    except (ValueError, OverflowError, OSError):
        return None
    if parsed.tzinfo is None:
        return parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def normalise_environment(value: Any, default: str = DEFAULT_ENVIRONMENT) -> str:
    """Lower-case, strip the reserved `langfuse-` prefix, <=40 chars of [a-z0-9-_], else the default."""
    text = as_text(value)
    if not text:
        return default
    text = _RESERVED_ENVIRONMENT_PREFIX.sub("", text.strip().lower())
    return text if _ENVIRONMENT.fullmatch(text) else default


# -- usage ----------------------------------------------------------------------------------------

# Provider-style keys -> Langfuse usage keys. Cached, cache-write, reasoning and audio tokens are
# reported inside input/output by OpenAI-style counters; they are moved into their own bucket
# (and subtracted) so that each token is priced once.
_INPUT_KEYS = ("input", "input_tokens", "prompt_tokens", "prompt")
_OUTPUT_KEYS = ("output", "output_tokens", "completion_tokens", "completion")
_TOTAL_KEYS = ("total", "total_tokens")
_INPUT_DETAILS = {
    "cache_read.input_tokens": "input_cached_tokens",
    "cache_read_input_tokens": "input_cached_tokens",
    "input_tokens_details.cached_tokens": "input_cached_tokens",
    "prompt_tokens_details.cached_tokens": "input_cached_tokens",
    "prompt_details.cache_read": "input_cached_tokens",
    "cache_creation.input_tokens": "input_cache_creation",
    "cache_creation_input_tokens": "input_cache_creation",
    "prompt_details.cache_write": "input_cache_creation",
    "prompt_details.audio": "input_audio_tokens",
    "input_tokens_details.audio_tokens": "input_audio_tokens",
    "prompt_tokens_details.audio_tokens": "input_audio_tokens",
}
_OUTPUT_DETAILS = {
    "reasoning_tokens": "output_reasoning_tokens",
    "output_tokens_details.reasoning_tokens": "output_reasoning_tokens",
    "completion_tokens_details.reasoning_tokens": "output_reasoning_tokens",
    "completion_details.reasoning": "output_reasoning_tokens",
    "completion_details.audio": "output_audio_tokens",
    "output_tokens_details.audio_tokens": "output_audio_tokens",
    "completion_tokens_details.audio_tokens": "output_audio_tokens",
}


def usage_details(attributes: Attributes) -> dict[str, int]:
    """langfuse.observation.usage_details as sent; else OpenInference llm.token_count.*; else gen_ai.usage.*."""
    provided = json_object(attributes.get("langfuse.observation.usage_details"))
    if provided is not None:
        return _counts(provided)
    for prefix in ("llm.token_count.", "gen_ai.usage."):
        counters = {k: v for k, v in prefixed(attributes, prefix).items() if "cost" not in k}
        if counters:
            return _normalise_counters(_counts(counters))
    return {}


def _counts(values: dict[str, Any]) -> dict[str, int]:
    counts = {}
    for key, value in values.items():
        number = as_number(value)
        if number is not None and number >= 0:
            counts[key] = int(number)
    return counts


def _normalise_counters(counters: dict[str, int]) -> dict[str, int]:
    usage: dict[str, int] = {}
    rest: dict[str, int] = {}
    for key, value in counters.items():
        if key in _INPUT_KEYS:
            usage.setdefault("input", value)
        elif key in _OUTPUT_KEYS:
            usage.setdefault("output", value)
        elif key in _TOTAL_KEYS:
            usage.setdefault("total", value)
        elif key in _INPUT_DETAILS or key in _OUTPUT_DETAILS:
            target = _INPUT_DETAILS.get(key) or _OUTPUT_DETAILS[key]
            rest[target] = rest.get(target, 0) + value
        else:
            rest[key] = value
    for detail, value in rest.items():
        if detail in _INPUT_DETAILS.values() and "input" in usage:
            usage["input"] = max(usage["input"] - value, 0)
        elif detail in _OUTPUT_DETAILS.values() and "output" in usage:
            usage["output"] = max(usage["output"] - value, 0)
    usage.update(rest)
    return usage


# -- cost and model parameters --------------------------------------------------------------------


def cost_details(attributes: Attributes) -> dict[str, float]:
    """langfuse.observation.cost_details; else llm.cost.*; else gen_ai.cost.* / gen_ai.usage.cost (USD)."""
    provided = json_object(attributes.get("langfuse.observation.cost_details"))
    if provided is not None:
        return _amounts(provided)
    openinference = prefixed(attributes, "llm.cost.")
    costs = _amounts(
        {
            "input": openinference.get("prompt", openinference.get("input")),
            "output": openinference.get("completion", openinference.get("output")),
            "total": openinference.get("total"),
        }
    )
    if costs:
        return costs
    gen_ai = prefixed(attributes, "gen_ai.cost.")
    return _amounts(
        {
            "input": gen_ai.get("input_cost"),
            "output": gen_ai.get("output_cost"),
            "total": gen_ai.get("total_cost", attributes.get("gen_ai.usage.cost")),
        }
    )


def _amounts(values: dict[str, Any]) -> dict[str, float]:
    amounts = {}
    for key, value in values.items():
        number = as_number(value)
        if number is not None and number >= 0:
            amounts[key] = float(number)
    return amounts


def model_parameters(attributes: Attributes) -> dict[str, Any] | None:
    """langfuse.observation.model.parameters; else llm.invocation_parameters plus gen_ai.request.*."""
    provided = attributes.get("langfuse.observation.model.parameters")
    if provided is not None:
        parsed = parse_json_tolerantly(provided)
        return parsed if isinstance(parsed, dict) else {"value": parsed}
    parameters: dict[str, Any] = {}
    parameters.update(json_object(attributes.get("llm.invocation_parameters")) or {})
    parameters.update(prefixed(attributes, "llm.invocation_parameters."))
    request = prefixed(attributes, "gen_ai.request.")
    request.pop("model", None)
    parameters.update(request)
    return parameters or None
