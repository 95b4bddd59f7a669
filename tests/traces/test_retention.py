"""Retention: the purge deletes exactly the data older than the window (rows and stored media
files), the dry run only counts, the command, the advisory lock, and the settings page."""

from __future__ import annotations

import threading
import time
from datetime import timedelta
from io import StringIO

import psycopg
import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.utils import timezone

from accounts.models import AuditLog
from tests.traces.list_data import make_observation, make_score, make_trace
from traces import retention
from traces.models import Comment, CommentObjectType, Media, MediaReference, Observation, Score, Trace
from traces.retention import PurgeBusy, PurgeResult, count_project, purge_all, purge_project
from traces.storage import s3_client

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    settings.MEDIA_S3_BUCKET = ""
    settings.MEDIA_LOCAL_ROOT = tmp_path / "media"
    return tmp_path / "media"


@pytest.fixture
def project(team):
    team.project.retention_days = 7
    team.project.save(update_fields=["retention_days"])
    return team.project


def stored_media(project, media_id: str, root, ago: timedelta) -> Media:
    media = Media.objects.create(
        project=project,
        id=media_id,
        sha256_hash=media_id.ljust(44, "="),
        content_type="image/png",
        content_length=3,
        bucket_path=f"{project.id}/{media_id}",
        uploaded_at=timezone.now() - ago,
        upload_http_status=200,
        created_at=timezone.now() - ago,
    )
    path = root / project.id / media_id
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"png")
    return media


def refer(project, media: Media, trace: Trace) -> None:
    MediaReference.objects.create(project=project, media_id=media.id, trace_id=trace.id, field="input")


def trace_with_children(project, trace_id: str, ago: timedelta) -> Trace:
    trace = make_trace(project, trace_id, ago=ago)
    observation = make_observation(project, trace, start_time=trace.timestamp)
    make_score(project, trace, "quality", 1.0, timestamp=trace.timestamp)
    Score.objects.create(
        project=project,
        id=f"obs-score-{trace_id}",
        observation_id=observation.id,
        name="x",
        timestamp=trace.timestamp,
    )
    Comment.objects.create(
        project=project, object_type=CommentObjectType.TRACE, object_id=trace.id, content="hi"
    )
    return trace


@pytest.fixture
def world(project, media_root):
    """Two old traces, two new ones, media used by old only, by both, by new only, and strays."""
    old = [trace_with_children(project, f"old-{i}", timedelta(days=10 + i)) for i in range(2)]
    new = [trace_with_children(project, f"new-{i}", timedelta(days=1 + i)) for i in range(2)]
    only_old = stored_media(project, "only-old", media_root, timedelta(days=10))
    shared = stored_media(project, "shared", media_root, timedelta(days=10))
    only_new = stored_media(project, "only-new", media_root, timedelta(days=1))
    refer(project, only_old, old[0])
    refer(project, shared, old[1])
    refer(project, shared, new[0])
    refer(project, only_new, new[1])
    # Strays: a session score and an observation without a trace row, both old; a new session score.
    Score.objects.create(
        project=project,
        id="session-old",
        session_id="s1",
        name="csat",
        timestamp=timezone.now() - timedelta(days=9),
    )
    Score.objects.create(
        project=project, id="session-new", session_id="s1", name="csat", timestamp=timezone.now()
    )
    Observation.objects.create(
        project=project,
        id="orphan-old",
        trace_id="never-arrived",
        start_time=timezone.now() - timedelta(days=8),
    )
    return {"old": old, "new": new}


def counts(project) -> dict[str, int]:
    return {
        "traces": Trace.objects.for_project(project).count(),
        "observations": Observation.objects.for_project(project).count(),
        "scores": Score.objects.for_project(project).count(),
        "comments": Comment.objects.for_project(project).count(),
        "references": MediaReference.objects.for_project(project).count(),
        "media": Media.objects.for_project(project).count(),
    }


def test_purge_deletes_exactly_the_data_older_than_the_window(project, world, media_root):
    result = purge_project(project)

    assert result == PurgeResult(traces=2, observations=3, scores=5, media=1)
    assert counts(project) == {
        "traces": 2,
        "observations": 2,
        "scores": 5,
        "comments": 2,
        "references": 2,
        "media": 2,
    }
    assert set(Trace.objects.for_project(project).values_list("id", flat=True)) == {"new-0", "new-1"}
    assert set(Media.objects.for_project(project).values_list("id", flat=True)) == {"shared", "only-new"}
    assert sorted(p.name for p in (media_root / project.id).iterdir()) == ["only-new", "shared"]
    cutoff = timezone.now() - timedelta(days=7)
    assert not Trace.objects.for_project(project).filter(timestamp__lt=cutoff).exists()
    assert not Score.objects.for_project(project).filter(timestamp__lt=cutoff).exists()
    assert not Observation.objects.for_project(project).filter(start_time__lt=cutoff).exists()


