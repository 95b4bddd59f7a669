"""Hour rows of the latency values, next to the day rows of 0015/0017.

A window rarely starts or ends at midnight: the partial days at its edges (the current day above all)
were read raw, 0.3-1 s per query at 1.34 M traces. dashboard_latency_hours holds the same rows per
hour: a window reads its clean whole days from the day rows, its other unmarked whole hours from the
hour rows (also every hour of a window in hour buckets) and only the partial and marked hours raw.
rollups.refresh recomputes the rows of the hours it refreshes. The invariant, as for the hourly
rollups of 0012:

    for every (project, hour) without a marker, the rows of that hour equal the GROUP BY over the
    raw rows of that hour

Filled here from the raw rows while a lock holds writers back; the SELECT is the one of
traces/dashboards/percentiles.HOUR_ROWS when this migration was written.
"""

from django.db import migrations

TABLE = """
CREATE TABLE dashboard_latency_hours (
    project_id varchar(64) NOT NULL,
    hour timestamptz NOT NULL,
    kind varchar(8) NOT NULL,
    environment varchar(40) NOT NULL,
    key varchar(1000),
    bucket smallint NOT NULL,
    n integer NOT NULL,
    vals double precision[] NOT NULL,
    cnts integer[] NOT NULL
);
ALTER TABLE dashboard_latency_hours ALTER COLUMN vals SET STORAGE EXTERNAL;
ALTER TABLE dashboard_latency_hours ALTER COLUMN cnts SET STORAGE EXTERNAL;
ALTER TABLE dashboard_latency_hours SET (toast_tuple_target = 128);
CREATE INDEX dashboard_latency_hours_key ON dashboard_latency_hours (project_id, kind, hour);
"""

BACKFILL = """
LOCK TABLE traces, observations IN SHARE MODE;
WITH d AS (SELECT DISTINCT project_id, date_trunc('hour', timestamp, 'UTC') AS at FROM traces)
INSERT INTO dashboard_latency_hours (project_id, hour, kind, environment, key, bucket, n, vals, cnts)
SELECT project_id, at, kind, environment, key, b, sum(c), array_agg(v ORDER BY v), array_agg(c ORDER BY v)
FROM (SELECT project_id, at, kind, environment, key, (CASE WHEN v < 0.001 THEN 0 ELSE least(32000, 1 + floor(ln(v * 1000) / ln(1.02))) END)::smallint AS b, v, count(*) AS c FROM (
    SELECT t.project_id, d.at, 'trace' AS kind, t.environment, t.name AS key, EXTRACT(EPOCH FROM (t.end_time - t.start_time))::double precision AS v
    FROM d JOIN traces t ON t.project_id = d.project_id AND t.timestamp >= d.at AND t.timestamp < d.at + interval '1 hour'
    WHERE t.start_time IS NOT NULL AND t.end_time IS NOT NULL
    UNION ALL
    SELECT t.project_id, d.at, k.kind, t.environment, k.key, k.v
    FROM d JOIN traces t ON t.project_id = d.project_id AND t.timestamp >= d.at AND t.timestamp < d.at + interval '1 hour'
    -- OFFSET 0: an index lookup per trace, not a scan of every observation of the project.
    CROSS JOIN LATERAL (SELECT * FROM observations o WHERE o.project_id = t.project_id AND o.trace_id = t.id
                        OFFSET 0) AS o
    CROSS JOIN LATERAL (VALUES
        ('model', o.provided_model_name, CASE WHEN o.provided_model_name IS NOT NULL AND o.end_time IS NOT NULL THEN EXTRACT(EPOCH FROM (o.end_time - o.start_time))::double precision END),
        ('ttft', coalesce(o.provided_model_name, '(no model)'), CASE WHEN o.type = 'GENERATION' AND o.completion_start_time IS NOT NULL THEN EXTRACT(EPOCH FROM (o.completion_start_time - o.start_time))::double precision END)) AS k(kind, key, v)
    WHERE (o.provided_model_name IS NOT NULL AND o.end_time IS NOT NULL) OR (o.type = 'GENERATION' AND o.completion_start_time IS NOT NULL)
) AS x
WHERE v IS NOT NULL
GROUP BY project_id, at, kind, environment, key, b, v) AS y
GROUP BY project_id, at, kind, environment, key, b;
"""


class Migration(migrations.Migration):
    dependencies = [("traces", "0017_dashboard_latency_counts")]

    operations = [migrations.RunSQL(TABLE + BACKFILL, "DROP TABLE dashboard_latency_hours;")]
