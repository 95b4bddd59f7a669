"""Media through the S3 backend, against a real S3-compatible server (moto) on loopback.

The presigned URLs are used with plain `requests`, as an SDK would, without any Authorization header.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from tests.traces.media_requests import (
    PNG,
    PNG_HASH,
    PNG_ID,
    RECORDED_POST,
    auth,
    local_path,
    media_body,
    patch_media,
    post_media,
    put_bytes,
)
from traces.models import Media
from traces.storage import UPLOAD_SALT, make_token, s3_client

pytestmark = pytest.mark.django_db
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def bucket(media_bucket) -> str:
    return media_bucket


def upload_to_s3(client, team) -> str:
    url = post_media(client, team, RECORDED_POST["body_json"]).json()["uploadUrl"]
    response = requests.put(
        url,
        data=PNG,
        headers={
            "Content-Type": "image/png",
            "x-amz-checksum-sha256": PNG_HASH,
            "x-ms-blob-type": "BlockBlob",
        },
        timeout=10,
    )
    assert response.status_code == 200, response.text
    return url


def test_recorded_v5_flow_through_presigned_s3_urls(client, team, bucket, moto_endpoint):
    answer = post_media(client, team, RECORDED_POST["body_json"]).json()
    assert answer["mediaId"] == PNG_ID
    upload = urlsplit(answer["uploadUrl"])
    key = f"media/{team.project.id}/{PNG_ID}.png"
    assert f"{upload.scheme}://{upload.netloc}" == moto_endpoint
    assert upload.path == f"/{bucket}/{key}"
    signed = parse_qs(upload.query)["X-Amz-SignedHeaders"][0].split(";")
    assert {"content-type", "x-amz-checksum-sha256"} <= set(signed)  # S3 enforces type and hash

    upload_to_s3(client, team)
    assert patch_media(client, team, PNG_ID).status_code == 204
    stored = s3_client().get_object(Bucket=bucket, Key=key)
    assert stored["Body"].read() == PNG
    assert stored["ContentType"] == "image/png"

    info = client.get(f"/api/public/media/{PNG_ID}", **auth(team)).json()
    assert info["url"].startswith(f"{moto_endpoint}/{bucket}/{key}?")
    download = requests.get(info["url"], timeout=10)
    assert download.status_code == 200
    assert download.content == PNG
    media = Media.objects.for_project(team.project).get(id=PNG_ID)
    assert (media.bucket_name, media.bucket_path) == (bucket, key)


def test_s3_media_already_uploaded_gets_no_upload_url(client, team, bucket):
    upload_to_s3(client, team)
    patch_media(client, team, PNG_ID)
    assert post_media(client, team, media_body()).json() == {"mediaId": PNG_ID, "uploadUrl": None}


def test_s3_media_cannot_be_put_to_the_local_upload_route(client, team, bucket):
    post_media(client, team, RECORDED_POST["body_json"])
    media = Media.objects.for_project(team.project).get(id=PNG_ID)
    token = make_token(media, UPLOAD_SALT)  # a valid local token for a row placed in the bucket
    response = put_bytes(client, f"/api/public/media-upload/{token}", PNG)
    assert response.status_code == 400
    assert "S3" in response.json()["message"]


def test_local_media_stays_downloadable_after_switching_to_s3(client, team, bucket, settings):
    settings.MEDIA_S3_BUCKET = ""
    answer = post_media(client, team, RECORDED_POST["body_json"]).json()
    put_bytes(client, answer["uploadUrl"], PNG)
    patch_media(client, team, PNG_ID)
    settings.MEDIA_S3_BUCKET = bucket
    info = client.get(f"/api/public/media/{PNG_ID}", **auth(team)).json()
    assert info["url"].startswith("http://testserver/api/public/media-download/")
    assert b"".join(client.get(local_path(info["url"])).streaming_content) == PNG


def media_settings_from(env: dict) -> dict:
    script = "import json; from django.conf import settings as s; print(json.dumps([s.MEDIA_S3_BUCKET, s.MEDIA_S3]))"
    clean = {k: v for k, v in os.environ.items() if not k.startswith("LANGFUSE_S3")}
    result = subprocess.run(
        [sys.executable, "-c", f"import django; django.setup(); {script}"],
        env={**clean, "DJANGO_SETTINGS_MODULE": "langfuse_ui.settings", "DEBUG": "true", **env},
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    bucket, options = json.loads(result.stdout.strip().splitlines()[-1])
    return {"bucket": bucket, **options}


def test_media_variables_win_over_the_generic_s3_variables():
    loaded = media_settings_from(
        {
            "LANGFUSE_S3_MEDIA_UPLOAD_BUCKET": "media",
            "LANGFUSE_S3_MEDIA_UPLOAD_ENDPOINT": "http://minio:9000",
            "LANGFUSE_S3_ENDPOINT": "http://generic:9000",
            "LANGFUSE_S3_REGION": "eu-west-1",
            "LANGFUSE_S3_ACCESS_KEY_ID": "generic-key",
            "LANGFUSE_S3_MEDIA_UPLOAD_SECRET_ACCESS_KEY": "media-secret",
            "LANGFUSE_S3_FORCE_PATH_STYLE": "true",
            "LANGFUSE_S3_MEDIA_UPLOAD_FORCE_PATH_STYLE": "",  # empty, as copied from .env.example
            "LANGFUSE_S3_MEDIA_UPLOAD_REGION": "",
            "LANGFUSE_S3_MEDIA_UPLOAD_PREFIX": "m/",
        }
    )
    assert loaded == {
        "bucket": "media",
        "region": "eu-west-1",
        "endpoint": "http://minio:9000",
        "access_key_id": "generic-key",
        "secret_access_key": "media-secret",
        "force_path_style": True,
        "prefix": "m/",
    }


def test_without_a_media_bucket_the_local_folder_is_used():
    assert media_settings_from({"LANGFUSE_S3_ENDPOINT": "http://generic:9000"})["bucket"] == ""
