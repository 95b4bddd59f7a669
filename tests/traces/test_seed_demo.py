from __future__ import annotations

from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from accounts.models import Organization, Project
from prompts.models import Prompt
from tests.factories import make_project
from traces.models import LlmModel, Observation, Price, PricingTier, Score, Trace

pytestmark = pytest.mark.django_db

NOW = "2025-03-14T12:00:00+00:00"


def seed(project: Project | None = None, *, traces: int = 60, seed: int = 7, **extra) -> str:
    args = ["seed_demo", "--traces", str(traces), "--days", "5", "--seed", str(seed), "--now", NOW]
    if project is not None:
        args += ["--project", project.pk]
    for name, value in extra.items():
        args += [f"--{name.replace('_', '-')}", str(value)]
    out = StringIO()
    call_command(*args, stdout=out, stderr=StringIO())
    return out.getvalue()


def snapshot(project: Project) -> dict[str, list[dict]]:
    return {
        model.__name__: list(model.objects.for_project(project).order_by("id").values())
        for model in (Trace, Observation, Score)
    }


def delete_data(project: Project) -> None:
    for model in (Trace, Observation, Score):
        model.objects.for_project(project).delete()


@pytest.fixture
def project():
    return make_project()


def test_same_seed_gives_identical_rows(project):
    seed(project)
    first = snapshot(project)
    delete_data(project)
    seed(project)
    assert snapshot(project) == first
    assert len(first["Trace"]) == 60
    assert len(first["Observation"]) > 60 * 3
    assert first["Score"]


def test_another_seed_gives_other_traces(project):
    seed(project, seed=1)
    seed(project, seed=2)
    assert Trace.objects.for_project(project).count() == 120


def test_rerun_with_same_seed_does_not_duplicate(project):
    seed(project)
    counts = {name: len(rows) for name, rows in snapshot(project).items()}
    output = seed(project)
    assert "0 traces created" in output and "60 already present" in output
    assert {name: len(rows) for name, rows in snapshot(project).items()} == counts


def test_more_traces_with_same_seed_keeps_the_first_ones_and_adds_the_rest(project):
    seed(project, traces=20)
    before = snapshot(project)
    output = seed(project, traces=30, chunk_size=7)
    assert "10 traces created" in output and "20 already present" in output
    after = snapshot(project)
    assert len(after["Trace"]) == 30
    assert all(row in after["Trace"] for row in before["Trace"])


AGGREGATE_MISMATCHES = """
WITH sums AS (
  SELECT o.trace_id,
         count(*) AS n, min(o.start_time) AS s, max(o.end_time) AS e,
         coalesce(sum((o.usage_details->>'input')::bigint), 0) AS it,
         coalesce(sum((o.usage_details->>'output')::bigint), 0) AS ot,
         coalesce(sum((o.usage_details->>'total')::bigint), 0) AS tt,
         coalesce(sum((SELECT sum(value::numeric) FROM jsonb_each_text(o.cost_details)
                       WHERE key LIKE '%%input%%')), 0) AS ic,
         coalesce(sum((SELECT sum(value::numeric) FROM jsonb_each_text(o.cost_details)
                       WHERE key LIKE '%%output%%')), 0) AS oc,
         coalesce(sum(o.total_cost), 0) AS tc,
         count(*) FILTER (WHERE o.level = 'ERROR') AS errors,
         count(*) FILTER (WHERE o.level = 'WARNING') AS warnings
  FROM observations o WHERE o.project_id = %(project)s GROUP BY 1
)
SELECT t.id FROM traces t LEFT JOIN sums ON sums.trace_id = t.id
WHERE t.project_id = %(project)s AND NOT (
  t.observation_count = coalesce(sums.n, 0)
  AND t.start_time IS NOT DISTINCT FROM sums.s AND t.end_time IS NOT DISTINCT FROM sums.e
  AND t.input_tokens = sums.it AND t.output_tokens = sums.ot AND t.total_tokens = sums.tt
  AND t.input_cost = sums.ic AND t.output_cost = sums.oc AND t.total_cost = sums.tc
  AND t.error_count = sums.errors AND t.warning_count = sums.warnings
)
"""


def test_trace_aggregates_equal_the_sums_over_their_observations(project):
    seed(project, traces=120)
    with connection.cursor() as cursor:
        cursor.execute(AGGREGATE_MISMATCHES, {"project": project.pk})
        assert cursor.fetchall() == []
    totals = Trace.objects.for_project(project).order_by().values_list("total_cost", "input_tokens")
    assert sum(cost for cost, _ in totals) > 0
    assert sum(tokens for _, tokens in totals) > 0


def test_observation_total_cost_equals_its_cost_details_total(project):
    seed(project)
    generations = Observation.objects.for_project(project).filter(total_cost__isnull=False)
    assert generations.exists()
    for row in generations:
        assert Decimal(str(row.cost_details["total"])) == row.total_cost


def test_it_covers_models_levels_environments_and_metadata(project):
    seed(project, traces=150)
    observations = Observation.objects.for_project(project)
    models = set(observations.exclude(provided_model_name=None).values_list("provided_model_name", flat=True))
    assert {"gpt-4o", "gpt-4o-mini", "claude-3-5-sonnet-20241022"} <= models
    assert len(models) >= 5
    levels = set(observations.values_list("level", flat=True))
    assert {"DEFAULT", "WARNING", "ERROR"} <= levels
    assert not observations.filter(level__in=["WARNING", "ERROR"], status_message=None).exists()
    assert {"GENERATION", "AGENT", "TOOL", "RETRIEVER", "SPAN", "EVENT", "EMBEDDING"} <= set(
        observations.values_list("type", flat=True)
    )
    traces = Trace.objects.for_project(project)
    assert set(traces.values_list("environment", flat=True)) == {"production", "staging"}
    assert traces.exclude(metadata__has_key="team").count() == 0
    assert traces.exclude(user_id=None).values("user_id").distinct().count() > 5
    assert traces.exclude(session_id=None).values("session_id").distinct().count() > 5
    assert traces.exclude(release=None).values("release").distinct().count() >= 3
    assert traces.filter(tags__contains=["agent"]).exists()
    assert traces.filter(error_count__gt=0).exists() and traces.filter(warning_count__gt=0).exists()
    cached = observations.filter(
        usage_details__has_any_keys=["input_cached_tokens", "cache_read_input_tokens"]
    )
    assert cached.exists()


