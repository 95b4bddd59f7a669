"""Media API: POST /media, PUT to the upload URL, PATCH /media/{id}, GET /media/{id}, download.

The local folder backend is exercised through the Django client; the S3 backend against a real
S3-compatible server (moto) on loopback, with the presigned URLs used by plain `requests`.
"""

from __future__ import annotations

import base64
import hashlib
import json
import time

import pytest
import requests
from django.core import signing

from tests.factories import make_key, make_project_with_roles
from tests.live import database_url_of_current_connection, start_server
from tests.traces.media_requests import (
    PNG,
    PNG_HASH,
    PNG_ID,
    RECORDED_PATCH,
    RECORDED_POST,
    auth,
    basic,
    local_path,
    media_body,
    patch_media,
    post_media,
    put_bytes,
    sha256_b64,
)
from traces.media import media_id_for
from traces.models import Media, MediaReference

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def local_storage(settings, tmp_path):
    settings.MEDIA_S3_BUCKET = ""
    settings.MEDIA_LOCAL_ROOT = tmp_path / "media"
    return tmp_path / "media"


# --- The recorded Python SDK 5 flow ------------------------------------------------------


def test_recorded_v5_flow_uploads_patches_and_downloads_the_same_bytes(client, team, local_storage):
    response = post_media(client, team, RECORDED_POST["body_json"])
    assert response.status_code == 200
    answer = response.json()
    assert answer["mediaId"] == PNG_ID
    assert answer["uploadUrl"].startswith("http://testserver/api/public/media-upload/")

    put = put_bytes(client, answer["uploadUrl"], PNG)
    assert put.status_code == 200
    assert (local_storage / team.project.id / PNG_ID).read_bytes() == PNG

    patched = patch_media(client, team, PNG_ID)
    assert patched.status_code == 204
    assert patched.content == b""

    got = client.get(f"/api/public/media/{PNG_ID}", **auth(team))
    assert got.status_code == 200
    info = got.json()
    assert info["mediaId"] == PNG_ID
    assert info["contentType"] == "image/png"
    assert info["contentLength"] == 29
    assert info["uploadedAt"] == "2026-11-27T21:34:43.317030Z"
    assert info["urlExpiry"].endswith("Z")

    download = client.get(local_path(info["url"]))  # no Authorization header: the token is the credential
    assert download.status_code == 200
    assert download["Content-Type"] == "image/png"
    assert b"".join(download.streaming_content) == PNG


def test_upload_records_the_trace_observation_and_field(client, team):
    post_media(client, team, RECORDED_POST["body_json"])
    ref = MediaReference.objects.for_project(team.project).get()
    assert (ref.media_id, ref.trace_id, ref.observation_id, ref.field) == (
        PNG_ID,
        "49a544a3fa058e075a164382b02e21a5",
        "f06ebe9b6ea03434",
        "input",
    )


@pytest.mark.parametrize("data", [b"a", b"hello world" * 100, bytes(range(256)) * 7])
def test_media_id_is_the_sdks_computation(client, team, data):
    expected = base64.b64encode(hashlib.sha256(data).digest()).decode()
    expected = expected.replace("+", "-").replace("/", "_")[:22]
    response = post_media(client, team, media_body(data, contentType="application/octet-stream"))
    assert response.json()["mediaId"] == expected == media_id_for(sha256_b64(data))


def test_the_upload_marks_the_media_uploaded_before_the_patch(client, team):
    answer = post_media(client, team, RECORDED_POST["body_json"]).json()
    put_bytes(client, answer["uploadUrl"], PNG)
    media = Media.objects.for_project(team.project).get(id=PNG_ID)
    assert media.upload_http_status == 200
    assert media.uploaded_at is not None


# --- Dedup --------------------------------------------------------------------------------


def test_second_request_for_uploaded_bytes_gets_no_upload_url(client, team):
    answer = post_media(client, team, RECORDED_POST["body_json"]).json()
    put_bytes(client, answer["uploadUrl"], PNG)
    patch_media(client, team, PNG_ID)

    again = post_media(client, team, media_body(traceId="another-trace", observationId=None, field="output"))
    assert again.status_code == 200
    assert again.json() == {"mediaId": PNG_ID, "uploadUrl": None}
    assert Media.objects.for_project(team.project).count() == 1
    refs = MediaReference.objects.for_project(team.project).order_by("created_at")
    assert [(r.trace_id, r.field) for r in refs] == [
        ("49a544a3fa058e075a164382b02e21a5", "input"),
        ("another-trace", "output"),
    ]


