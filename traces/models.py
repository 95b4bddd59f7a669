"""Traces, observations, scores, sessions, comments, media and model prices.

Data tables (traces, observations, scores, ...) carry project_id first in every key and
index, so they can be distributed by project on Citus later. Their ids are the ids the
clients chose: 32/16 hex from OpenTelemetry, UUIDs from the v2 SDKs.
"""

from __future__ import annotations

from django.contrib.postgres.fields import ArrayField
from django.contrib.postgres.indexes import GinIndex
from django.db import models
from django.db.models import Q
from django.db.models.functions import Coalesce
from django.utils import timezone

from langfuse_ui.ids import new_id

COST = {"max_digits": 30, "decimal_places": 12}


def project_fk(**kwargs) -> models.ForeignKey:
    # No database constraint: project deletion removes data rows by project_id in bulk,
    # and distributed tables cannot always reference the projects table.
    # No index of its own either: every key and index of a data table leads with project_id.
    return models.ForeignKey(
        "accounts.Project",
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        db_index=False,
        related_name="+",
        **kwargs,
    )


class Level(models.TextChoices):
    DEBUG = "DEBUG"
    DEFAULT = "DEFAULT"
    WARNING = "WARNING"
    ERROR = "ERROR"


class ObservationType(models.TextChoices):
    SPAN = "SPAN"
    GENERATION = "GENERATION"
    EVENT = "EVENT"
    AGENT = "AGENT"
    TOOL = "TOOL"
    CHAIN = "CHAIN"
    RETRIEVER = "RETRIEVER"
    EVALUATOR = "EVALUATOR"
    EMBEDDING = "EMBEDDING"
    GUARDRAIL = "GUARDRAIL"


class ProjectScopedQuerySet(models.QuerySet):
    def for_project(self, project) -> ProjectScopedQuerySet:
        return self.filter(project_id=getattr(project, "pk", project))


class TraceQuerySet(ProjectScopedQuerySet):
    def between(self, start=None, end=None) -> TraceQuerySet:
        qs = self
        if start is not None:
            qs = qs.filter(timestamp__gte=start)
        if end is not None:
            qs = qs.filter(timestamp__lt=end)
        return qs


class Trace(models.Model):
    pk = models.CompositePrimaryKey("project_id", "id")
    project = project_fk()
    id = models.CharField(max_length=800)
    timestamp = models.DateTimeField(default=timezone.now)
    name = models.CharField(max_length=1000, null=True, blank=True)
    user_id = models.CharField(max_length=800, null=True, blank=True)
    session_id = models.CharField(max_length=800, null=True, blank=True)
    release = models.CharField(max_length=800, null=True, blank=True)
    version = models.CharField(max_length=800, null=True, blank=True)
    environment = models.CharField(max_length=40, default="default")
    external_id = models.CharField(max_length=800, null=True, blank=True)
    tags = ArrayField(models.CharField(max_length=800), default=list, blank=True)
    metadata = models.JSONField(default=dict, blank=True)
    input = models.JSONField(null=True, blank=True)
    output = models.JSONField(null=True, blank=True)
    public = models.BooleanField(default=False)
    bookmarked = models.BooleanField(default=False)
    # Aggregates over the trace's observations, kept current at ingestion so the
    # traces list never has to join observations.
    start_time = models.DateTimeField(null=True, blank=True)
    end_time = models.DateTimeField(null=True, blank=True)
    observation_count = models.IntegerField(default=0)
    input_tokens = models.BigIntegerField(default=0)
    output_tokens = models.BigIntegerField(default=0)
    total_tokens = models.BigIntegerField(default=0)
    input_cost = models.DecimalField(default=0, **COST)
    output_cost = models.DecimalField(default=0, **COST)
    total_cost = models.DecimalField(default=0, **COST)
    error_count = models.IntegerField(default=0)
    warning_count = models.IntegerField(default=0)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    objects = TraceQuerySet.as_manager()

    class Meta:
        db_table = "traces"
        indexes = [
            models.Index(fields=["project", "-timestamp"], name="trace_time"),
            models.Index(fields=["project", "name", "-timestamp"], name="trace_name_time"),
            models.Index(fields=["project", "user_id", "-timestamp"], name="trace_user_time"),
            models.Index(fields=["project", "session_id", "-timestamp"], name="trace_session_time"),
            models.Index(fields=["project", "environment", "-timestamp"], name="trace_env_time"),
            models.Index(fields=["project", "release", "-timestamp"], name="trace_release_time"),
            models.Index(fields=["project", "version", "-timestamp"], name="trace_version_time"),
            # The level filter (traces/list_queries.py): rows with errors, and with warnings but no
            # error, newest first; each as small as the rows it holds.
            models.Index(
                fields=["project", "-timestamp"], name="trace_error_time", condition=Q(error_count__gt=0)
            ),
            models.Index(
                fields=["project", "-timestamp"],
                name="trace_warning_time",
                condition=Q(error_count=0, warning_count__gt=0),
            ),
            models.Index(fields=["project", "-total_cost"], name="trace_cost"),
            GinIndex(fields=["project", "tags"], name="trace_tags"),
            GinIndex(fields=["project", "metadata"], name="trace_metadata"),
        ]

    @property
    def latency_seconds(self) -> float | None:
        if self.start_time and self.end_time:
            return (self.end_time - self.start_time).total_seconds()
        return None


