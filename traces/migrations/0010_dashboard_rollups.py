"""Hourly rollups behind the dashboards, kept by statement-level triggers (see traces/dashboards/rollups.py).

dashboard_trace_hours: per project, hour of the trace timestamp (UTC), environment, trace name and
release: traces, traces with errors, cost and tokens. dashboard_obs_hours: per project, hour of the
*trace's* timestamp, the trace's environment, model and usage type (NULL usage_key: cost): the sum and
the number of observations. Both are append-only delta tables: every INSERT, UPDATE or DELETE of
traces or observations adds the rows it changes with a sign, so writers never wait on one another;
dashboard_compact_rollups() folds the deltas into one row per key. The invariant the triggers keep:

    dashboard_trace_hours summed per key == GROUP BY over traces
    dashboard_obs_hours summed per key   == GROUP BY over observations JOIN traces

Each statement changes one table, so its delta is (changed rows) JOIN (the other table as it is now).
The observation trigger locks the traces it joins (FOR NO KEY UPDATE, the lock the writer's later
aggregate refresh takes anyway) so a concurrent change of a trace's hour or environment is seen either
by it or by the trace trigger, never by neither.
"""

from django.db import migrations

TABLES = """
CREATE TABLE dashboard_trace_hours (
    project_id varchar(64) NOT NULL,
    hour timestamptz NOT NULL,
    environment varchar(40) NOT NULL,
    name varchar(1000),
    release varchar(800),
    traces bigint NOT NULL,
    errors bigint NOT NULL,
    cost numeric NOT NULL,
    tokens numeric NOT NULL
);
CREATE INDEX dashboard_trace_hours_key ON dashboard_trace_hours (project_id, hour);
CREATE TABLE dashboard_obs_hours (
    project_id varchar(64) NOT NULL,
    hour timestamptz NOT NULL,
    environment varchar(40) NOT NULL,
    model varchar(800),
    usage_key text,
    amount numeric NOT NULL,
    observations bigint NOT NULL
);
CREATE INDEX dashboard_obs_hours_key ON dashboard_obs_hours (project_id, hour);
"""

# The observation deltas of a relation x(project_id, hour, environment, sign, provided_model_name,
# total_cost, usage_details), as SQL text: one cost row per model and one row per usage type, as the
# raw dashboard queries count them (cost of observations that have one; numeric usage values but
# `total`). The backfill and `manage.py dashboard_rollups --rebuild` run it over the raw rows.
OBS_DELTA_SQL = """
CREATE FUNCTION dashboard_obs_delta_sql(x text) RETURNS text LANGUAGE sql IMMUTABLE AS $f$
SELECT format($q$
WITH x AS (%s)
INSERT INTO dashboard_obs_hours (project_id, hour, environment, model, usage_key, amount, observations)
SELECT project_id, hour, environment, provided_model_name, NULL, sum(sign * total_cost), sum(sign)
FROM x WHERE total_cost IS NOT NULL
GROUP BY 1, 2, 3, 4 HAVING sum(sign * total_cost) <> 0 OR sum(sign) <> 0
UNION ALL
SELECT project_id, hour, environment, provided_model_name, u.key, sum(sign * u.value::numeric), sum(sign)
FROM x CROSS JOIN LATERAL jsonb_each(x.usage_details) AS u(key, value)
WHERE x.usage_details <> '{}'::jsonb AND jsonb_typeof(u.value) = 'number' AND u.key <> 'total'
GROUP BY 1, 2, 3, 4, 5 HAVING sum(sign * u.value::numeric) <> 0 OR sum(sign) <> 0
$q$, x)
$f$;
"""

