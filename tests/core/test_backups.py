"""`manage.py backup` and `manage.py restore` with the wheel's pg_dump and pg_restore.

Backups are taken of the test database and restored into a scratch database of the same server;
bucket backups go to a real S3-compatible server (moto) on loopback.
"""

from __future__ import annotations

import os
from urllib.parse import quote, urlencode

import pytest
from django.core.management import CommandError, call_command

from accounts.models import Project
from langfuse_ui.backups import Database
from tests.core.processes import manage_env, run_manage
from tests.factories import make_project
from traces.models import Trace
from traces.storage import s3_client

pytestmark = pytest.mark.django_db(transaction=True)


def url_for(database: Database) -> str:
    query = urlencode(
        {key: value for key, value in [("host", database.host), ("port", database.port)] if value}
    )
    credentials = quote(database.user) + (f":{quote(database.password)}" if database.password else "")
    return f"postgresql://{credentials}@/{quote(database.name)}?{query}"


@pytest.fixture
def scratch():
    """An empty database beside the test database; yields its Database and URL."""
    test_database = Database.from_settings()
    name = f"backup_scratch_{os.environ.get('TEST_DB_SUFFIX', 'default')}"
    server = Database(**{**test_database.__dict__, "name": "postgres"})
    with server.connect() as conn:
        conn.autocommit = True
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    database = Database(**{**test_database.__dict__, "name": name})
    yield database, url_for(database)
    with server.connect() as conn:
        conn.autocommit = True
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def s3(settings):
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    settings.MEDIA_S3 = {
        "region": "us-east-1",
        "endpoint": f"http://{host}:{port}",
        "access_key_id": "test-key",
        "secret_access_key": "test-secret",
        "force_path_style": True,
        "prefix": "",
    }
    s3_client().create_bucket(Bucket="backups")
    yield "backups"
    server.stop()


def rows(database: Database, sql: str) -> list[tuple]:
    with database.connect() as conn:
        return conn.execute(sql).fetchall()


def write_rows() -> tuple[str, str]:
    project = make_project(name="backed-up project")
    Trace.objects.create(project=project, id="trace-kept", name="kept trace")
    return str(project.pk), "trace-kept"


def test_backup_and_restore_bring_deleted_rows_back(tmp_path, scratch):
    database, url = scratch
    project_id, trace_id = write_rows()
    dump = tmp_path / "langfuse.dump"

    call_command("backup", output=dump)
    call_command("restore", str(dump), database_url=url)  # an empty target needs no --yes

    traces, projects = Trace._meta.db_table, Project._meta.db_table
    assert rows(database, f"SELECT id, name FROM {traces}") == [(trace_id, "kept trace")]
    with database.connect() as conn:
        conn.execute(f"DELETE FROM {traces}")
        conn.execute(f"UPDATE {projects} SET name = 'renamed'")
    assert rows(database, f"SELECT id FROM {traces}") == []

    with pytest.raises(CommandError, match=r"holds data \(.*1 projects, 0 traces.*--yes"):
        call_command("restore", str(dump), database_url=url)
    call_command("restore", str(dump), database_url=url, yes=True)

    assert rows(database, f"SELECT id, name FROM {traces}") == [(trace_id, "kept trace")]
    assert rows(database, f"SELECT id::text, name FROM {projects}") == [(project_id, "backed-up project")]


def test_backup_to_bucket_restores_from_the_object(tmp_path, scratch, s3):
    database, url = scratch
    _, trace_id = write_rows()

    call_command("backup", bucket=s3, prefix="nightly/")

    keys = [item["Key"] for item in s3_client().list_objects_v2(Bucket=s3)["Contents"]]
    assert len(keys) == 1 and keys[0].startswith("nightly/langfuse-") and keys[0].endswith(".dump")
    downloaded = tmp_path / "downloaded.dump"
    s3_client().download_file(s3, keys[0], str(downloaded))
    assert downloaded.read_bytes().startswith(b"PGDMP")  # pg_dump's custom format
    call_command("restore", keys[0], bucket=s3, database_url=url)
    assert rows(database, f"SELECT id FROM {Trace._meta.db_table}") == [(trace_id,)]


def test_a_wrong_endpoint_error_names_the_setting(settings):
    settings.MEDIA_S3 = {**settings.MEDIA_S3, "endpoint": "http://127.0.0.1:9", "access_key_id": "k"}
    settings.MEDIA_S3["secret_access_key"] = "s"
    with pytest.raises(CommandError, match="LANGFUSE_S3_ENDPOINT"):
        call_command("backup", bucket="backups")


def test_restore_of_a_missing_file_says_so(tmp_path, scratch):
    _, url = scratch
    with pytest.raises(CommandError, match="No backup file"):
        call_command("restore", str(tmp_path / "absent.dump"), database_url=url)


def test_the_password_reaches_pg_dump_only_through_the_environment():
    database = Database.from_url("postgresql://backup:s3cret@db.internal:6432/langfuse")
    env = database.environment()
    assert (env["PGPASSWORD"], env["PGUSER"], env["PGHOST"], env["PGPORT"]) == (
        "s3cret",
        "backup",
        "db.internal",
        "6432",
    )
    assert env["PGDATABASE"] == "langfuse"


def test_manage_py_backup_writes_a_dump_of_database_url(tmp_path, scratch):
    _, url = scratch
    out = tmp_path / "cli.dump"
    env = manage_env(DATABASE_URL=url, SECRET_KEY="x" * 50)

    result = run_manage("backup", "--output", str(out), env=env)

    assert result.returncode == 0, result.stdout
    assert f"to {out}" in result.stdout and out.read_bytes().startswith(b"PGDMP")


def test_a_missing_bucket_error_names_the_bucket_option(s3):
    with pytest.raises(CommandError, match=r"Bucket 'no-such-bucket' does not exist.*--bucket"):
        call_command("backup", bucket="no-such-bucket")


def test_an_unknown_access_key_error_names_the_setting(s3, monkeypatch, settings):
    from moto import settings as moto_settings

    monkeypatch.setattr(moto_settings, "INITIAL_NO_AUTH_ACTION_COUNT", 0)  # moto checks keys from now on
    settings.MEDIA_S3 = {**settings.MEDIA_S3, "access_key_id": "AKIAUNKNOWNKEY000000"}
    with pytest.raises(CommandError, match="LANGFUSE_S3_ACCESS_KEY_ID"):
        call_command("backup", bucket=s3)