def test_same_reference_twice_is_recorded_once(client, team):
    post_media(client, team, RECORDED_POST["body_json"])
    post_media(client, team, RECORDED_POST["body_json"])
    assert MediaReference.objects.for_project(team.project).count() == 1


def test_bytes_never_uploaded_get_a_fresh_upload_url(client, team):
    first = post_media(client, team, RECORDED_POST["body_json"]).json()
    second = post_media(client, team, RECORDED_POST["body_json"]).json()
    assert second["mediaId"] == first["mediaId"]
    assert second["uploadUrl"] is not None


def test_a_failed_upload_reported_by_patch_is_not_deduplicated(client, team):
    post_media(client, team, RECORDED_POST["body_json"])
    failed = {**RECORDED_PATCH["body_json"], "uploadHttpStatus": 500, "uploadHttpError": "boom"}
    assert patch_media(client, team, PNG_ID, failed).status_code == 204
    assert post_media(client, team, RECORDED_POST["body_json"]).json()["uploadUrl"] is not None
    got = client.get(f"/api/public/media/{PNG_ID}", **auth(team))
    assert got.status_code == 404
    assert "500" in got.json()["message"]


def test_same_bytes_in_another_project_are_a_separate_upload(client, team):
    post_media(client, team, RECORDED_POST["body_json"])
    Media.objects.for_project(team.project).update(upload_http_status=200)
    public, secret = make_key(team.other_project)
    response = client.post(
        "/api/public/media",
        json.dumps(RECORDED_POST["body_json"]),
        content_type="application/json",
        **basic(public, secret),
    )
    assert response.json()["uploadUrl"] is not None


# --- Local upload URL checks ----------------------------------------------------------


def test_tampered_upload_signature_is_refused(client, team, local_storage):
    url = post_media(client, team, RECORDED_POST["body_json"]).json()["uploadUrl"]
    tampered = url[:-3] + ("AAA" if not url.endswith("AAA") else "BBB")
    response = put_bytes(client, tampered, PNG)
    assert response.status_code == 403
    assert "signature" in response.json()["message"]
    assert not (local_storage / team.project.id / PNG_ID).exists()


def test_upload_url_for_another_media_cannot_be_forged_by_editing_the_token(client, team):
    url = post_media(client, team, RECORDED_POST["body_json"]).json()["uploadUrl"]
    token = url.rsplit("/", 1)[1]
    _payload, rest = token.split(":", 1)
    forged_payload = base64.urlsafe_b64encode(
        json.dumps([team.other_project.id, PNG_ID], separators=(",", ":")).encode()
    ).decode()
    assert put_bytes(client, url.replace(token, f"{forged_payload}:{rest}"), PNG).status_code == 403


def test_bytes_with_another_hash_are_rejected_and_not_stored(client, team, local_storage):
    url = post_media(client, team, RECORDED_POST["body_json"]).json()["uploadUrl"]
    wrong = PNG[:-1] + b"\x01"
    response = put_bytes(client, url, wrong, HTTP_X_AMZ_CHECKSUM_SHA256=PNG_HASH)
    assert response.status_code == 400
    assert "SHA-256" in response.json()["message"]
    assert not (local_storage / team.project.id / PNG_ID).exists()
    assert list((local_storage / team.project.id).iterdir()) == []  # no temporary file left
    assert Media.objects.for_project(team.project).get(id=PNG_ID).upload_http_status is None


def test_checksum_header_that_disagrees_with_the_announced_hash_is_rejected(client, team):
    url = post_media(client, team, RECORDED_POST["body_json"]).json()["uploadUrl"]
    response = put_bytes(client, url, PNG, HTTP_X_AMZ_CHECKSUM_SHA256=sha256_b64(b"other"))
    assert response.status_code == 400
    assert "x-amz-checksum-sha256" in response.json()["message"]