# The trigger functions use static SQL, one branch per operation, so PL/pgSQL keeps their plans,
# and they read only the columns they sum (never the input/output payloads).
# Changed rows per operation, with the sign they count with.
OBS_ROWS = {
    "INSERT": "SELECT project_id, trace_id, provided_model_name, total_cost, usage_details, 1 AS sign FROM new_rows",
    "DELETE": "SELECT project_id, trace_id, provided_model_name, total_cost, usage_details, -1 AS sign FROM old_rows",
}
OBS_ROWS["UPDATE"] = f"{OBS_ROWS['INSERT']} UNION ALL {OBS_ROWS['DELETE']}"
TRACE_COLUMNS = "project_id, id, timestamp, environment, name, release, error_count, total_cost, total_tokens"
TRACE_ROWS = {
    "INSERT": f"SELECT {TRACE_COLUMNS}, 1 AS sign FROM new_rows",
    "DELETE": f"SELECT {TRACE_COLUMNS}, -1 AS sign FROM old_rows",
}
TRACE_ROWS["UPDATE"] = f"{TRACE_ROWS['INSERT']} UNION ALL {TRACE_ROWS['DELETE']}"

# x(project_id, hour, environment, sign, provided_model_name, total_cost, usage_details) -> deltas.
OBS_DELTA = """
    WITH x AS ({x})
    INSERT INTO dashboard_obs_hours (project_id, hour, environment, model, usage_key, amount, observations)
    SELECT project_id, hour, environment, provided_model_name, NULL, sum(sign * total_cost), sum(sign)
    FROM x WHERE total_cost IS NOT NULL
    GROUP BY 1, 2, 3, 4 HAVING sum(sign * total_cost) <> 0 OR sum(sign) <> 0
    UNION ALL
    SELECT project_id, hour, environment, provided_model_name, u.key, sum(sign * u.value::numeric), sum(sign)
    FROM x CROSS JOIN LATERAL jsonb_each(x.usage_details) AS u(key, value)
    WHERE x.usage_details <> '{{}}'::jsonb AND jsonb_typeof(u.value) = 'number' AND u.key <> 'total'
    GROUP BY 1, 2, 3, 4, 5 HAVING sum(sign * u.value::numeric) <> 0 OR sum(sign) <> 0;"""

OBS_BRANCH = """
    PERFORM 1 FROM traces t
    WHERE (t.project_id, t.id) IN (SELECT project_id, trace_id FROM ({rows}) AS d WHERE trace_id IS NOT NULL)
    ORDER BY t.project_id, t.id FOR NO KEY UPDATE OF t;""" + OBS_DELTA.format(
    x="SELECT d.project_id, date_trunc('hour', t.timestamp, 'UTC') AS hour, t.environment, d.sign, "
    "d.provided_model_name, d.total_cost, d.usage_details FROM ({rows}) AS d "
    "JOIN traces t ON t.project_id = d.project_id AND t.id = d.trace_id"
)

TRACE_BRANCH = """
    INSERT INTO dashboard_trace_hours (project_id, hour, environment, name, release, traces, errors, cost, tokens)
    SELECT project_id, date_trunc('hour', timestamp, 'UTC'), environment, name, release, sum(sign),
           sum(sign * (error_count > 0)::int), sum(sign * total_cost), sum(sign * total_tokens)
    FROM ({rows}) AS d GROUP BY 1, 2, 3, 4, 5
    HAVING sum(sign) <> 0 OR sum(sign * (error_count > 0)::int) <> 0 OR sum(sign * total_cost) <> 0
        OR sum(sign * total_tokens) <> 0;""" + OBS_DELTA.format(
    x="SELECT k.project_id, k.hour, k.environment, k.sign, o.provided_model_name, o.total_cost, o.usage_details "
    "FROM (SELECT project_id, id, date_trunc('hour', timestamp, 'UTC') AS hour, environment, sum(sign) AS sign "
    "FROM ({rows}) AS d GROUP BY 1, 2, 3, 4 HAVING sum(sign) <> 0) AS k "
    "JOIN observations o ON o.project_id = k.project_id AND o.trace_id = k.id"
)


def function(name: str, branch: str, rows: dict[str, str]) -> str:
    body = "\n".join(
        f"    {'IF' if i == 0 else 'ELSIF'} TG_OP = '{op}' THEN{branch.replace('{rows}', rows[op])}"
        for i, op in enumerate(("INSERT", "UPDATE", "DELETE"))
    )
    return f"""
CREATE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $f$
BEGIN
{body}
    END IF;
    RETURN NULL;
END
$f$;
"""


STATIC = function("dashboard_observations_changed", OBS_BRANCH, OBS_ROWS) + function(
    "dashboard_traces_changed", TRACE_BRANCH, TRACE_ROWS
)

