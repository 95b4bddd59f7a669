"""Two versions of a prompt side by side: their metrics and, per metric, whether the difference is significant."""

from __future__ import annotations

from dataclasses import dataclass, field

from accounts.models import Project
from prompts.queries import SAMPLE_LIMIT, VersionMetrics, version_metrics, version_samples
from prompts.stats import Comparison, compare


@dataclass
class VersionComparison:
    a: VersionMetrics
    b: VersionMetrics
    rows: list[Comparison] = field(default_factory=list)
    sample_limit: int = SAMPLE_LIMIT

    @property
    def score_names(self) -> list[str]:
        return sorted(set(self.a.scores) | set(self.b.scores))


def compare_versions(project: Project, name: str, version_a: int, version_b: int) -> VersionComparison:
    """Latency, cost and every numeric or boolean score of version a against version b (six queries)."""
    metrics = version_metrics(project, name)
    found = VersionComparison(
        metrics.get(version_a) or VersionMetrics(version_a),
        metrics.get(version_b) or VersionMetrics(version_b),
    )
    a, b = version_samples(project, name, version_a), version_samples(project, name, version_b)
    found.rows.append(compare("Latency", "latency", version_a, version_b, a.latencies, b.latencies))
    found.rows.append(compare("Cost", "cost", version_a, version_b, a.costs, b.costs))
    for score_name, data_type in sorted(set(a.scores) | set(b.scores)):
        kind = "boolean" if data_type == "BOOLEAN" else "numeric"
        values_a, values_b = (
            a.scores.get((score_name, data_type), []),
            b.scores.get((score_name, data_type), []),
        )
        found.rows.append(compare(score_name, kind, version_a, version_b, values_a, values_b))
    return found
