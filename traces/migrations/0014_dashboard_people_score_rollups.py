"""Hourly rollups of cost by user and by team, and of the score charts; writes to scores mark hours.

Five tables in the style of 0010/0012 (traces/dashboards/rollups.py describes them), each keyed by
project, hour of the trace timestamp (UTC) and the trace's environment:

- dashboard_user_hours (+ user_id), dashboard_team_hours (+ metadata #>> '{team}'): traces, cost, tokens;
- dashboard_score_hours (+ score name): sum(value::numeric) and count of numeric and boolean values;
- dashboard_score_label_hours (+ score name, label): scores per label of the score distribution;
- dashboard_score_prompt_hours (+ score name, prompt name, version): sum and count of the distinct
  (score, prompt version) pairs of scores by prompt version.

0012's invariant holds for them too: for every (project, hour) without a marker, the rows of that hour
equal the GROUP BY over the raw rows of that hour. A score counts in its *trace's* hour, so the trigger
on scores locks the traces it joins (FOR NO KEY UPDATE), as the observations trigger does: a concurrent
change of a trace's hour waits for it, or it waits for that change and then marks the new hour. A trace
that moves is marked by the trace trigger (old and new hour), which takes its scores along.

The backfill fills every hour that has traces while writers wait (SHARE locks), so the hours that are
not marked are exact from the start; marked ones are recomputed by the next refresh as before. The
SELECTs below are this migration's own copy of rollups.TABLES at the time it was written.
"""

from django.db import migrations

TABLES = """
CREATE TABLE dashboard_user_hours (
    project_id varchar(64) NOT NULL,
    hour timestamptz NOT NULL,
    environment varchar(40) NOT NULL,
    user_id varchar(800),
    traces bigint NOT NULL,
    cost numeric NOT NULL,
    tokens numeric NOT NULL
);
CREATE UNIQUE INDEX dashboard_user_hours_row
    ON dashboard_user_hours (project_id, hour, environment, user_id) NULLS NOT DISTINCT;
CREATE TABLE dashboard_team_hours (
    project_id varchar(64) NOT NULL,
    hour timestamptz NOT NULL,
    environment varchar(40) NOT NULL,
    team text,
    traces bigint NOT NULL,
    cost numeric NOT NULL,
    tokens numeric NOT NULL
);
CREATE UNIQUE INDEX dashboard_team_hours_row
    ON dashboard_team_hours (project_id, hour, environment, team) NULLS NOT DISTINCT;
CREATE TABLE dashboard_score_hours (
    project_id varchar(64) NOT NULL,
    hour timestamptz NOT NULL,
    environment varchar(40) NOT NULL,
    name varchar(800) NOT NULL,
    value_sum numeric NOT NULL,
    scores bigint NOT NULL
);
CREATE UNIQUE INDEX dashboard_score_hours_row ON dashboard_score_hours (project_id, hour, environment, name);
CREATE TABLE dashboard_score_label_hours (
    project_id varchar(64) NOT NULL,
    hour timestamptz NOT NULL,
    environment varchar(40) NOT NULL,
    name varchar(800) NOT NULL,
    label text NOT NULL,
    scores bigint NOT NULL
);
CREATE UNIQUE INDEX dashboard_score_label_hours_row
    ON dashboard_score_label_hours (project_id, hour, environment, name, label);
CREATE TABLE dashboard_score_prompt_hours (
    project_id varchar(64) NOT NULL,
    hour timestamptz NOT NULL,
    environment varchar(40) NOT NULL,
    name varchar(800) NOT NULL,
    prompt_name varchar(800) NOT NULL,
    prompt_version integer NOT NULL,
    value_sum numeric NOT NULL,
    scores bigint NOT NULL
);
CREATE UNIQUE INDEX dashboard_score_prompt_hours_row
    ON dashboard_score_prompt_hours (project_id, hour, environment, name, prompt_name, prompt_version);
"""

# The traces a statement's scores belong to, locked in key order, then their hours marked.
TRACES_OF = {
    "INSERT": "SELECT project_id, trace_id FROM new_rows WHERE trace_id IS NOT NULL",
    "DELETE": "SELECT project_id, trace_id FROM old_rows WHERE trace_id IS NOT NULL",
}
TRACES_OF["UPDATE"] = f"{TRACES_OF['INSERT']} UNION {TRACES_OF['DELETE']}"


