"""Export jobs to the export bucket, against a real S3-compatible server (moto) on loopback:
queued from the traces list, run by the worker, progress on Settings > Exports, a presigned
link that downloads exactly the rows of the browser export; errors that name the setting."""

from __future__ import annotations

import csv
import io
import json
import os
import threading
from datetime import UTC, datetime, timedelta

import pytest
import requests
from django.core.management import call_command
from django.db import connection, transaction
from django.utils import timezone

from tests.traces.list_data import make_traces
from traces import export_jobs
from traces.export_jobs_bucket import BucketWriter, client, export_bucket
from traces.models import ExportJob, ExportKind, ExportSchedule, ExportStatus, Trace

pytestmark = pytest.mark.django_db


def job_url(project) -> str:
    return f"/project/{project.id}/traces/actions/export-job"


def exports_url(project) -> str:
    return f"/project/{project.id}/settings/exports"


def body(response) -> str:
    return b"".join(response.streaming_content).decode()


def stored(bucket: str, key: str) -> bytes:
    return client(export_bucket()).get_object(Bucket=bucket, Key=key)["Body"].read()


def test_member_exports_a_filter_to_the_bucket_and_downloads_the_same_rows(client, team, export_bucket_env):
    make_traces(team.project, 120, environment="production")
    make_traces(team.project, 15, prefix="dev", environment="dev")
    client.force_login(team.member)

    response = client.post(
        job_url(team.project), {"format": "csv", "query": "environment=production&order=asc"}
    )

    assert response.status_code == 302
    assert response["Location"] == exports_url(team.project)
    job = ExportJob.objects.for_project(team.project).get()
    assert (job.status, job.requested_by, job.filter_query) == (
        ExportStatus.QUEUED,
        team.member,
        "environment=production&order=asc",
    )
    assert "queued" in client.get(exports_url(team.project)).content.decode()

    ran = export_jobs.run_pending()

    assert [j.pk for j in ran] == [job.pk]
    job.refresh_from_db()
    assert (job.status, job.rows_written, job.total_estimate, job.error) == (ExportStatus.DONE, 120, 120, "")
    assert job.object_key == f"exports/{team.project.id}/traces-{job.created_at:%Y%m%dT%H%M%SZ}-{job.id}.csv"
    page = client.get(exports_url(team.project)).content.decode()
    assert f'data-job-id="{job.id}" data-status="done"' in page
    assert f"/settings/exports/{job.id}/download" in page
    assert "hx-trigger=" not in page  # nothing left to poll for

    client.force_login(team.viewer)  # viewers download finished exports
    link = client.get(f"/project/{team.project.id}/settings/exports/{job.id}/download")
    assert link.status_code == 302
    download = requests.get(link["Location"], timeout=10)
    assert download.status_code == 200
    assert (
        download.headers["Content-Disposition"]
        == f'attachment; filename="{job.object_key.rsplit("/", 1)[1]}"'
    )
    browser = body(
        client.get(f"/project/{team.project.id}/traces/actions/export.csv?environment=production&order=asc")
    )
    assert download.text == browser
    assert len(list(csv.DictReader(io.StringIO(download.text)))) == 120


def test_jsonl_export_holds_one_record_per_trace(client, team, export_bucket_env):
    make_traces(team.project, 30)
    client.force_login(team.admin)
    client.post(job_url(team.project), {"format": "jsonl", "query": ""})
    (job,) = export_jobs.run_pending()
    records = [json.loads(line) for line in stored(export_bucket_env, job.object_key).decode().splitlines()]
    assert [r["id"] for r in records] == [f"t-{i:04d}" for i in range(30)]


def test_progress_shows_while_running_and_the_page_polls(client, team, export_bucket_env):
    make_traces(team.project, 10)
    job = export_jobs.queue_export(team.project, team.member, "", "csv")
    worker = export_jobs.worker_id()
    claimed = export_jobs.claim_job(worker)
    assert claimed.pk == job.pk
    ExportJob.objects.filter(pk=job.pk).update(rows_written=4, total_estimate=10)
    client.force_login(team.viewer)

    partial = client.get(exports_url(team.project), HTTP_HX_REQUEST="true", HTTP_HX_TARGET="export-jobs")

    html = partial.content.decode()
    assert "<html" not in html
    assert 'hx-trigger="every 2s"' in html
    assert "running (40%)" in html
    assert "4 / 10" in html


