from django.db import migrations

# Trigram indexes for full-text search over trace input and output, in any language.
SQL = """
CREATE INDEX IF NOT EXISTS trace_input_trgm ON traces USING gin (project_id, (input::text) gin_trgm_ops);
CREATE INDEX IF NOT EXISTS trace_output_trgm ON traces USING gin (project_id, (output::text) gin_trgm_ops);
"""
REVERSE = "DROP INDEX IF EXISTS trace_input_trgm; DROP INDEX IF EXISTS trace_output_trgm;"


class Migration(migrations.Migration):
    dependencies = [("traces", "0001_initial")]
    operations = [migrations.RunSQL(SQL, REVERSE)]
