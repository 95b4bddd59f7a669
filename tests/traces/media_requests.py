"""Helpers for the media API tests: the recorded Python SDK 5 media requests and small request makers."""

from __future__ import annotations

import base64
import hashlib
import json
from pathlib import Path

WIRE = Path(__file__).resolve().parent.parent / "fixtures" / "wire" / "python-sdk-5.0.4-media"
RECORDED_POST = json.loads((WIRE / "001-POST-api_public_media.json").read_text())
RECORDED_PATCH = json.loads((WIRE / "004-PATCH-api_public_media_cf3jhWopigUsbttRVWONhC.json").read_text())
PNG = (WIRE / "003-PUT-fake_s3_cf3jhWopigUsbttRVWONhC.bin").read_bytes()
PNG_HASH = RECORDED_POST["body_json"]["sha256Hash"]
PNG_ID = RECORDED_POST["response_body"]["mediaId"]


def basic(public_key: str, secret_key: str) -> dict:
    token = base64.b64encode(f"{public_key}:{secret_key}".encode()).decode()
    return {"HTTP_AUTHORIZATION": f"Basic {token}"}


def auth(team) -> dict:
    return basic(team.public_key, team.secret_key)


def sha256_b64(data: bytes) -> str:
    return base64.b64encode(hashlib.sha256(data).digest()).decode()


def media_body(data: bytes = PNG, **fields) -> dict:
    return {
        **RECORDED_POST["body_json"],
        "contentLength": len(data),
        "sha256Hash": sha256_b64(data),
        **fields,
    }


def post_media(client, team, body: dict):
    return client.post("/api/public/media", json.dumps(body), content_type="application/json", **auth(team))


def patch_media(client, team, media_id: str, body: dict | None = None):
    body = body or RECORDED_PATCH["body_json"]
    return client.patch(
        f"/api/public/media/{media_id}", json.dumps(body), content_type="application/json", **auth(team)
    )


def put_bytes(client, upload_url: str, data: bytes, content_type: str = "image/png", **headers):
    headers.setdefault("HTTP_X_AMZ_CHECKSUM_SHA256", sha256_b64(data))
    return client.put(
        upload_url.removeprefix("http://testserver"),
        data,
        content_type=content_type,
        HTTP_X_MS_BLOB_TYPE="BlockBlob",
        **headers,
    )


def local_path(url: str) -> str:
    return url.removeprefix("http://testserver")