def test_upload_with_another_content_type_is_rejected(client, team):
    url = post_media(client, team, RECORDED_POST["body_json"]).json()["uploadUrl"]
    response = put_bytes(client, url, PNG, content_type="image/jpeg")
    assert response.status_code == 400
    assert "image/png" in response.json()["message"]


def test_upload_longer_than_announced_is_rejected(client, team):
    url = post_media(client, team, RECORDED_POST["body_json"]).json()["uploadUrl"]
    response = put_bytes(client, url, PNG + b"extra")
    assert response.status_code == 400
    assert "29" in response.json()["message"]


def test_upload_url_needs_put(client, team):
    url = post_media(client, team, RECORDED_POST["body_json"]).json()["uploadUrl"]
    assert client.get(local_path(url)).status_code == 405


# --- Validation of POST /media ----------------------------------------------------------


def test_too_large_content_length_answers_413_naming_the_limit(client, team, settings):
    settings.MEDIA_MAX_CONTENT_LENGTH = 20
    response = post_media(client, team, RECORDED_POST["body_json"])
    assert response.status_code == 413
    assert "LANGFUSE_S3_MEDIA_MAX_CONTENT_LENGTH" in response.json()["message"]
    assert "20 bytes" in response.json()["message"]
    assert not Media.objects.exists()


def test_default_limit_is_one_gigabyte(client, team):
    response = post_media(client, team, media_body(contentLength=1_000_000_001))
    assert response.status_code == 413
    assert post_media(client, team, media_body(contentLength=1_000_000_000)).status_code == 200


@pytest.mark.parametrize("content_type", ["application/x-msdownload", "image/png; charset=x", "", None])
def test_unsupported_content_type_answers_400(client, team, content_type):
    response = post_media(client, team, media_body(contentType=content_type))
    assert response.status_code == 400
    assert "contentType" in response.json()["message"]


@pytest.mark.parametrize(
    ("fields", "words"),
    [
        ({"sha256Hash": "not-base64!"}, "sha256Hash"),
        ({"sha256Hash": base64.b64encode(b"short").decode()}, "sha256Hash"),
        ({"traceId": None}, "traceId"),
        ({"field": "somewhere"}, "field"),
        ({"contentLength": 0}, "contentLength"),
        ({"contentLength": "29"}, "contentLength"),
        ({"traceId": "t", "datasetId": "d", "datasetItemId": "i"}, "exactly one"),
    ],
)
def test_invalid_upload_requests_answer_400_with_the_field_named(client, team, fields, words):
    response = post_media(client, team, media_body(**fields))
    assert response.status_code == 400
    assert words in response.json()["message"]


def test_non_json_body_answers_400(client, team):
    response = client.post("/api/public/media", b"{", content_type="application/json", **auth(team))
    assert response.status_code == 400


def test_dataset_item_media_gets_an_upload_url_without_a_trace_reference(client, team):
    body = media_body(
        traceId=None, observationId=None, datasetId="ds", datasetItemId="item", field="expectedOutput"
    )
    response = post_media(client, team, body)
    assert response.status_code == 200
    assert response.json()["uploadUrl"]
    assert not MediaReference.objects.exists()


# --- PATCH and GET --------------------------------------------------------------------


def test_patch_without_upload_status_answers_400(client, team):
    post_media(client, team, RECORDED_POST["body_json"])
    response = patch_media(client, team, PNG_ID, {"uploadedAt": "2026-01-01T00:00:00Z"})
    assert response.status_code == 400
    assert "uploadHttpStatus" in response.json()["message"]
    bad_date = patch_media(client, team, PNG_ID, {"uploadedAt": "yesterday", "uploadHttpStatus": 200})
    assert bad_date.status_code == 400


def test_patch_of_unknown_media_answers_404(client, team):
    assert patch_media(client, team, "nope").status_code == 404


def test_get_before_upload_answers_404_saying_so(client, team):
    post_media(client, team, RECORDED_POST["body_json"])
    response = client.get(f"/api/public/media/{PNG_ID}", **auth(team))
    assert response.status_code == 404
    assert "not been uploaded" in response.json()["message"]