def test_purge_records_the_counts_in_the_audit_log(project, world):
    purge_project(project)

    entry = AuditLog.objects.get(project_id=project.id, action="purge")
    assert entry.resource_type == "retention"
    assert entry.after | {"cutoff": None} == {
        "cutoff": None,
        "retentionDays": 7,
        "traces": 2,
        "observations": 3,
        "scores": 5,
        "media": 1,
    }


def test_media_no_longer_referenced_goes_once_its_last_trace_is_purged(project, world, media_root):
    purge_project(project)
    purge_project(project, now=timezone.now() + timedelta(days=10))

    assert counts(project)["traces"] == 0
    assert Media.objects.for_project(project).count() == 0
    assert list((media_root / project.id).iterdir()) == []


def test_a_recent_upload_goes_with_its_old_trace_but_one_waiting_for_its_trace_stays(project, media_root):
    backfilled = make_trace(project, "backfilled", ago=timedelta(days=30))
    recent = stored_media(project, "recent-upload", media_root, timedelta(hours=1))
    refer(project, recent, backfilled)
    stored_media(project, "waiting", media_root, timedelta(hours=1))

    assert purge_project(project).media == 1

    assert list(Media.objects.for_project(project).values_list("id", flat=True)) == ["waiting"]
    assert [p.name for p in (media_root / project.id).iterdir()] == ["waiting"]


def test_purge_works_in_batches_smaller_than_the_backlog(project, world):
    for i in range(7):
        make_trace(project, f"bulk-{i}", ago=timedelta(days=20))

    result = purge_project(project, batch_size=2)

    assert result.traces == 9
    assert Trace.objects.for_project(project).count() == 2


def test_a_project_without_a_window_keeps_everything(team, world):
    other = team.other_project
    make_trace(other, "ancient", ago=timedelta(days=3000))

    assert purge_project(other) == PurgeResult()
    assert Trace.objects.for_project(other).count() == 1


def test_purge_leaves_other_projects_alone(team, project, world):
    make_trace(team.other_project, "old-0", ago=timedelta(days=30))
    team.other_project.retention_days = 60
    team.other_project.save(update_fields=["retention_days"])

    purge_all()

    assert Trace.objects.for_project(team.other_project).count() == 1


def test_dry_run_counts_what_the_purge_deletes_without_deleting(project, world):
    before = counts(project)

    predicted = count_project(project)

    assert counts(project) == before
    assert purge_project(project) == predicted


def test_command_purges_projects_with_a_window(project, world):
    out = StringIO()
    call_command("purge_retention", stdout=out)

    assert f"Project {project.id}: deleted 2 traces, 3 observations, 5 scores, 1 media" in out.getvalue()
    assert counts(project)["traces"] == 2


def test_command_dry_run_deletes_nothing(project, world):
    out = StringIO()
    call_command("purge_retention", "--dry-run", "--project", project.id, stdout=out)

    assert f"Project {project.id}: would delete 2 traces, 3 observations, 5 scores, 1 media" in out.getvalue()
    assert counts(project)["traces"] == 4


def test_command_names_an_unknown_project():
    with pytest.raises(CommandError, match="No project with id 'nope'"):
        call_command("purge_retention", "--project", "nope")


@pytest.fixture
def lock_held_elsewhere():
    """Another database session (another replica) holding the retention lock."""
    params = connection.get_connection_params()
    params.pop("cursor_factory", None)
    params.pop("context", None)
    with psycopg.connect(**params, autocommit=True) as other:
        other.execute("SELECT pg_advisory_lock(%s)", [retention.RETENTION_LOCK])
        yield
        other.execute("SELECT pg_advisory_unlock(%s)", [retention.RETENTION_LOCK])


def test_the_lock_stops_a_second_concurrent_run(project, world, lock_held_elsewhere):
    with pytest.raises(PurgeBusy):
        purge_all()
    with pytest.raises(CommandError, match="Another retention purge is running"):
        call_command("purge_retention")

    assert counts(project)["traces"] == 4


def test_the_lock_is_released_after_a_run(project, world):
    purge_all()
    purge_all()  # would raise PurgeBusy if the first run had kept the lock

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND objid = %s",
            [retention.RETENTION_LOCK],
        )
        assert cursor.fetchone()[0] == 0


def test_periodic_round_skips_quietly_while_another_replica_purges(project, world, lock_held_elsewhere):
    from traces.retention_schedule import run_once

    run_once()

    assert counts(project)["traces"] == 4


