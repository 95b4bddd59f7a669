"""Dashboard rollups refreshed by hour in the background; writers only mark the hours they change.

Migration 0010 kept the rollups exact inside every write: statement-level triggers aggregated the
changed rows into signed delta rows. That work roughly doubled PostgreSQL's CPU per ingested span
(docs/benchmarks.md). Now the triggers on traces and observations only append (project, hour) to
dashboard_dirty_hours, and traces/dashboards/rollups.refresh recomputes the rollup rows of marked
hours from the raw rows and deletes their markers, in one transaction. The invariant:

    for every (project, hour) without a marker, the rollup rows of that hour equal the GROUP BY over
    the raw rows of that hour

Readers (one snapshot) take the rollup rows of unmarked hours and the raw rows of marked ones.

A writer's marker commits with its rows, so a refresh either sees both or neither: it deletes only
the markers it can see, before it reads the raw rows (each statement takes a new snapshot), so rows
committed after that delete leave their marker behind for the next refresh. The hour an observation
counts in is its *trace's*, so the observation trigger locks the traces it joins (FOR NO KEY UPDATE,
which the writer's later refresh of the trace's totals takes anyway): a concurrent change of a
trace's hour waits for it, or it waits for that change and then marks the new hour.
"""

import importlib

from django.db import migrations

# Going back re-creates 0010's trigger and compaction functions from that migration's own SQL.
before = importlib.import_module("traces.migrations.0010_dashboard_rollups")

OLD_TRIGGERS = """
DROP TRIGGER dashboard_traces_inserted ON traces;
DROP TRIGGER dashboard_traces_updated ON traces;
DROP TRIGGER dashboard_traces_deleted ON traces;
DROP TRIGGER dashboard_observations_inserted ON observations;
DROP TRIGGER dashboard_observations_updated ON observations;
DROP TRIGGER dashboard_observations_deleted ON observations;
DROP FUNCTION dashboard_traces_changed();
DROP FUNCTION dashboard_observations_changed();
"""

# The delta rows of 0010 are exact (their sums per key equal the raw rows): fold them to one row per
# key while the lock holds writers back, and they are the refreshed rollups of every hour.
FOLD = """
LOCK TABLE traces, observations IN SHARE MODE;
SELECT dashboard_compact_rollups();
DROP FUNCTION dashboard_compact_rollups();
DROP FUNCTION dashboard_obs_delta_sql(text);
"""