class ObservationQuerySet(ProjectScopedQuerySet):
    def in_trace(self, trace_id: str) -> ObservationQuerySet:
        return self.filter(trace_id=trace_id)


class Observation(models.Model):
    pk = models.CompositePrimaryKey("project_id", "id")
    project = project_fk()
    id = models.CharField(max_length=800)
    trace_id = models.CharField(max_length=800, null=True, blank=True)
    parent_observation_id = models.CharField(max_length=800, null=True, blank=True)
    type = models.CharField(max_length=12, choices=ObservationType.choices, default=ObservationType.SPAN)
    name = models.CharField(max_length=1000, null=True, blank=True)
    start_time = models.DateTimeField(default=timezone.now)
    end_time = models.DateTimeField(null=True, blank=True)
    completion_start_time = models.DateTimeField(null=True, blank=True)
    level = models.CharField(max_length=8, choices=Level.choices, default=Level.DEFAULT)
    status_message = models.TextField(null=True, blank=True)
    version = models.CharField(max_length=800, null=True, blank=True)
    environment = models.CharField(max_length=40, default="default")
    metadata = models.JSONField(default=dict, blank=True)
    input = models.JSONField(null=True, blank=True)
    output = models.JSONField(null=True, blank=True)
    provided_model_name = models.CharField(max_length=800, null=True, blank=True)
    internal_model_id = models.CharField(max_length=64, null=True, blank=True)
    model_parameters = models.JSONField(null=True, blank=True)
    # usage_details: {"input": 12, "output": 5, "total": 17, "input_cached_tokens": 2, ...}
    provided_usage_details = models.JSONField(default=dict, blank=True)
    usage_details = models.JSONField(default=dict, blank=True)
    # cost_details: {"input": 0.0012, "output": 0.0005, "total": 0.0017, ...} in USD
    provided_cost_details = models.JSONField(default=dict, blank=True)
    cost_details = models.JSONField(default=dict, blank=True)
    total_cost = models.DecimalField(null=True, blank=True, **COST)
    usage_pricing_tier_id = models.CharField(max_length=64, null=True, blank=True)
    usage_pricing_tier_name = models.CharField(max_length=200, null=True, blank=True)
    prompt_id = models.CharField(max_length=64, null=True, blank=True)
    prompt_name = models.CharField(max_length=800, null=True, blank=True)
    prompt_version = models.IntegerField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    objects = ObservationQuerySet.as_manager()

    class Meta:
        db_table = "observations"
        indexes = [
            models.Index(fields=["project", "trace_id", "start_time"], name="obs_trace"),
            # The model filter of the traces list probes each trace for an observation of the model:
            # index-only here (duplicates of (trace, model) are stored once, so it is small).
            models.Index(fields=["project", "trace_id", "provided_model_name"], name="obs_trace_model"),
            # (project, start_time) is served by obs_dashboard (migration 0005), a covering index.
            models.Index(fields=["project", "type", "-start_time"], name="obs_type_time"),
            models.Index(fields=["project", "provided_model_name", "-start_time"], name="obs_model_time"),
            models.Index(fields=["project", "prompt_name", "prompt_version"], name="obs_prompt"),
        ]

    @property
    def latency_seconds(self) -> float | None:
        if self.end_time:
            return (self.end_time - self.start_time).total_seconds()
        return None


class ScoreDataType(models.TextChoices):
    NUMERIC = "NUMERIC"
    CATEGORICAL = "CATEGORICAL"
    BOOLEAN = "BOOLEAN"


class ScoreSource(models.TextChoices):
    API = "API"
    ANNOTATION = "ANNOTATION"
    EVAL = "EVAL"


