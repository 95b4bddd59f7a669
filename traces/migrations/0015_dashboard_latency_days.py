"""Daily rollup of the latency values, for exact dashboard percentiles.

dashboard_latency_days (traces/dashboards/percentiles.py explains the rows and the reads). Migration
0017 adds the count of each value and fills the table from the raw rows; after that rollups.refresh
recomputes the days whose hours it refreshes once none of their hours is marked. The invariant, next
to the hourly one of migration 0012:

    for every (project, day) without a marked hour, the rows of that day equal the GROUP BY over
    the raw rows of that day
"""

from django.db import migrations

TABLE = """
CREATE TABLE dashboard_latency_days (
    project_id varchar(64) NOT NULL,
    day timestamptz NOT NULL,
    kind varchar(8) NOT NULL,
    environment varchar(40) NOT NULL,
    key varchar(1000),
    bucket smallint NOT NULL,
    n integer NOT NULL,
    vals double precision[] NOT NULL
);
-- The values out of line (uncompressed): counting reads the narrow rows only, and only the
-- arrays of the buckets a percentile falls in are read.
ALTER TABLE dashboard_latency_days ALTER COLUMN vals SET STORAGE EXTERNAL;
ALTER TABLE dashboard_latency_days SET (toast_tuple_target = 128);
CREATE INDEX dashboard_latency_days_key ON dashboard_latency_days (project_id, kind, day);
"""


class Migration(migrations.Migration):
    dependencies = [("traces", "0014_dashboard_people_score_rollups")]

    operations = [
        migrations.RunSQL(TABLE, "DROP TABLE dashboard_latency_days;"),
    ]