def test_media_routes_need_basic_auth(client, team):
    post = client.post("/api/public/media", json.dumps(media_body()), content_type="application/json")
    assert post.status_code == 401
    assert client.get(f"/api/public/media/{PNG_ID}").status_code == 401


# --- Tenancy ------------------------------------------------------------------------------


def upload_png(client, team) -> None:
    answer = post_media(client, team, RECORDED_POST["body_json"]).json()
    put_bytes(client, answer["uploadUrl"], PNG)
    patch_media(client, team, PNG_ID)


def test_another_projects_media_is_404(client, team):
    upload_png(client, team)
    outsider = basic(*make_key(team.other_project))
    assert client.get(f"/api/public/media/{PNG_ID}", **outsider).status_code == 404
    patch = client.patch(
        f"/api/public/media/{PNG_ID}",
        json.dumps(RECORDED_PATCH["body_json"]),
        content_type="application/json",
        **outsider,
    )
    assert patch.status_code == 404
    assert client.get(f"/api/public/media/{PNG_ID}", **auth(team)).status_code == 200


# --- Download URL -------------------------------------------------------------------------


def test_tampered_download_signature_is_refused(client, team):
    upload_png(client, team)
    url = client.get(f"/api/public/media/{PNG_ID}", **auth(team)).json()["url"]
    response = client.get(local_path(url)[:-2] + "zz")
    assert response.status_code == 403


def test_upload_token_does_not_work_as_download_token(client, team):
    answer = post_media(client, team, RECORDED_POST["body_json"]).json()
    put_bytes(client, answer["uploadUrl"], PNG)
    token = answer["uploadUrl"].rsplit("/", 1)[1]
    assert client.get(f"/api/public/media-download/{token}").status_code == 403


def test_expired_download_url_is_refused(client, team, monkeypatch):
    upload_png(client, team)
    real_time = time.time
    monkeypatch.setattr(signing.time, "time", lambda: real_time() - 2 * 3600)
    url = client.get(f"/api/public/media/{PNG_ID}", **auth(team)).json()["url"]
    monkeypatch.setattr(signing.time, "time", real_time)
    response = client.get(local_path(url))
    assert response.status_code == 403
    assert "expired" in response.json()["message"]


def test_downloaded_html_cannot_run_scripts_on_this_origin(client, team):
    page = b"<script>alert(1)</script>"
    answer = post_media(client, team, media_body(page, contentType="text/html")).json()
    put_bytes(client, answer["uploadUrl"], page, content_type="text/html")
    patch_media(client, team, answer["mediaId"])
    url = client.get(f"/api/public/media/{answer['mediaId']}", **auth(team)).json()["url"]
    response = client.get(local_path(url))
    assert response.status_code == 200
    assert response["Content-Security-Policy"].startswith("sandbox")


# --- Through a real ASGI server ------------------------------------------------------------


def test_flow_through_a_live_uvicorn_server_with_plain_requests(transactional_db, tmp_path):
    team = make_project_with_roles()
    server = start_server(
        database_url_of_current_connection(), tmp_path / "server.log", {"LANGFUSE_DATA_DIR": str(tmp_path)}
    )
    keys = (team.public_key, team.secret_key)
    try:
        answer = requests.post(
            f"{server.url}/api/public/media", json=RECORDED_POST["body_json"], auth=keys, timeout=10
        ).json()
        assert answer["uploadUrl"].startswith(f"{server.url}/api/public/media-upload/")
        headers = {
            "Content-Type": "image/png",
            "x-amz-checksum-sha256": PNG_HASH,
            "x-ms-blob-type": "BlockBlob",
        }
        assert requests.put(answer["uploadUrl"], data=PNG, headers=headers, timeout=10).status_code == 200
        patch = requests.patch(
            f"{server.url}/api/public/media/{PNG_ID}", json=RECORDED_PATCH["body_json"], auth=keys, timeout=10
        )
        assert patch.status_code == 204
        info = requests.get(f"{server.url}/api/public/media/{PNG_ID}", auth=keys, timeout=10).json()
        download = requests.get(info["url"], timeout=10)
        assert download.content == PNG
        assert download.headers["Content-Type"] == "image/png"
        assert (tmp_path / "media" / team.project.id / PNG_ID).read_bytes() == PNG
    finally:
        server.stop()
