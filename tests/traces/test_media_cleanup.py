"""Media files of deleted traces leave the bucket, and Settings > Media sets the bucket's expiry
rule; against a real S3-compatible server (moto) on loopback."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.projects import delete_project
from tests.traces.list_data import make_trace
from tests.traces.media_requests import auth
from traces import bulk_delete
from traces.deletion import delete_traces
from traces.models import Media, MediaReference
from traces.retention import purge_project
from traces.storage import S3Storage, s3_client

pytestmark = pytest.mark.django_db


def stored_media(project, media_id: str, *trace_ids: str, bucket: str) -> Media:
    """A media row with its object in the bucket, referred to by these traces."""
    key = S3Storage(bucket).object_path(project.pk, media_id, "image/png")
    media = Media.objects.create(
        project=project,
        id=media_id,
        sha256_hash=media_id.ljust(44, "="),
        content_type="image/png",
        content_length=3,
        bucket_name=bucket,
        bucket_path=key,
        uploaded_at=timezone.now(),
        upload_http_status=200,
    )
    s3_client().put_object(Bucket=bucket, Key=key, Body=b"png")
    for trace_id in trace_ids:
        MediaReference.objects.create(project=project, media_id=media_id, trace_id=trace_id, field="input")
    return media


def keys(bucket: str) -> set[str]:
    return {item["Key"] for item in s3_client().list_objects_v2(Bucket=bucket).get("Contents", [])}


def test_deleting_a_trace_removes_its_own_media_and_keeps_shared_media(team, media_bucket):
    project = team.project
    make_trace(project, "a")
    make_trace(project, "b")
    own = stored_media(project, "only-a", "a", bucket=media_bucket)
    shared = stored_media(project, "shared", "a", "b", bucket=media_bucket)

    delete_traces(project, ["a"])

    assert keys(media_bucket) == {shared.bucket_path}
    assert list(Media.objects.for_project(project).values_list("id", flat=True)) == ["shared"]
    assert not Media.objects.for_project(project).filter(id=own.id).exists()

    delete_traces(project, ["b"])  # the last reference goes: so does the file
    assert keys(media_bucket) == set()
    assert not Media.objects.for_project(project).exists()


def test_public_api_delete_removes_media_objects(client, team, media_bucket):
    make_trace(team.project, "api-trace")
    stored_media(team.project, "api-media", "api-trace", bucket=media_bucket)

    response = client.delete("/api/public/traces/api-trace", **auth(team))

    assert response.status_code == 200
    assert keys(media_bucket) == set()


def test_bulk_delete_by_filter_removes_media_objects(team, media_bucket):
    for i in range(3):
        make_trace(team.project, f"bulk-{i}", name="doomed")
        stored_media(team.project, f"bulk-media-{i}", f"bulk-{i}", bucket=media_bucket)
    make_trace(team.project, "kept", name="kept")
    kept = stored_media(team.project, "kept-media", "kept", bucket=media_bucket)
    scope = bulk_delete.DeletionScope(trace_ids=[], filter_query="name=doomed", as_of=timezone.now())

    assert bulk_delete.delete_all(team.project, scope) == 3

    assert keys(media_bucket) == {kept.bucket_path}


def test_retention_purge_removes_media_objects_of_old_traces(team, media_bucket):
    project = team.project
    project.retention_days = 30
    project.save()
    make_trace(project, "old", ago=timedelta(days=31))
    make_trace(project, "new")
    stored_media(project, "old-media", "old", bucket=media_bucket)
    new = stored_media(project, "new-media", "new", bucket=media_bucket)

    result = purge_project(project)

    assert (result.traces, result.media) == (1, 1)
    assert keys(media_bucket) == {new.bucket_path}


def test_project_delete_removes_every_media_object_of_the_project(team, media_bucket):
    make_trace(team.project, "t")
    stored_media(team.project, "m1", "t", bucket=media_bucket)
    stored_media(team.project, "m2", bucket=media_bucket)  # waiting for its trace
    elsewhere = stored_media(team.other_project, "m3", "x", bucket=media_bucket)

    delete_project(team.project, team.owner)

    assert keys(media_bucket) == {elsewhere.bucket_path}
    assert not Media.objects.for_project(team.project).exists()


# --- Settings > Media: the bucket's expiry rule -------------------------------------------


def media_url(project) -> str:
    return f"/project/{project.id}/settings/media"


def rules(bucket: str) -> list[dict]:
    return s3_client().get_bucket_lifecycle_configuration(Bucket=bucket)["Rules"]


def test_admin_sets_reads_back_and_removes_the_expiry_rule(client, team, media_bucket):
    other_rule = {
        "ID": "operator-rule",
        "Filter": {"Prefix": "tmp/"},
        "Status": "Enabled",
        "Expiration": {"Days": 1},
    }
    s3_client().put_bucket_lifecycle_configuration(
        Bucket=media_bucket, LifecycleConfiguration={"Rules": [other_rule]}
    )
    client.force_login(team.admin)
    assert "until their traces are deleted" in client.get(media_url(team.project)).content.decode()

    response = client.post(media_url(team.project), {"days": "30"})

    assert response.status_code == 302
    ours = [rule for rule in rules(media_bucket) if rule["ID"] == f"langfuse-media-{team.project.id}"]
    assert len(ours) == 1
    assert ours[0]["Expiration"]["Days"] == 30
    assert ours[0]["Filter"]["Prefix"] == f"media/{team.project.id}/"
    assert "operator-rule" in {rule["ID"] for rule in rules(media_bucket)}  # other rules are kept
    page = client.get(media_url(team.project)).content.decode()
    assert "<strong>30 days</strong> after upload" in page

    client.post(media_url(team.project), {"days": "0"})

    assert [rule["ID"] for rule in rules(media_bucket)] == ["operator-rule"]


def test_rules_of_two_projects_live_side_by_side(client, team, media_bucket):
    client.force_login(team.owner)
    client.post(media_url(team.project), {"days": "7"})
    from traces.storage import media_expiry_days, set_media_expiry_days

    set_media_expiry_days(team.other_project.pk, 90)
    assert media_expiry_days(team.project.pk) == 7
    assert media_expiry_days(team.other_project.pk) == 90


def test_bad_days_get_400_and_members_403(client, team, media_bucket):
    client.force_login(team.admin)
    response = client.post(
        media_url(team.project), {"days": "-3"}, HTTP_HX_REQUEST="true", HTTP_HX_TARGET="media-expiry"
    )
    assert response.status_code == 400
    assert "<html" not in response.content.decode()
    client.force_login(team.member)
    assert client.post(media_url(team.project), {"days": "3"}).status_code == 403


def test_without_a_media_bucket_the_page_says_what_to_set(client, team, settings):
    settings.MEDIA_S3_BUCKET = ""
    client.force_login(team.admin)
    assert "LANGFUSE_S3_MEDIA_UPLOAD_BUCKET" in client.get(media_url(team.project)).content.decode()
    response = client.post(media_url(team.project), {"days": "3"})
    assert response.status_code == 400
    assert "LANGFUSE_S3_MEDIA_UPLOAD_BUCKET" in response.content.decode()