class Score(models.Model):
    """An evaluation of a trace, an observation or a session."""

    pk = models.CompositePrimaryKey("project_id", "id")
    project = project_fk()
    id = models.CharField(max_length=800)
    timestamp = models.DateTimeField(default=timezone.now)
    trace_id = models.CharField(max_length=800, null=True, blank=True)
    observation_id = models.CharField(max_length=800, null=True, blank=True)
    session_id = models.CharField(max_length=800, null=True, blank=True)
    dataset_run_id = models.CharField(max_length=800, null=True, blank=True)
    name = models.CharField(max_length=800)
    value = models.FloatField(null=True, blank=True)
    string_value = models.CharField(max_length=800, null=True, blank=True)
    data_type = models.CharField(max_length=12, choices=ScoreDataType.choices, default=ScoreDataType.NUMERIC)
    source = models.CharField(max_length=12, choices=ScoreSource.choices, default=ScoreSource.API)
    comment = models.TextField(null=True, blank=True)
    metadata = models.JSONField(default=dict, blank=True)
    config_id = models.CharField(max_length=64, null=True, blank=True)
    queue_id = models.CharField(max_length=64, null=True, blank=True)
    author_user_id = models.BigIntegerField(null=True, blank=True)
    environment = models.CharField(max_length=40, default="default")
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    objects = ProjectScopedQuerySet.as_manager()

    class Meta:
        db_table = "scores"
        indexes = [
            models.Index(fields=["project", "trace_id"], name="score_trace"),
            models.Index(fields=["project", "observation_id"], name="score_observation"),
            models.Index(fields=["project", "session_id"], name="score_session"),
            models.Index(fields=["project", "name", "-timestamp"], name="score_name_time"),
            models.Index(fields=["project", "-timestamp"], name="score_time"),
        ]


class ScoreConfig(models.Model):
    id = models.CharField(primary_key=True, max_length=64, default=new_id, editable=False)
    project = models.ForeignKey("accounts.Project", on_delete=models.CASCADE, related_name="score_configs")
    name = models.CharField(max_length=35)
    data_type = models.CharField(max_length=12, choices=ScoreDataType.choices)
    is_archived = models.BooleanField(default=False)
    min_value = models.FloatField(null=True, blank=True)
    max_value = models.FloatField(null=True, blank=True)
    categories = models.JSONField(null=True, blank=True)  # [{"label": "good", "value": 1}, ...]
    description = models.TextField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ProjectScopedQuerySet.as_manager()

    class Meta:
        indexes = [models.Index(fields=["project", "name"], name="score_config_name")]


class TraceSession(models.Model):
    """UI state of a session (bookmark, public). Membership lives in traces.session_id."""

    pk = models.CompositePrimaryKey("project_id", "id")
    project = project_fk()
    id = models.CharField(max_length=800)
    environment = models.CharField(max_length=40, default="default")
    bookmarked = models.BooleanField(default=False)
    public = models.BooleanField(default=False)
    created_at = models.DateTimeField(default=timezone.now)

    objects = ProjectScopedQuerySet.as_manager()

    class Meta:
        db_table = "trace_sessions"


class CommentObjectType(models.TextChoices):
    TRACE = "TRACE"
    OBSERVATION = "OBSERVATION"
    SESSION = "SESSION"
    PROMPT = "PROMPT"


class Comment(models.Model):
    pk = models.CompositePrimaryKey("project_id", "id")
    project = project_fk()
    id = models.CharField(max_length=64, default=new_id)
    object_type = models.CharField(max_length=12, choices=CommentObjectType.choices)
    object_id = models.CharField(max_length=800)
    content = models.TextField()
    author_user_id = models.BigIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    objects = ProjectScopedQuerySet.as_manager()

    class Meta:
        db_table = "comments"
        indexes = [models.Index(fields=["project", "object_type", "object_id"], name="comment_object")]


class Media(models.Model):
    """A file uploaded by a client; the id is the SDK's base64url(sha256)[:22]."""

    pk = models.CompositePrimaryKey("project_id", "id")
    project = project_fk()
    id = models.CharField(max_length=64)
    sha256_hash = models.CharField(max_length=44)
    content_type = models.CharField(max_length=255)
    content_length = models.BigIntegerField()
    bucket_name = models.CharField(max_length=255, blank=True)
    bucket_path = models.CharField(max_length=1024)
    uploaded_at = models.DateTimeField(null=True, blank=True)
    upload_http_status = models.IntegerField(null=True, blank=True)
    upload_http_error = models.TextField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    objects = ProjectScopedQuerySet.as_manager()

    class Meta:
        db_table = "media"
        constraints = [models.UniqueConstraint(fields=["project", "sha256_hash"], name="media_hash_unique")]