def test_a_big_export_is_uploaded_in_parts(team, export_bucket_env, monkeypatch):
    monkeypatch.setattr(BucketWriter.__init__, "__defaults__", (5 * 1024 * 1024,))  # S3's smallest part
    make_traces(team.project, 1500, input={"text": "x" * 5000})
    export_jobs.queue_export(team.project, team.member, "", "jsonl")

    (job,) = export_jobs.run_pending()

    head = client(export_bucket()).head_object(Bucket=export_bucket_env, Key=job.object_key)
    assert head["ETag"].strip('"').endswith("-2")  # a multipart object of two parts
    lines = stored(export_bucket_env, job.object_key).decode().splitlines()
    assert len(lines) == job.rows_written == 1500
    assert head["ContentLength"] > 5 * 1024 * 1024


def test_unknown_access_key_fails_the_job_with_the_setting_named(
    team, export_bucket_env, monkeypatch, moto_checks_keys
):
    monkeypatch.setenv("LANGFUSE_S3_BATCH_EXPORT_ACCESS_KEY_ID", "AKIAUNKNOWNKEY000000")
    make_traces(team.project, 3)
    export_jobs.queue_export(team.project, team.member, "", "csv")

    (job,) = export_jobs.run_pending()

    assert job.status == ExportStatus.FAILED
    assert "LANGFUSE_S3_BATCH_EXPORT_ACCESS_KEY_ID" in job.error
    assert job.finished_at is not None


def test_wrong_endpoint_names_the_variable_that_set_it(team, export_bucket_env, monkeypatch):
    monkeypatch.delenv("LANGFUSE_S3_BATCH_EXPORT_ENDPOINT")
    monkeypatch.setenv("LANGFUSE_S3_ENDPOINT", "http://127.0.0.1:9")  # nothing listens there
    export_jobs.queue_export(team.project, team.member, "", "csv")

    (job,) = export_jobs.run_pending()

    assert job.status == ExportStatus.FAILED
    assert job.error.startswith("Cannot reach the S3 endpoint http://127.0.0.1:9: check LANGFUSE_S3_ENDPOINT")


def test_missing_bucket_fails_the_job_naming_the_bucket(team, export_bucket_env, monkeypatch):
    monkeypatch.setenv("LANGFUSE_S3_BATCH_EXPORT_BUCKET", "no-such-bucket")
    export_jobs.queue_export(team.project, team.member, "", "csv")
    (job,) = export_jobs.run_pending()
    assert job.status == ExportStatus.FAILED
    assert "Bucket 'no-such-bucket' does not exist" in job.error
    assert "LANGFUSE_S3_BATCH_EXPORT_BUCKET" in job.error


def test_without_a_bucket_the_list_cannot_queue_and_the_page_says_what_to_set(client, team, monkeypatch):
    monkeypatch.delenv("LANGFUSE_S3_BATCH_EXPORT_BUCKET", raising=False)
    client.force_login(team.member)
    response = client.post(job_url(team.project), {"format": "csv"})
    assert response.status_code == 400
    assert "LANGFUSE_S3_BATCH_EXPORT_BUCKET" in response.content.decode()
    assert not ExportJob.objects.exists()
    assert "LANGFUSE_S3_BATCH_EXPORT_BUCKET" in client.get(exports_url(team.project)).content.decode()


def test_viewers_cannot_queue_and_outsiders_cannot_download(client, team, export_bucket_env):
    client.force_login(team.viewer)
    assert client.post(job_url(team.project), {"format": "csv"}).status_code == 403
    job = ExportJob.objects.create(project=team.project, status=ExportStatus.DONE, object_key="k.csv")
    client.force_login(team.outsider)
    assert client.get(f"/project/{team.project.id}/settings/exports/{job.id}/download").status_code == 404
    other = ExportJob.objects.create(project=team.other_project, status=ExportStatus.DONE, object_key="k.csv")
    client.force_login(team.owner)  # a job of another project is not found through this one
    assert client.get(f"/project/{team.project.id}/settings/exports/{other.id}/download").status_code == 404


