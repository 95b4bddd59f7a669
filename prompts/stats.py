"""Is version B different from version A? Two-sample tests on per-generation values, in plain Python.

Latency, cost and numeric scores use the Mann-Whitney U test (two-sided, normal approximation with tie
correction and continuity correction): it makes no assumption about the shape of the distribution, which
suits skewed latencies and costs. Boolean scores use the pooled two-proportion z-test. Below MIN_SAMPLE
values on either side no test is run and the statement says there is not enough data.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass, replace

MIN_SAMPLE = 20
ALPHA = 0.05


@dataclass(frozen=True)
class TestResult:
    statistic: float
    z: float
    p_value: float


def average_ranks(values: Sequence[float]) -> tuple[list[float], list[int]]:
    """1-based ranks with ties given their average rank, and the size of each group of ties."""
    order = sorted(range(len(values)), key=values.__getitem__)
    ranks = [0.0] * len(values)
    ties: list[int] = []
    start = 0
    while start < len(order):
        end = start
        while end + 1 < len(order) and values[order[end + 1]] == values[order[start]]:
            end += 1
        rank = (start + end) / 2 + 1
        for position in range(start, end + 1):
            ranks[order[position]] = rank
        ties.append(end - start + 1)
        start = end + 1
    return ranks, ties


def mann_whitney_u(a: Sequence[float], b: Sequence[float]) -> TestResult:
    """Two-sided Mann-Whitney U test; `statistic` is U of sample a."""
    n1, n2 = len(a), len(b)
    if not n1 or not n2:
        raise ValueError("both samples need values")
    ranks, ties = average_ranks([*a, *b])
    u1 = sum(ranks[:n1]) - n1 * (n1 + 1) / 2
    n = n1 + n2
    mean = n1 * n2 / 2
    tie_term = sum(t**3 - t for t in ties) / (n * (n - 1)) if n > 1 else 0.0
    variance = n1 * n2 / 12 * ((n + 1) - tie_term)
    if variance <= 0:  # every value is the same
        return TestResult(u1, 0.0, 1.0)
    u = max(u1, n1 * n2 - u1)
    z = (u - mean - 0.5) / math.sqrt(variance)
    return TestResult(u1, z, min(1.0, math.erfc(z / math.sqrt(2))))


def two_proportion_z(successes_a: int, n_a: int, successes_b: int, n_b: int) -> TestResult:
    """Two-sided pooled z-test of p_a == p_b; `statistic` is p_b - p_a."""
    if not n_a or not n_b:
        raise ValueError("both samples need values")
    p_a, p_b = successes_a / n_a, successes_b / n_b
    pooled = (successes_a + successes_b) / (n_a + n_b)
    se = math.sqrt(pooled * (1 - pooled) * (1 / n_a + 1 / n_b))
    if se == 0:
        return TestResult(p_b - p_a, 0.0, 1.0)
    z = (p_b - p_a) / se
    return TestResult(p_b - p_a, z, math.erfc(abs(z) / math.sqrt(2)))


@dataclass(frozen=True)
class Comparison:
    """One metric of version a against version b, with the verdict in a sentence."""

    metric: str
    kind: str  # latency | cost | numeric | boolean
    version_a: int
    version_b: int
    n_a: int
    n_b: int
    value_a: float | None
    value_b: float | None
    p_value: float | None
    sentence: str

    @property
    def enough_data(self) -> bool:
        return self.n_a >= MIN_SAMPLE and self.n_b >= MIN_SAMPLE

    @property
    def difference(self) -> float | None:
        if self.value_a is None or self.value_b is None:
            return None
        return self.value_b - self.value_a

    @property
    def relative(self) -> float | None:
        """The difference in percent of version a's value (None when a's value is 0)."""
        if self.difference is None or not self.value_a:
            return None
        return self.difference / abs(self.value_a) * 100

    @property
    def significant(self) -> bool:
        return self.p_value is not None and self.p_value < ALPHA

    @property
    def shown_a(self) -> str:
        return _shown(self.kind, self.value_a)

    @property
    def shown_b(self) -> str:
        return _shown(self.kind, self.value_b)

    @property
    def shown_difference(self) -> str:
        if self.difference is None:
            return ""
        sign = "+" if self.difference > 0 else "-" if self.difference < 0 else ""
        if self.kind == "boolean":
            return f"{sign}{abs(self.difference) * 100:.1f} pp"
        relative = f" ({self.relative:+.1f}%)" if self.relative is not None else ""
        return f"{sign}{_shown(self.kind, abs(self.difference))}{relative}"

    @property
    def shown_p(self) -> str:
        return "" if self.p_value is None else format_p(self.p_value).removeprefix("p = ").removeprefix("p ")


def _shown(kind: str, value: float | None) -> str:
    if value is None:
        return ""
    if kind == "boolean":
        return f"{value * 100:.1f}%"
    if kind == "numeric":
        return f"{value:.3g}"
    return format_seconds(value) if kind == "latency" else format_cost(value)


def format_p(p_value: float) -> str:
    return "p < 0.001" if p_value < 0.001 else f"p = {p_value:.3f}"


def format_seconds(seconds: float) -> str:
    return f"{seconds * 1000:.0f} ms" if abs(seconds) < 1 else f"{seconds:.2f} s"


def format_cost(dollars: float) -> str:
    return f"${dollars:.6f}"


# kind -> (how the value is summarised, words for b above a, words for b below a, amount formatter)
_WORDING = {
    "latency": ("at the median", "slower", "faster", format_seconds),
    "cost": ("on average", "more expensive", "cheaper", format_cost),
    "numeric": ("on average", "higher", "lower", lambda v: f"{v:.3g}"),
    "boolean": ("", "more often", "less often", lambda v: f"{v * 100:.1f} percentage points"),
}


def compare(
    metric: str, kind: str, version_a: int, version_b: int, a: Sequence[float], b: Sequence[float]
) -> Comparison:
    """Compare per-generation values of one metric (booleans as 0/1) between two versions."""
    summary = _summary(kind)
    value_a = summary(a) if a else None
    value_b = summary(b) if b else None
    counts = f"n = {len(a)} vs {len(b)}"
    comparison = Comparison(metric, kind, version_a, version_b, len(a), len(b), value_a, value_b, None, "")
    if not comparison.enough_data:
        sentence = f"Not enough data ({counts}); at least {MIN_SAMPLE} per version are needed for a test."
        return replace(comparison, sentence=sentence)
    if kind == "boolean":
        result = two_proportion_z(round(sum(a)), len(a), round(sum(b)), len(b))
    else:
        result = mann_whitney_u(a, b)
    comparison = replace(comparison, p_value=result.p_value)
    verdict = "significant" if comparison.significant else "not significant"
    sentence = f"{_effect(comparison)}; the difference is {verdict} ({format_p(result.p_value)}, {counts})."
    return replace(comparison, sentence=sentence)


def _summary(kind: str):
    return statistics.median if kind == "latency" else statistics.fmean


def _effect(c: Comparison) -> str:
    where, up, down, amount = _WORDING[c.kind]
    difference = c.difference or 0.0
    subject = f"Version {c.version_b}"
    topic = f" on {c.metric}" if c.kind in ("numeric", "boolean") else ""
    if difference == 0:
        return f"{subject} and version {c.version_a} have the same {_measure(c)}"
    relative = f" ({abs(c.relative):.1f}%)" if c.relative is not None and c.kind != "boolean" else ""
    direction = up if difference > 0 else down
    if c.kind == "boolean":
        return f"{subject} passes {c.metric} {amount(abs(difference))} {direction} than version {c.version_a}"
    return f"{subject} is {amount(abs(difference))}{relative} {direction}{topic} {where} than version {c.version_a}"


def _measure(c: Comparison) -> str:
    return {
        "latency": "median latency",
        "cost": "average cost",
        "numeric": f"average {c.metric}",
        "boolean": f"{c.metric} pass rate",
    }[c.kind]