class MediaReference(models.Model):
    """Which trace or observation field refers to a media object."""

    project = project_fk()
    media_id = models.CharField(max_length=64)
    trace_id = models.CharField(max_length=800)
    observation_id = models.CharField(max_length=800, null=True, blank=True)
    field = models.CharField(max_length=20)  # input, output, metadata
    created_at = models.DateTimeField(default=timezone.now)

    objects = ProjectScopedQuerySet.as_manager()

    class Meta:
        db_table = "media_references"
        indexes = [
            models.Index(fields=["project", "trace_id"], name="media_ref_trace"),
            models.Index(fields=["project", "media_id"], name="media_ref_media"),
        ]
        constraints = [
            models.UniqueConstraint(
                "project",
                "media_id",
                "trace_id",
                Coalesce("observation_id", models.Value("")),
                "field",
                name="media_ref_unique",
            )
        ]


class LlmModelQuerySet(models.QuerySet):
    def defaults(self) -> LlmModelQuerySet:
        return self.filter(project__isnull=True)

    def available_to(self, project) -> LlmModelQuerySet:
        return self.filter(
            models.Q(project__isnull=True) | models.Q(project_id=getattr(project, "pk", project))
        )


class LlmModel(models.Model):
    """A model definition with prices. project=None marks a managed default."""

    id = models.CharField(primary_key=True, max_length=64, default=new_id, editable=False)
    project = models.ForeignKey(
        "accounts.Project", on_delete=models.CASCADE, null=True, blank=True, related_name="llm_models"
    )
    model_name = models.CharField(max_length=200)
    match_pattern = models.CharField(max_length=800)
    start_date = models.DateTimeField(null=True, blank=True)
    unit = models.CharField(max_length=20, null=True, blank=True)
    tokenizer_id = models.CharField(max_length=40, null=True, blank=True)
    tokenizer_config = models.JSONField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    objects = LlmModelQuerySet.as_manager()

    class Meta:
        db_table = "models"
        indexes = [models.Index(fields=["project", "model_name"], name="model_name")]
        constraints = [
            models.UniqueConstraint(
                "project",
                "model_name",
                Coalesce(
                    "start_date", models.Value("1970-01-01T00:00:00Z", output_field=models.DateTimeField())
                ),
                name="model_unique_name_start",
                nulls_distinct=False,
            )
        ]

    def __str__(self) -> str:
        return self.model_name


class PricingTier(models.Model):
    id = models.CharField(primary_key=True, max_length=64, default=new_id, editable=False)
    model = models.ForeignKey(LlmModel, on_delete=models.CASCADE, related_name="pricing_tiers")
    name = models.CharField(max_length=200)
    is_default = models.BooleanField(default=False)
    priority = models.IntegerField(default=0)
    # [{"usageDetailPattern": "input", "operator": "gt", "value": 200000}, or
    #  {"source": "model_parameters", "key": "service_tier", "operator": "in", "values": [...]}]
    conditions = models.JSONField(default=list, blank=True)

    class Meta:
        db_table = "pricing_tiers"
        ordering = ["priority"]
        constraints = [
            models.UniqueConstraint(fields=["model", "priority"], name="tier_priority_unique"),
            models.UniqueConstraint(fields=["model", "name"], name="tier_name_unique"),
        ]


class Price(models.Model):
    model = models.ForeignKey(LlmModel, on_delete=models.CASCADE, related_name="prices")
    pricing_tier = models.ForeignKey(PricingTier, on_delete=models.CASCADE, related_name="prices")
    usage_type = models.CharField(max_length=100)
    price = models.DecimalField(**COST)

    class Meta:
        db_table = "prices"
        constraints = [
            models.UniqueConstraint(fields=["pricing_tier", "usage_type"], name="price_unique_per_tier"),
        ]