def test_an_unfinished_export_has_no_download(client, team, export_bucket_env):
    job = export_jobs.queue_export(team.project, team.member, "", "csv")
    client.force_login(team.viewer)
    response = client.get(f"/project/{team.project.id}/settings/exports/{job.id}/download")
    assert response.status_code == 409
    assert "queued" in response.content.decode()


# --- Claiming, leases ---------------------------------------------------------------------


def test_a_job_whose_worker_died_is_claimed_again_and_the_old_worker_stops(team, export_bucket_env):
    make_traces(team.project, 5)
    export_jobs.queue_export(team.project, team.member, "", "csv")
    dead = export_jobs.claim_job("dead-worker")
    assert export_jobs.claim_job("other") is None  # running with a fresh heartbeat: left alone
    ExportJob.objects.filter(pk=dead.pk).update(heartbeat_at=timezone.now() - export_jobs.LEASE * 2)

    (job,) = export_jobs.run_pending("second-worker")

    assert (job.status, job.attempts, job.worker, job.rows_written) == (
        ExportStatus.DONE,
        2,
        "second-worker",
        5,
    )
    with pytest.raises(export_jobs.LeaseLost):
        export_jobs._update(dead, "dead-worker", rows_written=1)


def test_a_job_that_keeps_killing_its_worker_ends_failed(team, export_bucket_env):
    job = export_jobs.queue_export(team.project, team.member, "", "csv")
    stale = timezone.now() - export_jobs.LEASE * 2
    ExportJob.objects.filter(pk=job.pk).update(
        status=ExportStatus.RUNNING, attempts=export_jobs.MAX_ATTEMPTS, heartbeat_at=stale
    )
    assert export_jobs.claim_job("w") is None
    job.refresh_from_db()
    assert job.status == ExportStatus.FAILED
    assert "stopped 3 times" in job.error


@pytest.mark.django_db(transaction=True)
def test_a_job_locked_by_another_replica_is_skipped_not_waited_for(team):
    job = ExportJob.objects.create(project=team.project)
    locked, release = threading.Event(), threading.Event()

    def other_replica() -> None:
        try:
            with transaction.atomic():
                ExportJob.objects.select_for_update().get(pk=job.pk)
                locked.set()
                release.wait(10)
        finally:
            connection.close()

    thread = threading.Thread(target=other_replica)
    thread.start()
    try:
        assert locked.wait(10)
        assert export_jobs.claim_job("this-replica") is None  # SKIP LOCKED: no wait, no double run
    finally:
        release.set()
        thread.join()
    assert export_jobs.claim_job("this-replica").pk == job.pk


# --- Daily schedule -----------------------------------------------------------------------


def test_daily_export_writes_the_previous_utc_day_once(client, team, export_bucket_env):
    now = datetime(2026, 11, 28, 0, 30, tzinfo=UTC)
    yesterday = datetime(2026, 11, 27, tzinfo=UTC)
    for i, timestamp in enumerate(
        [
            yesterday - timedelta(seconds=1),
            yesterday,
            yesterday + timedelta(hours=12),
            now - timedelta(minutes=31),
            now,
        ]
    ):
        Trace.objects.create(project=team.project, id=f"day-{i}", timestamp=timestamp)
    client.force_login(team.admin)
    response = client.post(
        f"/project/{team.project.id}/settings/exports/schedule", {"enabled": "on", "format": "jsonl"}
    )
    assert response.status_code == 302
    assert ExportSchedule.objects.get(project=team.project).enabled

    queued = export_jobs.queue_daily_exports(now)
    assert export_jobs.queue_daily_exports(now + timedelta(hours=3)) == []  # once per day

    assert [(j.kind, j.day.isoformat()) for j in queued] == [(ExportKind.DAILY, "2026-11-27")]
    (job,) = export_jobs.run_pending()
    assert job.object_key == f"exports/{team.project.id}/daily/traces-2026-11-27.jsonl"
    ids = [json.loads(line)["id"] for line in stored(export_bucket_env, job.object_key).decode().splitlines()]
    assert ids == ["day-1", "day-2", "day-3"]  # [00:00, 24:00) of 27 November, oldest first


