from django.db import migrations

# The traces list sorts by latency and by tokens with keyset pagination; these indexes let
# PostgreSQL walk the rows in order instead of sorting the whole project. The latency
# expression is exactly the one traces/list_queries.py orders by.
SQL = """
CREATE INDEX IF NOT EXISTS trace_latency ON traces
    (project_id, (COALESCE(EXTRACT(EPOCH FROM (end_time - start_time)), -1)), id);
CREATE INDEX IF NOT EXISTS trace_tokens ON traces (project_id, total_tokens, id);
"""
REVERSE = "DROP INDEX IF EXISTS trace_latency; DROP INDEX IF EXISTS trace_tokens;"


class Migration(migrations.Migration):
    dependencies = [("traces", "0003_saved_views")]
    operations = [migrations.RunSQL(SQL, REVERSE)]