def test_observations_nest_and_carry_chat_messages(project):
    seed(project, traces=80)
    observations = {o.id: o for o in Observation.objects.for_project(project)}
    embedding = next(o for o in observations.values() if o.type == "EMBEDDING")
    retriever = observations[embedding.parent_observation_id]
    assert retriever.type == "RETRIEVER"
    assert observations[retriever.parent_observation_id].parent_observation_id is None
    agent_children = [o for o in observations.values() if o.parent_observation_id
                      and observations[o.parent_observation_id].type == "AGENT"]  # fmt: skip
    assert {"TOOL", "GENERATION"} <= {o.type for o in agent_children}
    chat = next(o for o in observations.values() if o.name == "compose-answer" and o.output)
    assert chat.input[0]["role"] == "system" and chat.input[-1]["role"] in {"user", "tool"}
    assert chat.output["role"] == "assistant"
    for o in observations.values():
        assert o.trace_id and o.start_time <= o.end_time


def test_scores_have_all_three_data_types(project):
    seed(project, traces=150)
    scores = Score.objects.for_project(project)
    assert set(scores.values_list("data_type", flat=True)) == {"NUMERIC", "CATEGORICAL", "BOOLEAN"}
    assert not scores.filter(data_type="CATEGORICAL", string_value=None).exists()
    assert set(scores.filter(data_type="BOOLEAN").values_list("value", flat=True)) <= {0.0, 1.0}
    assert scores.exclude(observation_id=None).exists()
    trace_ids = set(Trace.objects.for_project(project).values_list("id", flat=True))
    assert set(scores.values_list("trace_id", flat=True)) <= trace_ids


def test_prompts_have_versions_and_labels_and_generations_link_to_them(project):
    seed(project)
    prompts = Prompt.objects.for_project(project)
    names = set(prompts.values_list("name", flat=True))
    assert len(names) >= 2
    for name in names:
        versions = list(prompts.named(name).order_by("version"))
        assert len(versions) >= 2
        assert "latest" in versions[-1].labels
        assert prompts.named(name).labelled("production").count() == 1
    linked = Observation.objects.for_project(project).exclude(prompt_id=None)
    assert linked.exists()
    by_id = {p.id: p for p in prompts}
    for o in linked:
        assert (by_id[o.prompt_id].name, by_id[o.prompt_id].version) == (o.prompt_name, o.prompt_version)
    seed(project, seed=99)
    assert Prompt.objects.for_project(project).count() == len(by_id)


def test_costs_follow_the_default_price_table(project):
    seed(project)
    generation = (
        Observation.objects.for_project(project)
        .filter(provided_model_name="gpt-4o", level="DEFAULT")
        .exclude(usage_details={})
        .first()
    )
    model = LlmModel.objects.defaults().get(model_name="gpt-4o")
    prices = dict(
        Price.objects.filter(pricing_tier__model=model, pricing_tier__is_default=True).values_list(
            "usage_type", "price"
        )
    )
    assert generation.internal_model_id == model.id
    expected = generation.usage_details["input"] * prices["input"]
    assert Decimal(str(generation.cost_details["input"])) == expected
    assert (
        Decimal(str(generation.cost_details["output"]))
        == generation.usage_details["output"] * prices["output"]
    )


def test_empty_price_table_is_loaded_first(project):
    LlmModel.objects.defaults().delete()
    seed(project, traces=20)
    assert LlmModel.objects.defaults().filter(model_name="gpt-4o-mini").exists()
    assert Observation.objects.for_project(project).filter(total_cost__gt=0).exists()


def test_a_project_model_wins_over_the_default(project):
    custom = LlmModel.objects.create(project=project, model_name="our-gpt-4o", match_pattern=r"(?i)^gpt-4o$")
    tier = PricingTier.objects.create(model=custom, name="Standard", is_default=True)
    Price.objects.bulk_create(
        [
            Price(model=custom, pricing_tier=tier, usage_type=kind, price=Decimal(1))
            for kind in ("input", "output")
        ]
    )
    seed(project)
    row = (
        Observation.objects.for_project(project)
        .filter(provided_model_name="gpt-4o")
        .exclude(total_cost=None)[0]
    )
    assert row.internal_model_id == custom.id
    assert Decimal(str(row.cost_details["input"])) == row.usage_details["input"]


def test_without_project_it_uses_the_demo_project():
    output = seed(traces=10)
    project = Project.objects.get(pk="demo-project")
    assert project.organization_id == "demo-org"
    assert Organization.objects.get(pk="demo-org").name == "Demo Organization"
    assert Trace.objects.for_project(project).count() == 10
    assert "10 traces created" in output
    seed(traces=10)
    assert Project.objects.filter(pk="demo-project").count() == 1


def test_unknown_project_is_an_error():
    with pytest.raises(CommandError, match="nope"):
        seed(Project(pk="nope"))


def test_it_prints_progress_and_a_final_count(project):
    output = seed(project, traces=25, chunk_size=10)
    assert "10/25 traces" in output and "20/25 traces" in output and "25/25 traces" in output
    assert output.strip().splitlines()[-1].startswith("Done in")
