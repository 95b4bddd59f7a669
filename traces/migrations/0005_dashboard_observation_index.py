from django.db import migrations

# Dashboard charts over observations (cost by model, tokens by usage type, latency and time to
# first token per model) read the observations of a window's traces. Every observation of a trace
# starts within the trace's [start_time, end_time], so the queries bound o.start_time by the
# window's traces and this covering index answers them with an index-only range scan instead of
# reading the wide observation rows (input/output). Measured in bench/dashboard_bench.py.
SQL = """
CREATE INDEX IF NOT EXISTS obs_dashboard ON observations (project_id, start_time)
    INCLUDE (trace_id, type, provided_model_name, end_time, completion_start_time, total_cost, usage_details);
"""
REVERSE = "DROP INDEX IF EXISTS obs_dashboard;"


class Migration(migrations.Migration):
    dependencies = [("traces", "0004_trace_list_sort_indexes")]
    operations = [migrations.RunSQL(SQL, REVERSE)]
