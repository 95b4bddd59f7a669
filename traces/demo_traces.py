"""Generate one demo trace (rows as dicts keyed by column) from its own seeded random.Random.

No database access here: traces/demo.py resolves prices, prompts and score configs, and
writes what `TraceMaker.make(index)` returns.
"""

from __future__ import annotations

import json
import random
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from traces import demo_content as content
from traces.demo_scenarios import SCENARIOS, ms

Row = dict[str, Any]


@dataclass(frozen=True)
class ModelPrice:
    """The default pricing tier of the model a demo model name resolves to."""

    model_id: str
    tier_id: str
    tier_name: str
    prices: dict[str, Decimal]


@dataclass(frozen=True)
class PromptRef:
    id: str
    name: str
    version: int
    text: str


@dataclass
class MadeTrace:
    trace: Row
    observations: list[Row] = field(default_factory=list)
    scores: list[Row] = field(default_factory=list)


class RawJson(str):
    """JSON text written as is (cost details keep exact decimals this way)."""


def decimal_json(values: dict[str, Decimal]) -> RawJson:
    return RawJson("{" + ",".join(f"{json.dumps(k)}:{_plain(v)}" for k, v in values.items()) + "}")


def _plain(value: Decimal) -> str:
    text = format(value, "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


def compute_costs(price: ModelPrice | None, usage: dict[str, int]) -> dict[str, Decimal]:
    """Cost per usage type (units x price of the default tier) plus their total; {} without a price."""
    if price is None or not usage:
        return {}
    parts = {k: units * price.prices[k] for k, units in usage.items() if k != "total" and k in price.prices}
    if not parts and "total" in usage and "total" in price.prices:
        return {"total": usage["total"] * price.prices["total"]}
    if not parts:
        return {}
    return {**parts, "total": sum(parts.values(), Decimal(0))}


class TraceMaker:
    def __init__(
        self,
        *,
        project_id: str,
        seed: int,
        now: datetime,
        days: int,
        traces: int,
        prices: dict[str, ModelPrice],
        prompts: dict[str, dict[str, PromptRef]],
        score_configs: dict[str, str],
    ) -> None:
        self.project_id = project_id
        self.seed = seed
        self.now = now
        self.days = days
        self.prices = prices
        self.prompts = prompts
        self.score_configs = score_configs
        # About four traces per session: a user's conversation on one day.
        self.sessions_per_user_day = max(3, traces // (days * len(content.USERS) * 4))
        self.day_weights = [1 + (days - day) / days for day in range(days)]  # traffic grows
        self.scenarios = list(content.SCENARIO_WEIGHTS)
        self.scenario_weights = list(content.SCENARIO_WEIGHTS.values())

    def make(self, index: int) -> MadeTrace:
        rng = random.Random(f"langfuse-demo:{self.seed}:{index}")
        return TraceBuilder(self, rng).build()

    def timestamp(self, rng: random.Random) -> datetime:
        latest = self.now - timedelta(minutes=2)
        day = rng.choices(range(self.days), weights=self.day_weights)[0]
        hour = rng.choices(range(24), weights=content.HOUR_WEIGHTS)[0]
        midnight = (self.now - timedelta(days=day)).replace(hour=0, minute=0, second=0)
        when = midnight + timedelta(hours=hour, milliseconds=rng.randrange(3_600_000))
        if when > latest:
            when -= timedelta(days=1)
        earliest = self.now - timedelta(days=self.days)
        if when < earliest:
            when = earliest + ms(rng.random() * (latest - earliest).total_seconds() * 1000)
        return when


class TraceBuilder:
    """One trace's rows. Scenario methods lay observations out in time and return the end."""

    def __init__(self, maker: TraceMaker, rng: random.Random) -> None:
        self.maker = maker
        self.rng = rng
        self.trace_id = f"{rng.getrandbits(128):032x}"
        self.environment = "staging" if rng.random() < 0.2 else "production"
        self.observations: list[Row] = []
        self.scores: list[Row] = []
        self.vars = {
            "order": f"ORD-{rng.randrange(100000, 999999)}",
            "product": rng.choice(content.PRODUCTS),
            "number": rng.randrange(10000, 99999),
        }

    def fill(self, template: str) -> str:
        return template.format(**self.vars)

    def fill_json(self, value: Any) -> Any:
        if isinstance(value, str):
            return self.fill(value)
        if isinstance(value, dict):
            return {key: self.fill_json(item) for key, item in value.items()}
        return value

    # --- trace ---

    def build(self) -> MadeTrace:
        rng = self.rng
        start = self.maker.timestamp(rng)
        scenario = rng.choices(self.maker.scenarios, weights=self.maker.scenario_weights)[0]
        user = rng.choice(content.USERS) if rng.random() < 0.9 else None
        trace = {
            "project_id": self.maker.project_id,
            "id": self.trace_id,
            "timestamp": start,
            "name": scenario,
            "user_id": user,
            "session_id": self._session(user, start),
            "release": self._release(start),
            "environment": self.environment,
            "tags": self._tags(scenario),
            "metadata": self._metadata(scenario),
            "bookmarked": rng.random() < 0.02,
            "public": False,
        }
        SCENARIOS[scenario](self, trace, start)
        self._aggregate(trace)
        self._scores(trace, scenario)
        return MadeTrace(trace, self.observations, self.scores)

    def _session(self, user: str | None, start: datetime) -> str | None:
        if user is None or self.rng.random() < 0.25:
            return None
        handle = user.split("@")[0].replace(".", "-")
        return f"{handle}-{start:%Y%m%d}-{self.rng.randrange(self.maker.sessions_per_user_day)}"

    def _release(self, start: datetime) -> str:
        if self.environment == "staging":
            return content.STAGING_RELEASE
        age = (self.maker.now - start) / timedelta(days=self.maker.days)
        return content.RELEASES[min(len(content.RELEASES) - 1, int((1 - age) * len(content.RELEASES)))]

    def _tags(self, scenario: str) -> list[str]:
        base = {"support-agent": "agent", "rag-query": "rag", "summarize-document": "batch"}.get(scenario)
        tags = [base] if base else []
        tags += [tag for tag, chance in content.EXTRA_TAGS if self.rng.random() < chance]
        return sorted(tags)

    def _metadata(self, scenario: str) -> dict[str, Any]:
        rng = self.rng
        team = content.TEAMS[scenario] if rng.random() < 0.85 else rng.choice(content.OTHER_TEAMS)
        metadata: dict[str, Any] = {
            "team": team,
            "region": rng.choice(content.REGIONS),
            "client": rng.choice(content.CLIENTS),
        }
        if rng.random() < 0.2:
            metadata["experiment"] = rng.choice(["cheaper-model", "longer-context", "new-retriever"])
        return metadata

    def _aggregate(self, trace: Row) -> None:
        obs = self.observations
        trace["start_time"] = min(o["start_time"] for o in obs)
        trace["end_time"] = max(o["end_time"] for o in obs)
        trace["observation_count"] = len(obs)
        for key in ("input", "output", "total"):
            trace[f"{key}_tokens"] = sum(o.get("usage_details", {}).get(key, 0) for o in obs)
        costs = [o["_costs"] for o in obs if "_costs" in o]
        trace["input_cost"] = sum((v for c in costs for k, v in c.items() if "input" in k), Decimal(0))
        trace["output_cost"] = sum((v for c in costs for k, v in c.items() if "output" in k), Decimal(0))
        trace["total_cost"] = sum(
            (o["total_cost"] for o in obs if o.get("total_cost") is not None), Decimal(0)
        )
        trace["error_count"] = sum(o["level"] == "ERROR" for o in obs)
        trace["warning_count"] = sum(o["level"] == "WARNING" for o in obs)
        trace["created_at"] = trace["updated_at"] = trace["end_time"]
        for o in obs:
            o.pop("_costs", None)

    # --- observations ---

    def observation(
        self, kind: str, name: str, start: datetime, duration_ms: float, parent: Row | None = None, **fields
    ) -> Row:
        end = start + ms(duration_ms)
        row = {
            "project_id": self.maker.project_id,
            "id": f"{self.rng.getrandbits(64):016x}",
            "trace_id": self.trace_id,
            "parent_observation_id": parent["id"] if parent else None,
            "type": kind,
            "name": name,
            "start_time": start,
            "end_time": end,
            "level": "DEFAULT",
            "environment": self.environment,
            "created_at": end,
            "updated_at": end,
            **fields,
        }
        self.observations.append(row)
        return row

    def close(self, row: Row, end: datetime) -> datetime:
        """Set a parent's end once its children are laid out."""
        row["end_time"] = row["created_at"] = row["updated_at"] = end
        return end

    def generation(
        self,
        name: str,
        start: datetime,
        parent: Row | None,
        model: str,
        messages: Any,
        output: Any,
        *,
        input_tokens: int,
        output_tokens: int,
        prompt: PromptRef | None = None,
        kind: str = "GENERATION",
        may_fail: bool = True,
    ) -> Row:
        rng = self.rng
        roll = rng.random() if may_fail else 1.0
        level, status = "DEFAULT", None
        if roll < 0.015:
            level, status = "ERROR", rng.choice(content.GENERATION_ERRORS)
        elif roll < 0.05:
            level, status = "WARNING", rng.choice(content.GENERATION_WARNINGS)
        first_token = content.FIRST_TOKEN_MS.get(model, 350) + rng.randrange(400)
        params = {"temperature": rng.choice([0, 0.2, 0.7]), "max_tokens": rng.choice([512, 1024, 4096])}
        fields: Row = {"level": level, "status_message": status, "provided_model_name": model}
        fields["model_parameters"] = params
        fields["input"] = messages
        if prompt is not None:
            fields.update(prompt_id=prompt.id, prompt_name=prompt.name, prompt_version=prompt.version)
        if level == "ERROR":
            return self.observation(kind, name, start, rng.randrange(2_000, 60_000), parent, **fields)
        usage = self._usage(model, input_tokens, output_tokens)
        price = self.maker.prices.get(model)
        costs = compute_costs(price, usage)
        duration = first_token + output_tokens * content.MS_PER_TOKEN.get(model, 10) * rng.uniform(0.7, 1.4)
        fields.update(
            output=output,
            completion_start_time=start + ms(first_token),
            provided_usage_details=usage,
            usage_details=usage,
            cost_details=decimal_json(costs),
            total_cost=costs.get("total"),
            _costs=costs,
        )
        if price is not None:
            fields.update(
                internal_model_id=price.model_id,
                usage_pricing_tier_id=price.tier_id,
                usage_pricing_tier_name=price.tier_name,
            )
        return self.observation(kind, name, start, duration, parent, **fields)

    def _usage(self, model: str, input_tokens: int, output_tokens: int) -> dict[str, int]:
        if model == content.EMBEDDING_MODEL:
            return {"input": input_tokens, "total": input_tokens}
        cached_key = content.CACHED_KEY.get(model.split("-")[0])
        cached = 0
        if cached_key and input_tokens > 1024 and self.rng.random() < 0.35:
            cached = int(input_tokens * self.rng.uniform(0.3, 0.8))
        usage = {
            "input": input_tokens - cached,
            "output": output_tokens,
            "total": input_tokens + output_tokens,
        }
        if cached:
            usage[cached_key] = cached
        return usage

    def prompt(self, name: str) -> PromptRef:
        label = "latest" if self.environment == "staging" else "production"
        return self.maker.prompts[name][label]

    def model(self, scenario: str) -> str:
        names, weights = zip(*content.SCENARIO_MODELS[scenario], strict=True)
        return self.rng.choices(names, weights=weights)[0]

    # --- scores ---

    def _scores(self, trace: Row, scenario: str) -> None:
        rng, end = self.rng, trace["end_time"]
        failed = trace["error_count"] > 0
        if trace.get("output") is not None and rng.random() < 0.5:
            value = round(rng.betavariate(6, 2) * (0.6 if failed else 1), 2)
            self.score(
                "helpfulness",
                end + timedelta(seconds=rng.randrange(5, 120)),
                value=value,
                source="EVAL",
                comment=f"Judged by {content.JUDGE_MODEL}",
            )
        if trace["user_id"] and rng.random() < 0.25:
            liked = rng.random() < (0.3 if failed else 0.78)
            comment = rng.choice(content.FEEDBACK_COMMENTS) if rng.random() < 0.4 else None
            self.score(
                "user-feedback",
                end + timedelta(seconds=rng.randrange(10, 900)),
                value=float(liked),
                string_value=str(liked),
                data_type="BOOLEAN",
                comment=comment,
            )
        if scenario == "support-agent" and rng.random() < 0.12:
            tone = rng.choices(content.TONE_CATEGORIES, weights=[5, 4, 1])[0]
            self.score(
                "tone",
                end + timedelta(hours=rng.randrange(1, 48)),
                value=float(tone["value"]),
                string_value=tone["label"],
                data_type="CATEGORICAL",
                source="ANNOTATION",
            )
        answer = next((o for o in self.observations if o["name"] == "generate-answer"), None)
        if answer is not None and answer.get("output") is not None and rng.random() < 0.3:
            self.score(
                "hallucination",
                end + timedelta(seconds=rng.randrange(5, 120)),
                value=round(rng.betavariate(1, 8), 3),
                source="EVAL",
                observation_id=answer["id"],
            )

    def score(self, name: str, when: datetime, **fields) -> None:
        when = min(when, self.maker.now)
        row = {
            "project_id": self.maker.project_id,
            "id": str(uuid.UUID(int=self.rng.getrandbits(128), version=4)),
            "timestamp": when,
            "trace_id": self.trace_id,
            "name": name,
            "data_type": "NUMERIC",
            "source": "API",
            "config_id": self.maker.score_configs.get(name),
            "environment": self.environment,
            "created_at": when,
            "updated_at": when,
            **fields,
        }
        self.scores.append(row)