def test_projects_without_the_schedule_get_no_daily_export(team, export_bucket_env):
    ExportSchedule.objects.create(project=team.other_project, enabled=False)
    assert export_jobs.queue_daily_exports() == []


def test_only_admins_set_the_schedule(client, team):
    client.force_login(team.member)
    response = client.post(
        f"/project/{team.project.id}/settings/exports/schedule", {"enabled": "on", "format": "csv"}
    )
    assert response.status_code == 403
    assert not ExportSchedule.objects.exists()


# --- Connection check, command ------------------------------------------------------------


def test_connection_check_reports_success_and_failure(client, team, export_bucket_env, monkeypatch):
    from moto import settings as moto_settings

    client.force_login(team.admin)
    url = f"/project/{team.project.id}/settings/exports/check"
    ok = client.post(url, HTTP_HX_REQUEST="true", HTTP_HX_TARGET="export-bucket")
    assert ok.status_code == 200
    assert "Connection works" in ok.content.decode()

    monkeypatch.setattr(moto_settings, "INITIAL_NO_AUTH_ACTION_COUNT", 0)  # moto checks keys from now on
    monkeypatch.setenv("LANGFUSE_S3_BATCH_EXPORT_ACCESS_KEY_ID", "AKIAUNKNOWNKEY000000")
    failed = client.post(url, HTTP_HX_REQUEST="true", HTTP_HX_TARGET="export-bucket")
    assert failed.status_code == 502
    assert "Connection failed" in failed.content.decode()
    assert "LANGFUSE_S3_BATCH_EXPORT_ACCESS_KEY_ID" in failed.content.decode()


def test_run_export_jobs_command_runs_the_queue(team, export_bucket_env, capsys):
    make_traces(team.project, 2)
    ExportSchedule.objects.create(project=team.project, enabled=True, format="csv")
    export_jobs.queue_export(team.project, team.member, "", "jsonl")
    call_command("run_export_jobs", daily=True)
    out = capsys.readouterr().out
    assert "Queued 1 daily export(s)" in out
    assert out.count(": done, ") == 2
    assert ExportJob.objects.filter(status=ExportStatus.DONE).count() == 2


def test_settings_copied_from_env_example_fall_back_to_the_generic_variables(monkeypatch, moto_endpoint):
    for name in [name for name in os.environ if name.startswith("LANGFUSE_S3")]:
        monkeypatch.delenv(name)
    empty = ["ENABLED", "REGION", "ENDPOINT", "ACCESS_KEY_ID", "SECRET_ACCESS_KEY", "FORCE_PATH_STYLE"]
    for name in empty:
        monkeypatch.setenv(f"LANGFUSE_S3_BATCH_EXPORT_{name}", "")
    monkeypatch.setenv("LANGFUSE_S3_BATCH_EXPORT_BUCKET", "exports")
    monkeypatch.setenv("LANGFUSE_S3_ENDPOINT", "http://minio:9000")
    monkeypatch.setenv("LANGFUSE_S3_ACCESS_KEY_ID", "generic-key")
    monkeypatch.setenv("LANGFUSE_S3_FORCE_PATH_STYLE", "true")

    target = export_bucket()

    assert (target.bucket, target.endpoint, target.access_key_id, target.force_path_style, target.prefix) == (
        "exports",
        "http://minio:9000",
        "generic-key",
        True,
        "exports/",
    )
    assert target.name("endpoint") == "LANGFUSE_S3_ENDPOINT"
    assert target.name("secret_access_key") == "LANGFUSE_S3_BATCH_EXPORT_SECRET_ACCESS_KEY"
    monkeypatch.setenv("LANGFUSE_S3_BATCH_EXPORT_ENABLED", "false")
    assert export_bucket() is None


def test_a_worker_round_queues_yesterdays_export_once_and_runs_it(team, export_bucket_env):
    from traces.export_jobs_worker import run_round

    yesterday_noon = (timezone.now() - timedelta(days=1)).replace(hour=12, minute=0, second=0, microsecond=0)
    Trace.objects.create(project=team.project, id="from-yesterday", timestamp=yesterday_noon)
    ExportSchedule.objects.create(project=team.project, enabled=True, format="csv")
    state: dict = {}

    run_round("round-worker", state)
    run_round("round-worker", state)

    (job,) = ExportJob.objects.for_project(team.project)
    assert (job.kind, job.status, job.rows_written) == (ExportKind.DAILY, ExportStatus.DONE, 1)
    assert "from-yesterday" in stored(export_bucket_env, job.object_key).decode()


