"""Counters that must agree across server processes: API-auth failures, and Django's cache table.

The cache table has the layout `manage.py createcachetable` gives Django's DatabaseCache
(settings.CACHES), created here so `serve` and every replica find it without an extra step.
"""

from django.db import migrations, models

CREATE_CACHE_TABLE = """
CREATE TABLE IF NOT EXISTS "langfuse_cache" (
    "cache_key" varchar(255) NOT NULL PRIMARY KEY,
    "value" text NOT NULL,
    "expires" timestamp with time zone NOT NULL
);
CREATE INDEX IF NOT EXISTS "langfuse_cache_expires" ON "langfuse_cache" ("expires");
"""


class Migration(migrations.Migration):
    dependencies = [
        ("langfuse_ui", "0001_extensions"),
    ]

    operations = [
        migrations.CreateModel(
            name="AuthFailureWindow",
            fields=[
                ("bucket", models.CharField(max_length=80, primary_key=True, serialize=False)),
                ("window", models.BigIntegerField(db_index=True)),
                ("failures", models.IntegerField()),
            ],
            options={
                "db_table": "langfuse_auth_failure_window",
            },
        ),
        migrations.RunSQL(CREATE_CACHE_TABLE, reverse_sql='DROP TABLE IF EXISTS "langfuse_cache";'),
    ]
