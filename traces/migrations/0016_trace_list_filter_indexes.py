"""Indexes for the single filters of the traces list that had none (docs/benchmarks.md, "Trace list
filters at 1.34 M traces").

- release and version: (project, value, timestamp), like name, user, session and environment; without
  them a release of last month walked every newer trace (3.9 s at 1.34 M traces) and a version
  nobody has scanned the project (0.6 s).
- the level filter: partial indexes of the traces with an error, and with a warning but no error,
  newest first, so a rare level costs what its rows cost.
- the model filter probes each trace for an observation of the model: (project, trace_id, model)
  answers the probe from the index alone; B-tree deduplication keeps it at a third of obs_trace.

Built CONCURRENTLY: on a large install the observations index takes a while and must not hold
ingestion back.
"""

from django.contrib.postgres.operations import AddIndexConcurrently
from django.db import migrations, models


class Migration(migrations.Migration):
    atomic = False
    dependencies = [("traces", "0015_dashboard_latency_days")]

    operations = [
        AddIndexConcurrently(
            model_name="trace",
            index=models.Index(fields=["project", "release", "-timestamp"], name="trace_release_time"),
        ),
        AddIndexConcurrently(
            model_name="trace",
            index=models.Index(fields=["project", "version", "-timestamp"], name="trace_version_time"),
        ),
        AddIndexConcurrently(
            model_name="trace",
            index=models.Index(
                fields=["project", "-timestamp"],
                name="trace_error_time",
                condition=models.Q(error_count__gt=0),
            ),
        ),
        AddIndexConcurrently(
            model_name="trace",
            index=models.Index(
                fields=["project", "-timestamp"],
                name="trace_warning_time",
                condition=models.Q(error_count=0, warning_count__gt=0),
            ),
        ),
        AddIndexConcurrently(
            model_name="observation",
            index=models.Index(fields=["project", "trace_id", "provided_model_name"], name="obs_trace_model"),
        ),
    ]