def test_schedule_changes_are_in_the_audit_log(client, team):
    from accounts.models import AuditLog

    client.force_login(team.admin)
    client.post(f"/project/{team.project.id}/settings/exports/schedule", {"enabled": "on", "format": "csv"})
    entry = AuditLog.objects.get(project_id=team.project.id, resource_type="export-schedule")
    assert entry.after == {"enabled": True, "format": "csv"}
    assert entry.action == "update"


def test_a_finished_export_downloads_from_the_bucket_it_was_written_to(
    client, team, export_bucket_env, monkeypatch
):
    from traces.export_jobs_bucket import client as s3_client

    make_traces(team.project, 2)
    export_jobs.queue_export(team.project, team.member, "", "csv")
    (job,) = export_jobs.run_pending()
    s3_client(export_bucket()).create_bucket(Bucket="new-exports")
    monkeypatch.setenv("LANGFUSE_S3_BATCH_EXPORT_BUCKET", "new-exports")  # the setting changed since
    client.force_login(team.viewer)

    link = client.get(f"/project/{team.project.id}/settings/exports/{job.id}/download")

    download = requests.get(link["Location"], timeout=10)
    assert download.status_code == 200
    assert download.text.count("\n") == 3  # header and two rows


# --- Sessions -----------------------------------------------------------------------------


def make_sessions(project) -> None:
    now = timezone.now()
    for i in range(5):
        for j in range(i + 1):
            Trace.objects.create(
                project=project,
                id=f"s{i}-t{j}",
                session_id=f"chat-{i}" if i < 4 else "other-4",
                user_id=f"user-{j % 2}",
                timestamp=now - timedelta(minutes=10 * i + j),
                total_tokens=10,
            )
    Trace.objects.create(project=project, id="no-session", timestamp=now)


def test_sessions_list_downloads_and_bucket_export_hold_the_same_sessions(client, team, export_bucket_env):
    make_sessions(team.project)
    client.force_login(team.member)

    page = client.get(f"/project/{team.project.id}/sessions?q=chat").content.decode()
    assert f"/project/{team.project.id}/sessions/actions/export.csv?q=chat" in page
    assert 'name="source" value="sessions"' in page
    browser = body(client.get(f"/project/{team.project.id}/sessions/actions/export.csv?q=chat"))
    rows = list(csv.DictReader(io.StringIO(browser)))
    assert [(r["id"], r["traceCount"], r["totalTokens"]) for r in rows] == [
        ("chat-0", "1", "10"),
        ("chat-1", "2", "20"),
        ("chat-2", "3", "30"),
        ("chat-3", "4", "40"),
    ]
    assert json.loads(rows[3]["userIds"]) == ["user-0", "user-1"]

    response = client.post(job_url(team.project), {"source": "sessions", "format": "csv", "query": "q=chat"})
    assert response.status_code == 302
    (job,) = export_jobs.run_pending()

    assert (job.source, job.filter_query, job.rows_written, job.total_estimate) == (
        "sessions",
        "q=chat",
        4,
        4,
    )
    assert job.object_key.startswith(f"exports/{team.project.id}/sessions-")
    assert stored(export_bucket_env, job.object_key).decode() == browser


def test_sessions_jsonl_download_pages_through_every_session(client, team, monkeypatch):
    from traces import exports

    monkeypatch.setattr(exports, "CHUNK_SIZE", 2)  # several pages of the sessions keyset
    monkeypatch.setattr(exports.iter_session_chunks, "__defaults__", (2,))
    make_sessions(team.project)
    client.force_login(team.viewer)
    lines = body(client.get(f"/project/{team.project.id}/sessions/actions/export.jsonl")).splitlines()
    assert [json.loads(line)["id"] for line in lines] == ["chat-0", "chat-1", "chat-2", "chat-3", "other-4"]
