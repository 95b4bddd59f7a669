"""The most expensive sessions from a row per session (traces/dashboards/sessions.py reads them).

- dashboard_sessions: one row per (project, session) over all the session's traces: environment (NULL
  when its traces have several), first and last trace timestamp, traces, cost, tokens. rollups.refresh
  recomputes, for the (project, hour)s it refreshes, every session with a trace in them or whose row
  spans one of them (a trace deleted, moved or given another session). A row is exact once no trace of
  its session lies in a marked hour and it spans no marked hour; readers compute the others raw.
- dashboard_session_hours: traces, cost and tokens per project, hour and environment of the traces
  that have a session, with 0012's invariant (for every (project, hour) without a marker, the rows of
  that hour equal the GROUP BY over the raw rows of that hour).

No new triggers: the hour markers of 0012 say which sessions to recompute. Filled here from the raw
rows while a lock holds writers back; the SELECTs are this migration's own copy of the ones in
sessions.py and rollups.TABLES when it was written.
"""

from django.db import migrations

TABLES = """
CREATE TABLE dashboard_sessions (
    project_id varchar(64) NOT NULL,
    session_id varchar(800) NOT NULL,
    environment varchar(40),
    first_ts timestamptz NOT NULL,
    last_ts timestamptz NOT NULL,
    traces bigint NOT NULL,
    cost numeric NOT NULL,
    tokens numeric NOT NULL
);
CREATE UNIQUE INDEX dashboard_sessions_row ON dashboard_sessions (project_id, session_id);
CREATE INDEX dashboard_sessions_cost ON dashboard_sessions (project_id, cost DESC, session_id DESC);
CREATE INDEX dashboard_sessions_span ON dashboard_sessions USING gist (tstzrange(first_ts, last_ts, '[]'));
CREATE TABLE dashboard_session_hours (
    project_id varchar(64) NOT NULL,
    hour timestamptz NOT NULL,
    environment varchar(40) NOT NULL,
    traces bigint NOT NULL,
    cost numeric NOT NULL,
    tokens numeric NOT NULL
);
CREATE UNIQUE INDEX dashboard_session_hours_row ON dashboard_session_hours (project_id, hour, environment);
"""

BACKFILL = """
LOCK TABLE traces IN SHARE MODE;
INSERT INTO dashboard_sessions
SELECT project_id, session_id, CASE WHEN min(environment) = max(environment) THEN min(environment) END,
       min(timestamp), max(timestamp), count(*), sum(total_cost), sum(total_tokens)::numeric
FROM traces WHERE session_id IS NOT NULL GROUP BY 1, 2;
INSERT INTO dashboard_session_hours
SELECT project_id, date_trunc('hour', timestamp, 'UTC'), environment, count(*), sum(total_cost),
       sum(total_tokens)::numeric
FROM traces WHERE session_id IS NOT NULL GROUP BY 1, 2, 3;
"""

BACK = "DROP TABLE dashboard_sessions, dashboard_session_hours;"


class Migration(migrations.Migration):
    dependencies = [("traces", "0018_dashboard_latency_hours")]

    operations = [migrations.RunSQL(TABLES + BACKFILL, BACK)]