MARKERS = """
CREATE TABLE dashboard_dirty_hours (
    project_id varchar(64) NOT NULL,
    hour timestamptz NOT NULL
);
CREATE INDEX dashboard_dirty_hours_key ON dashboard_dirty_hours (project_id, hour);
CREATE UNIQUE INDEX dashboard_trace_hours_row
    ON dashboard_trace_hours (project_id, hour, environment, name, release) NULLS NOT DISTINCT;
CREATE UNIQUE INDEX dashboard_obs_hours_row
    ON dashboard_obs_hours (project_id, hour, environment, model, usage_key) NULLS NOT DISTINCT;
DROP INDEX dashboard_trace_hours_key;
DROP INDEX dashboard_obs_hours_key;

CREATE FUNCTION dashboard_traces_marked() RETURNS trigger LANGUAGE plpgsql AS $f$
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO dashboard_dirty_hours
        SELECT DISTINCT project_id, date_trunc('hour', timestamp, 'UTC') FROM new_rows;
    ELSIF TG_OP = 'UPDATE' THEN
        INSERT INTO dashboard_dirty_hours
        SELECT project_id, date_trunc('hour', timestamp, 'UTC') FROM new_rows
        UNION SELECT project_id, date_trunc('hour', timestamp, 'UTC') FROM old_rows;
    ELSE
        INSERT INTO dashboard_dirty_hours
        SELECT DISTINCT project_id, date_trunc('hour', timestamp, 'UTC') FROM old_rows;
    END IF;
    RETURN NULL;
END
$f$;

CREATE FUNCTION dashboard_observations_marked() RETURNS trigger LANGUAGE plpgsql AS $f$
BEGIN
    IF TG_OP = 'INSERT' THEN
        PERFORM 1 FROM traces t
        WHERE (t.project_id, t.id) IN (SELECT project_id, trace_id FROM new_rows)
        ORDER BY t.project_id, t.id FOR NO KEY UPDATE OF t;
        INSERT INTO dashboard_dirty_hours
        SELECT DISTINCT t.project_id, date_trunc('hour', t.timestamp, 'UTC') FROM traces t
        WHERE (t.project_id, t.id) IN (SELECT project_id, trace_id FROM new_rows);
    ELSIF TG_OP = 'UPDATE' THEN
        PERFORM 1 FROM traces t
        WHERE (t.project_id, t.id) IN (SELECT project_id, trace_id FROM new_rows
                                       UNION SELECT project_id, trace_id FROM old_rows)
        ORDER BY t.project_id, t.id FOR NO KEY UPDATE OF t;
        INSERT INTO dashboard_dirty_hours
        SELECT DISTINCT t.project_id, date_trunc('hour', t.timestamp, 'UTC') FROM traces t
        WHERE (t.project_id, t.id) IN (SELECT project_id, trace_id FROM new_rows
                                       UNION SELECT project_id, trace_id FROM old_rows);
    ELSE
        PERFORM 1 FROM traces t
        WHERE (t.project_id, t.id) IN (SELECT project_id, trace_id FROM old_rows)
        ORDER BY t.project_id, t.id FOR NO KEY UPDATE OF t;
        INSERT INTO dashboard_dirty_hours
        SELECT DISTINCT t.project_id, date_trunc('hour', t.timestamp, 'UTC') FROM traces t
        WHERE (t.project_id, t.id) IN (SELECT project_id, trace_id FROM old_rows);
    END IF;
    RETURN NULL;
END
$f$;

CREATE TRIGGER dashboard_observations_inserted AFTER INSERT ON observations
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION dashboard_observations_marked();
CREATE TRIGGER dashboard_observations_updated AFTER UPDATE ON observations
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION dashboard_observations_marked();
CREATE TRIGGER dashboard_observations_deleted AFTER DELETE ON observations
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION dashboard_observations_marked();
CREATE TRIGGER dashboard_traces_inserted AFTER INSERT ON traces
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION dashboard_traces_marked();
CREATE TRIGGER dashboard_traces_updated AFTER UPDATE ON traces
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION dashboard_traces_marked();
CREATE TRIGGER dashboard_traces_deleted AFTER DELETE ON traces
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION dashboard_traces_marked();
"""


BACK = (
    """
DROP TRIGGER dashboard_traces_inserted ON traces;
DROP TRIGGER dashboard_traces_updated ON traces;
DROP TRIGGER dashboard_traces_deleted ON traces;
DROP TRIGGER dashboard_observations_inserted ON observations;
DROP TRIGGER dashboard_observations_updated ON observations;
DROP TRIGGER dashboard_observations_deleted ON observations;
DROP FUNCTION dashboard_traces_marked();
DROP FUNCTION dashboard_observations_marked();
LOCK TABLE traces, observations IN SHARE MODE;
DROP TABLE dashboard_dirty_hours;
DELETE FROM dashboard_trace_hours;
DELETE FROM dashboard_obs_hours;
DROP INDEX dashboard_trace_hours_row;
DROP INDEX dashboard_obs_hours_row;
CREATE INDEX dashboard_trace_hours_key ON dashboard_trace_hours (project_id, hour);
CREATE INDEX dashboard_obs_hours_key ON dashboard_obs_hours (project_id, hour);
"""
    + before.OBS_DELTA_SQL
    + before.STATIC
    + before.TRIGGERS
    + before.COMPACT
)


class Migration(migrations.Migration):
    dependencies = [("traces", "0011_export_job_source")]

    operations = [
        # Backwards, the backfill runs after BACK has put 0010's functions back.
        migrations.RunPython(
            migrations.RunPython.noop, lambda apps, schema_editor: before.backfill(apps, schema_editor)
        ),
        migrations.RunSQL(OLD_TRIGGERS + FOLD + MARKERS, BACK),
    ]