def mark(operation: str) -> str:
    return f"""
        PERFORM 1 FROM traces t
        WHERE (t.project_id, t.id) IN ({TRACES_OF[operation]})
        ORDER BY t.project_id, t.id FOR NO KEY UPDATE OF t;
        INSERT INTO dashboard_dirty_hours
        SELECT DISTINCT t.project_id, date_trunc('hour', t.timestamp, 'UTC') FROM traces t
        WHERE (t.project_id, t.id) IN ({TRACES_OF[operation]});"""


TRIGGERS = f"""
CREATE FUNCTION dashboard_scores_marked() RETURNS trigger LANGUAGE plpgsql AS $f$
BEGIN
    IF TG_OP = 'INSERT' THEN{mark("INSERT")}
    ELSIF TG_OP = 'UPDATE' THEN{mark("UPDATE")}
    ELSE{mark("DELETE")}
    END IF;
    RETURN NULL;
END
$f$;

CREATE TRIGGER dashboard_scores_inserted AFTER INSERT ON scores
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION dashboard_scores_marked();
CREATE TRIGGER dashboard_scores_updated AFTER UPDATE ON scores
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION dashboard_scores_marked();
CREATE TRIGGER dashboard_scores_deleted AFTER DELETE ON scores
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION dashboard_scores_marked();
"""

# Each trace is in one hour: a GROUP BY over the whole tables fills every hour at once.
HOUR = "date_trunc('hour', t.timestamp, 'UTC')"
HOUR_SCORES = "JOIN scores s ON s.project_id = t.project_id AND s.trace_id = t.id"
AVERAGED = "s.value IS NOT NULL AND s.data_type <> 'CATEGORICAL'"
LABEL = """CASE WHEN s.data_type = 'CATEGORICAL' THEN coalesce(s.string_value, '(none)')
    WHEN s.data_type = 'BOOLEAN' THEN CASE WHEN s.value = 1 THEN 'true' ELSE 'false' END
    ELSE coalesce(round(s.value::numeric, 2)::text, '(none)') END"""
BACKFILL = f"""
LOCK TABLE traces, observations, scores IN SHARE MODE;
INSERT INTO dashboard_user_hours
SELECT t.project_id, {HOUR}, t.environment, t.user_id, count(*), sum(t.total_cost), sum(t.total_tokens)
FROM traces t GROUP BY 1, 2, 3, 4;
INSERT INTO dashboard_team_hours
SELECT t.project_id, {HOUR}, t.environment, t.metadata #>> '{{team}}', count(*), sum(t.total_cost),
       sum(t.total_tokens)
FROM traces t GROUP BY 1, 2, 3, 4;
INSERT INTO dashboard_score_hours
SELECT t.project_id, {HOUR}, t.environment, s.name, sum(s.value::numeric), count(*)
FROM traces t {HOUR_SCORES} WHERE {AVERAGED} GROUP BY 1, 2, 3, 4;
INSERT INTO dashboard_score_label_hours
SELECT t.project_id, {HOUR}, t.environment, s.name, {LABEL}, count(*)
FROM traces t {HOUR_SCORES} GROUP BY 1, 2, 3, 4, 5;
INSERT INTO dashboard_score_prompt_hours
SELECT project_id, hour, environment, name, prompt_name, prompt_version, sum(value::numeric), count(*)
FROM (SELECT DISTINCT t.project_id, {HOUR} AS hour, t.environment, s.id, s.name, s.value, o.prompt_name, o.prompt_version
      FROM traces t {HOUR_SCORES}
      JOIN observations o ON o.project_id = s.project_id AND o.trace_id = s.trace_id
           AND o.prompt_name IS NOT NULL AND o.prompt_version IS NOT NULL
           AND (s.observation_id IS NULL OR o.id = s.observation_id)
      WHERE {AVERAGED}) AS linked
GROUP BY 1, 2, 3, 4, 5, 6;
"""

BACK = """
DROP TRIGGER dashboard_scores_inserted ON scores;
DROP TRIGGER dashboard_scores_updated ON scores;
DROP TRIGGER dashboard_scores_deleted ON scores;
DROP FUNCTION dashboard_scores_marked();
DROP TABLE dashboard_user_hours, dashboard_team_hours, dashboard_score_hours, dashboard_score_label_hours,
    dashboard_score_prompt_hours;
"""


class Migration(migrations.Migration):
    dependencies = [("traces", "0012_dashboard_dirty_hours")]

    operations = [migrations.RunSQL(TABLES + TRIGGERS + BACKFILL, BACK)]