class SavedView(models.Model):
    """A named traces-list state (filters, sort, columns) shared by a project's members."""

    id = models.CharField(primary_key=True, max_length=64, default=new_id, editable=False)
    project = models.ForeignKey("accounts.Project", on_delete=models.CASCADE, related_name="saved_views")
    name = models.CharField(max_length=120)
    query_string = models.CharField(max_length=4000, blank=True)
    created_by = models.ForeignKey(
        "accounts.User", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    objects = ProjectScopedQuerySet.as_manager()

    class Meta:
        db_table = "saved_views"
        ordering = ["name"]
        indexes = [models.Index(fields=["project", "name"], name="saved_view_name")]

    def __str__(self) -> str:
        return self.name


class LlmConnection(models.Model):
    """An OpenAI-compatible endpoint (e.g. a LiteLLM proxy) the playground may call for a project.

    The API key is stored only encrypted (traces.llm_connections.encrypt_key); it is never shown again.
    """

    id = models.CharField(primary_key=True, max_length=64, default=new_id, editable=False)
    project = models.ForeignKey("accounts.Project", on_delete=models.CASCADE, related_name="llm_connections")
    name = models.CharField(max_length=120)
    base_url = models.CharField(max_length=2000)
    encrypted_api_key = models.TextField(blank=True)
    key_hint = models.CharField(max_length=16, blank=True)
    default_model = models.CharField(max_length=800, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    objects = ProjectScopedQuerySet.as_manager()

    class Meta:
        db_table = "llm_connections"
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["project", "name"], name="llm_connection_name_unique"),
        ]

    def __str__(self) -> str:
        return self.name


class ExportFormat(models.TextChoices):
    CSV = "csv", "CSV"
    JSONL = "jsonl", "JSON Lines"


class ExportStatus(models.TextChoices):
    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"


class ExportSource(models.TextChoices):
    TRACES = "traces", "Traces"
    SESSIONS = "sessions", "Sessions"


class ExportKind(models.TextChoices):
    MANUAL = "manual"  # started by a person from the traces list
    DAILY = "daily"  # the scheduled export of one UTC day


class ExportJob(models.Model):
    """An export of traces or sessions to the export bucket, run by a worker (traces/export_jobs.py).

    A worker claims a queued job (or one whose worker stopped sending heartbeats) with
    SELECT ... FOR UPDATE SKIP LOCKED, so replicas never run the same job twice at once.
    """

    id = models.CharField(primary_key=True, max_length=64, default=new_id, editable=False)
    project = models.ForeignKey("accounts.Project", on_delete=models.CASCADE, related_name="export_jobs")
    requested_by = models.ForeignKey(
        "accounts.User", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    kind = models.CharField(max_length=10, choices=ExportKind.choices, default=ExportKind.MANUAL)
    source = models.CharField(max_length=10, choices=ExportSource.choices, default=ExportSource.TRACES)
    format = models.CharField(max_length=10, choices=ExportFormat.choices, default=ExportFormat.CSV)
    filter_query = models.CharField(max_length=4000, blank=True)  # the list's query string
    as_of = models.DateTimeField(default=timezone.now)  # time presets of the filter count back from it
    day = models.DateField(null=True, blank=True)  # the UTC day of a daily export
    status = models.CharField(max_length=10, choices=ExportStatus.choices, default=ExportStatus.QUEUED)
    rows_written = models.BigIntegerField(default=0)
    total_estimate = models.BigIntegerField(null=True, blank=True)
    bucket = models.CharField(max_length=255, blank=True)
    object_key = models.CharField(max_length=1024, blank=True)
    error = models.TextField(blank=True)
    attempts = models.IntegerField(default=0)
    worker = models.CharField(max_length=128, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    objects = ProjectScopedQuerySet.as_manager()

    class Meta:
        db_table = "export_jobs"
        indexes = [
            models.Index(fields=["project", "-created_at"], name="export_job_project"),
            models.Index(
                fields=["created_at"],
                name="export_job_pending",
                condition=models.Q(status__in=["queued", "running"]),
            ),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["project", "day"], condition=models.Q(kind="daily"), name="export_job_daily_unique"
            )
        ]

    @property
    def finished(self) -> bool:
        return self.status in (ExportStatus.DONE, ExportStatus.FAILED)

    @property
    def percent(self) -> int | None:
        if not self.total_estimate:
            return None
        return min(100, round(100 * self.rows_written / self.total_estimate))


class ExportSchedule(models.Model):
    """A project's scheduled export: each UTC day's traces to the export bucket, once a day."""

    project = models.OneToOneField(
        "accounts.Project", on_delete=models.CASCADE, primary_key=True, related_name="export_schedule"
    )
    enabled = models.BooleanField(default=False)
    format = models.CharField(max_length=10, choices=ExportFormat.choices, default=ExportFormat.JSONL)
    updated_at = models.DateTimeField(default=timezone.now)
    updated_by = models.ForeignKey(
        "accounts.User", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        db_table = "export_schedules"
