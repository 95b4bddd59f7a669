"""Each value of dashboard_latency_days once, with its count (cnts[i] rows have the value vals[i]).

Durations are mostly whole milliseconds, so a bucket of a day holds far fewer distinct values than
rows, and a percentile merges and sorts those instead of every value (the time-to-first-token chart
sorted 521,770 values at 30 days). The rows are recomputed here from the raw rows while a lock holds
writers back (a few minutes at 10 M observations). The SELECT is the one of
traces/dashboards/percentiles.DAY_ROWS when this migration was written, `d` being every day with traces.
"""

from django.db import migrations

COUNTS = """
ALTER TABLE dashboard_latency_days ADD COLUMN cnts integer[] NOT NULL DEFAULT '{}';
ALTER TABLE dashboard_latency_days ALTER COLUMN cnts DROP DEFAULT;
ALTER TABLE dashboard_latency_days ALTER COLUMN cnts SET STORAGE EXTERNAL;
"""

BACKFILL = """
LOCK TABLE traces, observations IN SHARE MODE;
DELETE FROM dashboard_latency_days;
WITH d AS (SELECT DISTINCT project_id, date_trunc('day', timestamp, 'UTC') AS day FROM traces)
INSERT INTO dashboard_latency_days (project_id, day, kind, environment, key, bucket, n, vals, cnts)
SELECT project_id, day, kind, environment, key, b, sum(c), array_agg(v ORDER BY v), array_agg(c ORDER BY v)
FROM (SELECT project_id, day, kind, environment, key, (CASE WHEN v < 0.001 THEN 0 ELSE least(32000, 1 + floor(ln(v * 1000) / ln(1.02))) END)::smallint AS b, v, count(*) AS c FROM (
    SELECT t.project_id, d.day, 'trace' AS kind, t.environment, t.name AS key, EXTRACT(EPOCH FROM (t.end_time - t.start_time))::double precision AS v
    FROM d JOIN traces t ON t.project_id = d.project_id AND t.timestamp >= d.day
                            AND t.timestamp < d.day + interval '1 day'
    WHERE t.start_time IS NOT NULL AND t.end_time IS NOT NULL
    UNION ALL
    SELECT t.project_id, d.day, k.kind, t.environment, k.key, k.v
    FROM d JOIN traces t ON t.project_id = d.project_id AND t.timestamp >= d.day
                            AND t.timestamp < d.day + interval '1 day'
    -- OFFSET 0: an index lookup per trace, not a scan of every observation of the project.
    CROSS JOIN LATERAL (SELECT * FROM observations o WHERE o.project_id = t.project_id AND o.trace_id = t.id
                        OFFSET 0) AS o
    CROSS JOIN LATERAL (VALUES
        ('model', o.provided_model_name, CASE WHEN o.provided_model_name IS NOT NULL AND o.end_time IS NOT NULL THEN EXTRACT(EPOCH FROM (o.end_time - o.start_time))::double precision END),
        ('ttft', coalesce(o.provided_model_name, '(no model)'), CASE WHEN o.type = 'GENERATION' AND o.completion_start_time IS NOT NULL THEN EXTRACT(EPOCH FROM (o.completion_start_time - o.start_time))::double precision END)) AS k(kind, key, v)
    WHERE (o.provided_model_name IS NOT NULL AND o.end_time IS NOT NULL) OR (o.type = 'GENERATION' AND o.completion_start_time IS NOT NULL)
) AS x
WHERE v IS NOT NULL
GROUP BY project_id, day, kind, environment, key, b, v) AS y
GROUP BY project_id, day, kind, environment, key, b;
"""

BACK = """
ALTER TABLE dashboard_latency_days DROP COLUMN cnts;
DELETE FROM dashboard_latency_days;
"""


class Migration(migrations.Migration):
    dependencies = [("traces", "0016_trace_list_filter_indexes")]

    operations = [migrations.RunSQL(COUNTS + BACKFILL, BACK)]