def test_purge_deletes_media_objects_from_the_bucket(project, media_bucket):
    s3 = s3_client()
    old = make_trace(project, "old", ago=timedelta(days=30))
    new = make_trace(project, "new")
    for media_id, trace in [("gone", old), ("kept", new)]:
        media = Media.objects.create(
            project=project,
            id=media_id,
            sha256_hash=media_id.ljust(44, "="),
            content_type="image/png",
            content_length=3,
            bucket_name=media_bucket,
            bucket_path=f"media/{project.id}/{media_id}.png",
            upload_http_status=200,
            created_at=trace.timestamp,
        )
        s3.put_object(Bucket=media_bucket, Key=media.bucket_path, Body=b"png")
        refer(project, media, trace)

    assert purge_project(project).media == 1

    keys = [item["Key"] for item in s3.list_objects_v2(Bucket=media_bucket).get("Contents", [])]
    assert keys == [f"media/{project.id}/kept.png"]
    assert list(Media.objects.for_project(project).values_list("id", flat=True)) == ["kept"]


# --- The periodic run in the server ---------------------------------------------------------


def test_the_periodic_thread_is_off_at_zero_minutes():
    from traces.retention_schedule import start

    assert start(0, threading.Event()) is None


@pytest.mark.django_db(transaction=True)
def test_the_periodic_thread_purges_and_stops(team):
    from traces.retention_schedule import start

    team.project.retention_days = 3
    team.project.save(update_fields=["retention_days"])
    make_trace(team.project, "old", ago=timedelta(days=5))
    make_trace(team.project, "new")
    stop = threading.Event()

    thread = start(60, stop, first_delay=0)
    deadline = time.monotonic() + 10
    while Trace.objects.for_project(team.project).count() > 1 and time.monotonic() < deadline:
        time.sleep(0.05)
    stop.set()
    thread.join(timeout=10)

    assert list(Trace.objects.for_project(team.project).values_list("id", flat=True)) == ["new"]
    assert not thread.is_alive()


def test_a_wrong_interval_stops_start_up_naming_the_variable(monkeypatch):
    from langfuse_ui.config import ConfigError
    from traces.retention_schedule import interval_minutes

    monkeypatch.setenv("LANGFUSE_RETENTION_INTERVAL_MINUTES", "hourly")
    with pytest.raises(ConfigError, match="LANGFUSE_RETENTION_INTERVAL_MINUTES"):
        interval_minutes()
    monkeypatch.setenv("LANGFUSE_RETENTION_INTERVAL_MINUTES", "")
    assert interval_minutes() == 60


# --- Settings page --------------------------------------------------------------------------


def url(project) -> str:
    return f"/project/{project.id}/settings/retention"


@pytest.mark.parametrize("role", ["admin", "owner"])
def test_admins_see_and_set_the_window(client, team, role):
    client.force_login(getattr(team, role))
    page = client.get(url(team.project))
    assert page.status_code == 200
    assert "kept forever" in page.content.decode()

    response = client.post(url(team.project), {"days": "30"})

    assert response.status_code == 302
    team.project.refresh_from_db()
    assert team.project.retention_days == 30
    entry = AuditLog.objects.filter(project_id=team.project.id, action="update").latest("created_at")
    assert entry.before == {"retention_days": None} and entry.after == {"retention_days": 30}


def test_empty_or_zero_keeps_forever(client, team, project):
    client.force_login(team.admin)

    client.post(url(project), {"days": "0"})

    project.refresh_from_db()
    assert project.retention_days is None


def test_fewer_than_three_days_is_refused(client, team, project):
    client.force_login(team.admin)

    response = client.post(
        url(project), {"days": "2"}, HTTP_HX_REQUEST="true", HTTP_HX_TARGET="retention-form"
    )

    assert response.status_code == 400
    assert "at least 3 days" in response.content.decode()
    project.refresh_from_db()
    assert project.retention_days == 7


def test_htmx_save_answers_with_the_fresh_form(client, team, project):
    client.force_login(team.admin)

    response = client.post(
        url(project), {"days": "14"}, HTTP_HX_REQUEST="true", HTTP_HX_TARGET="retention-form"
    )

    html = response.content.decode()
    assert response.status_code == 200
    assert html.lstrip().startswith('<section id="retention-form"')
    assert "14 days" in html


def test_the_page_shows_the_last_purge(client, team, project, world):
    purge_project(project)
    client.force_login(team.admin)

    html = client.get(url(project)).content.decode()

    assert "2 traces, 3 observations, 5 scores, 1 media objects deleted" in html


def test_settings_navigation_links_the_page_for_admins_only(client, team):
    client.force_login(team.admin)
    assert url(team.project) in client.get(f"/project/{team.project.id}/settings").content.decode()
    client.force_login(team.member)
    assert url(team.project) not in client.get(f"/project/{team.project.id}/settings").content.decode()


@pytest.mark.parametrize("role", ["member", "viewer"])
def test_members_and_viewers_may_not_change_retention(client, team, role):
    client.force_login(getattr(team, role))

    assert client.get(url(team.project)).status_code == 403
    assert client.post(url(team.project), {"days": "3"}).status_code == 403
    team.project.refresh_from_db()
    assert team.project.retention_days is None


def test_outsider_gets_404(client, team):
    client.force_login(team.outsider)

    assert client.get(url(team.project)).status_code == 404
    assert client.post(url(team.project), {"days": "3"}).status_code == 404