TRIGGERS = """
CREATE TRIGGER dashboard_observations_inserted AFTER INSERT ON observations
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION dashboard_observations_changed();
CREATE TRIGGER dashboard_observations_updated AFTER UPDATE ON observations
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION dashboard_observations_changed();
CREATE TRIGGER dashboard_observations_deleted AFTER DELETE ON observations
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION dashboard_observations_changed();
CREATE TRIGGER dashboard_traces_inserted AFTER INSERT ON traces
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION dashboard_traces_changed();
CREATE TRIGGER dashboard_traces_updated AFTER UPDATE ON traces
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION dashboard_traces_changed();
CREATE TRIGGER dashboard_traces_deleted AFTER DELETE ON traces
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION dashboard_traces_changed();
"""

# Folds the deltas into one row per key; rows that other transactions add meanwhile stay as they
# are, and a row is deleted (and so counted) by one compaction only.
COMPACT = """
CREATE FUNCTION dashboard_compact_rollups() RETURNS void LANGUAGE sql AS $f$
WITH gone AS (DELETE FROM dashboard_trace_hours RETURNING *)
INSERT INTO dashboard_trace_hours
SELECT project_id, hour, environment, name, release, sum(traces), sum(errors), sum(cost), sum(tokens)
FROM gone GROUP BY 1, 2, 3, 4, 5
HAVING sum(traces) <> 0 OR sum(errors) <> 0 OR sum(cost) <> 0 OR sum(tokens) <> 0;
WITH gone AS (DELETE FROM dashboard_obs_hours RETURNING *)
INSERT INTO dashboard_obs_hours
SELECT project_id, hour, environment, model, usage_key, sum(amount), sum(observations)
FROM gone GROUP BY 1, 2, 3, 4, 5 HAVING sum(amount) <> 0 OR sum(observations) <> 0;
$f$;
"""

TRACE_BACKFILL = """
INSERT INTO dashboard_trace_hours
SELECT project_id, date_trunc('hour', timestamp, 'UTC'), environment, name, release, count(*),
       count(*) FILTER (WHERE error_count > 0), sum(total_cost), sum(total_tokens)
FROM traces GROUP BY 1, 2, 3, 4, 5
"""
OBSERVATION_BACKFILL = (
    "SELECT t.project_id, date_trunc('hour', t.timestamp, 'UTC') AS hour, t.environment, "
    "1 AS sign, o.provided_model_name, o.total_cost, o.usage_details "
    "FROM observations o JOIN traces t ON t.project_id = o.project_id AND t.id = o.trace_id"
)

DROP = """
DROP TRIGGER dashboard_traces_inserted ON traces;
DROP TRIGGER dashboard_traces_updated ON traces;
DROP TRIGGER dashboard_traces_deleted ON traces;
DROP TRIGGER dashboard_observations_inserted ON observations;
DROP TRIGGER dashboard_observations_updated ON observations;
DROP TRIGGER dashboard_observations_deleted ON observations;
DROP FUNCTION dashboard_traces_changed();
DROP FUNCTION dashboard_observations_changed();
DROP FUNCTION dashboard_compact_rollups();
DROP FUNCTION dashboard_obs_delta_sql(text);
DROP TABLE dashboard_trace_hours;
DROP TABLE dashboard_obs_hours;
"""


def backfill(apps, schema_editor) -> None:
    """Existing traces and observations into the rollups, under a lock that holds writers back."""
    with schema_editor.connection.cursor() as cursor:
        cursor.execute("LOCK TABLE traces, observations IN SHARE MODE")
        cursor.execute(TRACE_BACKFILL)
        cursor.execute("SELECT dashboard_obs_delta_sql(%s)", [OBSERVATION_BACKFILL])
        [(sql,)] = cursor.fetchall()
        cursor.execute(sql)


class Migration(migrations.Migration):
    dependencies = [("traces", "0009_export_jobs")]

    operations = [
        migrations.RunSQL(TABLES + OBS_DELTA_SQL + STATIC + TRIGGERS + COMPACT, DROP),
        migrations.RunPython(backfill, migrations.RunPython.noop),
    ]
