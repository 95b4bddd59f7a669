"""Usage and cost maps as clients send them, turned into one flat shape.

Every ingestion path hands the writer two maps: usage details ``{usage_type: units}`` and
cost details ``{usage_type: usd}``. Usage types follow Langfuse: ``input``, ``output``,
``total`` plus detail buckets such as ``input_cached_tokens`` or ``output_reasoning_tokens``.

The buckets are *exclusive*: ``input`` counts only the input tokens that are not in another
input bucket, so the cost engine can price every key once (``input * input_price +
input_cached_tokens * cached_price``) and the real input count is the sum of the input keys.
This is Langfuse's convention; clients that send an inclusive ``input`` next to cache buckets
are the top cause of double-counted tokens and costs, so this module corrects them whenever
the client's own ``total`` proves the input was inclusive (see ``_make_exclusive``).

Pure functions, no database.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

Number = int | float | Decimal

# OpenAI Chat Completions and Responses usage objects: base keys -> our keys.
_COMPLETION_SHAPE = {
    "prompt_tokens": "input",
    "completion_tokens": "output",
    "total_tokens": "total",
}
_COMPLETION_DETAILS = {"prompt_tokens_details": "input", "completion_tokens_details": "output"}
_RESPONSES_SHAPE = {"input_tokens": "input", "output_tokens": "output", "total_tokens": "total"}
_RESPONSES_DETAILS = {"input_tokens_details": "input", "output_tokens_details": "output"}
# A "text" breakdown is the plain bucket itself: subtracting it would leave input/output at
# zero and move the tokens to a key no price table has, so it is left out.
_SKIPPED_DETAILS = {"text_tokens"}
_LEGACY_CAMEL = {"promptTokens": "input", "completionTokens": "output", "totalTokens": "total"}
_LEGACY_PLAIN = ("input", "output", "total")
_LEGACY_COSTS = {"inputCost": "input", "outputCost": "output", "totalCost": "total"}

# Which side a usage key belongs to, for exclusivity checks and trace aggregates.
_INPUT_WORDS = ("input", "prompt", "cache")
_OUTPUT_WORDS = ("output", "completion", "reasoning", "candidates", "thought")
# Keys that hold the plain bucket of a side (compared after lower-casing and dropping
# everything but letters): Langfuse's own, OpenAI's, and Gemini's spellings.
_BASE_INPUT = {"input", "inputtokens", "prompt", "prompttokens", "prompttokencount"}
_BASE_OUTPUT = {"output", "outputtokens", "completion", "completiontokens", "candidatestokencount"}


def normalize_usage(usage: Any = None, usage_details: Any = None) -> dict[str, int]:
    """Usage units by type from a legacy ``usage`` object and/or a ``usageDetails`` map.

    Accepted shapes, in either argument:
    - legacy ``{input, output, total, unit, inputCost, ...}`` (unit and costs are ignored here);
    - legacy OpenAI camel case ``{promptTokens, completionTokens, totalTokens}``;
    - OpenAI Chat Completions usage ``{prompt_tokens, completion_tokens, total_tokens,
      prompt_tokens_details: {...}, completion_tokens_details: {...}}``;
    - OpenAI Responses usage ``{input_tokens, output_tokens, total_tokens,
      input_tokens_details, output_tokens_details}``;
    - any flat ``{key: int}`` map.

    OpenAI detail counts become ``input_<key>`` / ``output_<key>`` and are subtracted from
    input / output (never below zero), as Langfuse does, so nothing is counted twice. Keys of
    ``usage_details`` override the same keys of ``usage`` (Langfuse merges them this way).
    Negative, boolean and non-numeric values are dropped; floats are rounded. A flat map whose
    ``total`` shows that ``input`` (or ``output``) already included its detail buckets is made
    exclusive. Without a ``total``, ``total`` is the sum of the other keys. ``{}`` when
    nothing is usable.
    """
    merged = {**_legacy_usage(usage), **_usage_map(usage_details)}
    if not merged:
        return {}
    if "total" not in merged:
        stated = next((key for key in merged if key.lower().startswith("total")), None)
        if stated is None:
            merged["total"] = sum(merged.values())
            return merged
        merged["total"] = merged.pop(stated)  # e.g. Gemini's totalTokenCount
    return _make_exclusive(merged)


def normalize_cost(cost_details: Any = None, usage: Any = None) -> dict[str, float]:
    """Costs in USD by type from ``costDetails`` and/or the legacy ``usage`` cost fields.

    Legacy ``inputCost`` / ``outputCost`` / ``totalCost`` become ``input`` / ``output`` /
    ``total``; ``costDetails`` keys override them. Values must be numbers >= 0 (others are
    dropped). ``total`` is added as the sum of the other keys when missing. ``{}`` when nothing
    is usable.
    """
    costs: dict[str, Decimal] = {}
    if isinstance(usage, Mapping):
        for source, key in _LEGACY_COSTS.items():
            value = _as_number(usage.get(source))
            if value is not None:
                costs[key] = Decimal(value)
    if isinstance(cost_details, Mapping):
        for key, raw in cost_details.items():
            value = _as_number(raw)
            if value is not None and isinstance(key, str) and key:
                costs[key] = Decimal(value)
    if costs and "total" not in costs:
        costs["total"] = sum(costs.values(), Decimal(0))
    return {key: float(value) for key, value in costs.items()}


def split_input_output(details: Mapping[str, Number]) -> tuple[Number, Number, Number]:
    """(input, output, total) of a usage or cost map, for trace aggregates and list columns.

    Rule: a key belongs to the input side when its lower-cased name contains "input",
    "prompt" or "cache" (``input``, ``input_cached_tokens``, ``cache_read_input_tokens``,
    ``promptTokenCount``), to the output side when it contains "output", "completion",
    "reasoning", "candidates" or "thought"; other keys (requests, images, search queries) count
    only towards the total. Keys starting with "total" are the total. This is Langfuse's
    "keys containing input / output" rule, widened to the spellings of the price table.

    Summing a side is right because buckets are exclusive. If the map's own total instead
    equals the plain ``input``/``output`` (so the plain bucket already held the details, as
    from clients that send ``input: 100, cache_read_input_tokens: 20, total: 150`` for 50
    output tokens), that side counts its plain bucket only, so cached and reasoning tokens are
    never counted twice. Total is the map's total key if present, else the sum of all keys.

    Integers stay integers; any float or Decimal makes the results Decimal.
    """
    values = {key: _as_number(value) for key, value in details.items()}
    values = {key: value for key, value in values.items() if value is not None}
    use_decimal = any(not isinstance(value, int) for value in values.values())
    if use_decimal:
        values = {key: Decimal(value) if isinstance(value, int) else value for key, value in values.items()}
    zero: Number = Decimal(0) if use_decimal else 0
    sides = _sides(values)
    stated_total = sides.total
    in_sum, out_sum = sides.input_all, sides.output_all
    if stated_total is not None:
        inclusive_in, inclusive_out = _inclusive_sides(sides, stated_total)
        if inclusive_in:
            in_sum = sides.input_base
        if inclusive_out:
            out_sum = sides.output_base
    total = stated_total if stated_total is not None else sum(values.values(), zero)
    return in_sum + zero, out_sum + zero, total + zero


# -- helpers -------------------------------------------------------------------------------------


class _Sides:
    """Sums of a usage map by side: plain bucket and detail buckets."""

    def __init__(self) -> None:
        self.input_base: Number = 0
        self.input_details: Number = 0
        self.output_base: Number = 0
        self.output_details: Number = 0
        self.other: Number = 0
        self.total: Number | None = None
        self.input_base_key: str | None = None
        self.output_base_key: str | None = None

    @property
    def input_all(self) -> Number:
        return self.input_base + self.input_details

    @property
    def output_all(self) -> Number:
        return self.output_base + self.output_details


def _sides(values: Mapping[str, Number]) -> _Sides:
    sides = _Sides()
    for key, value in values.items():
        lowered = key.lower()
        squashed = re.sub(r"[^a-z]", "", lowered)
        if lowered.startswith("total"):
            if key == "total" or sides.total is None:
                sides.total = value
        elif squashed in _BASE_INPUT:
            sides.input_base += value
            sides.input_base_key = sides.input_base_key or key
        elif squashed in _BASE_OUTPUT:
            sides.output_base += value
            sides.output_base_key = sides.output_base_key or key
        elif any(word in lowered for word in _INPUT_WORDS):
            sides.input_details += value
        elif any(word in lowered for word in _OUTPUT_WORDS):
            sides.output_details += value
        else:
            sides.other += value
    return sides


def _inclusive_sides(sides: _Sides, total: Number) -> tuple[bool, bool]:
    """Which sides' plain bucket already includes its details, judged by the stated total.

    Tries exclusive first (Langfuse's convention), then inclusive input, inclusive output,
    both; the first reading whose sum equals the total wins. No reading fits: exclusive.
    """
    for inclusive_in, inclusive_out in ((False, False), (True, False), (False, True), (True, True)):
        if inclusive_in and not (sides.input_details and sides.input_base_key):
            continue
        if inclusive_out and not (sides.output_details and sides.output_base_key):
            continue
        in_sum = sides.input_base if inclusive_in else sides.input_all
        out_sum = sides.output_base if inclusive_out else sides.output_all
        if _close(in_sum + out_sum + sides.other, total):
            return inclusive_in, inclusive_out
    return False, False


def _make_exclusive(usage: dict[str, int]) -> dict[str, int]:
    sides = _sides(usage)
    inclusive_in, inclusive_out = _inclusive_sides(sides, sides.total or 0)
    if inclusive_in and sides.input_base_key:
        key = sides.input_base_key
        usage[key] = max(usage[key] - int(sides.input_details), 0)
    if inclusive_out and sides.output_base_key:
        key = sides.output_base_key
        usage[key] = max(usage[key] - int(sides.output_details), 0)
    return usage


def _close(a: Number, b: Number) -> bool:
    if isinstance(a, int) and isinstance(b, int):
        return a == b
    return math.isclose(float(a), float(b), rel_tol=1e-9, abs_tol=1e-12)


def _legacy_usage(usage: Any) -> dict[str, int]:
    if not isinstance(usage, Mapping):
        return {}
    if _looks_like_openai(usage):
        return _usage_map(usage)
    keys = _LEGACY_CAMEL if any(key in usage for key in _LEGACY_CAMEL) else {k: k for k in _LEGACY_PLAIN}
    result = {}
    for source, key in keys.items():
        value = _as_units(usage.get(source))
        if value is not None:
            result[key] = value
    return result


def _looks_like_openai(data: Mapping) -> bool:
    return any(key in data for key in (*_COMPLETION_SHAPE, *_COMPLETION_DETAILS, *_RESPONSES_DETAILS)) or (
        "input_tokens" in data and "output_tokens" in data
    )


def _usage_map(data: Any) -> dict[str, int]:
    """A usageDetails value: an OpenAI usage object or a flat map."""
    if not isinstance(data, Mapping):
        return {}
    if any(key in data for key in ("prompt_tokens", "completion_tokens", *_COMPLETION_DETAILS)):
        return _openai_usage(data, _COMPLETION_SHAPE, _COMPLETION_DETAILS)
    if _looks_like_openai(data):
        return _openai_usage(data, _RESPONSES_SHAPE, _RESPONSES_DETAILS)
    result = {}
    for key, raw in data.items():
        value = _as_units(raw)
        if value is not None and isinstance(key, str) and key:
            result[key] = value
    return result


def _openai_usage(data: Mapping, shape: dict[str, str], detail_groups: dict[str, str]) -> dict[str, int]:
    """OpenAI usage: base counts renamed, details split out and subtracted from their side.

    Other flat numeric keys are kept as they are (Anthropic's ``cache_read_input_tokens``
    next to ``input_tokens``), except cost fields some proxies add (LiteLLM's ``cost``).
    """
    result: dict[str, int] = {}
    for source, key in shape.items():
        value = _as_units(data.get(source))
        if value is not None:
            result[key] = value
    for group, side in detail_groups.items():
        details = data.get(group)
        if not isinstance(details, Mapping):
            continue
        for name, raw in details.items():
            value = _as_units(raw)
            if value is None or not isinstance(name, str) or name in _SKIPPED_DETAILS:
                continue
            result[f"{side}_{name}"] = value
            if side in result:
                result[side] = max(result[side] - value, 0)
    known = set(shape) | set(detail_groups) | set(_COMPLETION_SHAPE) | set(_RESPONSES_SHAPE)
    for key, raw in data.items():
        if key in known or not isinstance(key, str) or "cost" in key.lower():
            continue
        value = _as_units(raw)
        if value is not None:
            result.setdefault(key, value)
    return result


def _as_number(raw: Any) -> int | Decimal | None:
    """A finite number >= 0 from an int, float, Decimal or numeric string; else None."""
    if raw is None or isinstance(raw, bool):
        return None
    if isinstance(raw, int):
        return raw if raw >= 0 else None
    if isinstance(raw, float | str | Decimal):
        try:
            value = Decimal(str(raw).strip()) if not isinstance(raw, Decimal) else raw
        except (InvalidOperation, ValueError):
            return None
        if not value.is_finite() or value < 0:
            return None
        return value
    return None


def _as_units(raw: Any) -> int | None:
    value = _as_number(raw)
    if value is None:
        return None
    return value if isinstance(value, int) else int(value.to_integral_value())
