"""Media uploads: the SDK's media id, upload requests with dedup by hash, status, and local uploads.

The flow (Python SDK 5, JS SDK): POST /media -> {mediaId, uploadUrl}; PUT the bytes to uploadUrl;
PATCH /media/{id} with the upload status. The id is the SDK's own computation from the sha256
(base64url, first 22 characters); an answer with another id makes the SDK refuse to upload.
"""

from __future__ import annotations

import base64
import binascii
import logging
import math
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime

from django.conf import settings
from django.core import signing
from django.db import transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from traces.ingest.sanitize import clean_text
from traces.models import Media, MediaReference
from traces.storage import (
    UPLOAD_SALT,
    LocalFolderStorage,
    delete_stored_many,
    read_token,
    storage_for,
    upload_storage,
)

log = logging.getLogger(__name__)

# Langfuse's MediaContentType enum.
ALLOWED_CONTENT_TYPES = frozenset(
    [
        "image/png",
        "image/jpeg",
        "image/jpg",
        "image/webp",
        "image/gif",
        "image/svg+xml",
        "image/tiff",
        "image/bmp",
        "image/avif",
        "image/heic",
        "audio/mpeg",
        "audio/mp3",
        "audio/wav",
        "audio/ogg",
        "audio/oga",
        "audio/aac",
        "audio/mp4",
        "audio/flac",
        "audio/opus",
        "audio/webm",
        "video/mp4",
        "video/webm",
        "video/ogg",
        "video/mpeg",
        "video/quicktime",
        "video/x-msvideo",
        "video/x-matroska",
        "text/plain",
        "text/html",
        "text/css",
        "text/csv",
        "text/markdown",
        "text/x-python",
        "application/javascript",
        "text/x-typescript",
        "application/x-yaml",
        "application/pdf",
        "application/msword",
        "application/vnd.ms-excel",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        "application/zip",
        "application/json",
        "application/xml",
        "application/octet-stream",
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        "application/vnd.openxmlformats-officedocument.presentationml.presentation",
        "application/rtf",
        "application/x-ndjson",
        "application/vnd.apache.parquet",
        "application/gzip",
        "application/x-tar",
        "application/x-7z-compressed",
    ]
)
TRACE_FIELDS = ("input", "output", "metadata")
DATASET_FIELDS = ("input", "expectedOutput", "metadata")
UPLOADED_STATUSES = (200, 201)


class MediaError(Exception):
    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


def media_id_for(sha256_hash: str) -> str:
    """The SDK's id: base64url of the digest, first 22 characters."""
    return sha256_hash.replace("+", "-").replace("/", "_")[:22]


def normalise_sha256(value: object) -> str:
    """Standard base64 of a 32-byte digest (base64url is accepted too)."""
    if not isinstance(value, str):
        raise MediaError("sha256Hash is required: the base64 encoded SHA-256 digest of the file")
    try:
        digest = base64.b64decode(value.replace("-", "+").replace("_", "/"), validate=True)
    except (binascii.Error, ValueError):
        digest = b""
    if len(digest) != 32:
        raise MediaError(f"sha256Hash {value!r} is not the base64 encoded 32-byte SHA-256 digest of the file")
    return base64.b64encode(digest).decode()


def is_uploaded(media: Media) -> bool:
    return media.upload_http_status in UPLOADED_STATUSES


def _optional_str(body: dict, key: str) -> str | None:
    value = body.get(key)
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise MediaError(f"{key} must be a string")
    return value


def _int(value: object, name: str, maximum: int = 2**63 - 1) -> int:
    if (
        isinstance(value, bool)
        or not isinstance(value, int | float)
        or (isinstance(value, float) and not math.isfinite(value))
        or int(value) != value
    ):
        raise MediaError(f"{name} must be a whole number")
    if abs(value) > maximum:
        raise MediaError(f"{name} must be at most {maximum}")
    return int(value)


@dataclass(frozen=True)
class UploadRequest:
    content_type: str
    content_length: int
    sha256_hash: str
    field: str
    trace_id: str | None = None
    observation_id: str | None = None
    dataset_id: str | None = None
    dataset_item_id: str | None = None


def parse_upload_request(body: object) -> UploadRequest:
    """Validate a POST /media body; MediaError (400, or 413 when too large) says what is wrong."""
    if not isinstance(body, dict):
        raise MediaError("The body must be a JSON object")
    trace_id, observation_id = _optional_str(body, "traceId"), _optional_str(body, "observationId")
    dataset_id, item_id = _optional_str(body, "datasetId"), _optional_str(body, "datasetItemId")
    if trace_id and (dataset_id or item_id):
        raise MediaError("Provide exactly one context: traceId (with optional observationId) or datasetId")
    if not trace_id and not (dataset_id and item_id):
        raise MediaError("traceId is required (or datasetId and datasetItemId for dataset item media)")
    field = body.get("field")
    fields = TRACE_FIELDS if trace_id else DATASET_FIELDS
    if field not in fields:
        raise MediaError(f"field must be one of {', '.join(fields)}; got {field!r}")
    content_type = body.get("contentType")
    if content_type not in ALLOWED_CONTENT_TYPES:
        raise MediaError(
            f"contentType {content_type!r} is not supported; use a common image, audio, video, text, "
            "PDF, office or JSON type such as image/png, audio/wav, application/pdf or application/json"
        )
    if "contentLength" not in body:
        raise MediaError("contentLength is required: the size of the file in bytes")
    length = _int(body["contentLength"], "contentLength")
    if length <= 0:
        raise MediaError("contentLength must be greater than 0")
    limit = settings.MEDIA_MAX_CONTENT_LENGTH
    if length > limit:
        raise MediaError(
            f"contentLength {length} is larger than the limit of {limit} bytes "
            "(LANGFUSE_S3_MEDIA_MAX_CONTENT_LENGTH)",
            413,
        )
    return UploadRequest(
        content_type=content_type,
        content_length=length,
        sha256_hash=normalise_sha256(body.get("sha256Hash")),
        field=field,
        trace_id=trace_id,
        observation_id=observation_id,
        dataset_id=dataset_id,
        dataset_item_id=item_id,
    )


def request_upload(project_id: str, upload: UploadRequest) -> tuple[Media, bool]:
    """The media row for this file (created on first sight) and whether its bytes still need uploading.

    Dedup is by (project, sha256): a file already uploaded is not uploaded again. Every call
    records which trace, observation and field refer to the file.
    """
    storage = upload_storage()
    media_id = media_id_for(upload.sha256_hash)
    placement = {
        "content_type": upload.content_type,
        "content_length": upload.content_length,
        "bucket_name": storage.bucket_name,
        "bucket_path": storage.object_path(project_id, media_id, upload.content_type),
    }
    with transaction.atomic():
        media, created = Media.objects.get_or_create(
            project_id=project_id, sha256_hash=upload.sha256_hash, defaults={"id": media_id, **placement}
        )
        needs_upload = not is_uploaded(media)
        if needs_upload and not created:
            Media.objects.for_project(project_id).filter(id=media.id).update(**placement)
            for name, value in placement.items():
                setattr(media, name, value)
        if upload.trace_id:
            MediaReference.objects.bulk_create(
                [
                    MediaReference(
                        project_id=project_id,
                        media_id=media.id,
                        trace_id=upload.trace_id,
                        observation_id=upload.observation_id,
                        field=upload.field,
                    )
                ],
                ignore_conflicts=True,
            )
    return media, needs_upload


@dataclass(frozen=True)
class UploadStatus:
    uploaded_at: datetime
    http_status: int
    http_error: str | None
    time_ms: int | None


def parse_upload_status(body: object) -> UploadStatus:
    if not isinstance(body, dict):
        raise MediaError("The body must be a JSON object")
    raw = body.get("uploadedAt")
    try:
        uploaded_at = parse_datetime(raw) if isinstance(raw, str) else None
    except ValueError:  # well formed but not a date, e.g. month 13
        uploaded_at = None
    if uploaded_at is None:
        raise MediaError(f"uploadedAt must be an ISO 8601 date-time; got {raw!r}")
    if timezone.is_naive(uploaded_at):
        uploaded_at = uploaded_at.replace(tzinfo=UTC)
    try:
        uploaded_at = uploaded_at.astimezone(UTC)
    except OverflowError:
        uploaded_at = None
    if uploaded_at is None or not 1 < uploaded_at.year < 9999:
        raise MediaError(f"uploadedAt must be a date-time between the years 2 and 9998; got {raw!r:.60}")
    if "uploadHttpStatus" not in body:
        raise MediaError("uploadHttpStatus is required: the HTTP status of the upload")
    error = body.get("uploadHttpError")
    if error is not None and not isinstance(error, str):
        raise MediaError("uploadHttpError must be a string or null")
    time_ms = body.get("uploadTimeMs")
    return UploadStatus(
        uploaded_at=uploaded_at,
        http_status=_int(body["uploadHttpStatus"], "uploadHttpStatus", 999),
        http_error=None if error is None else clean_text(error)[:2000],
        time_ms=None if time_ms is None else _int(time_ms, "uploadTimeMs"),
    )


def record_upload_status(project_id: str, media_id: str, status: UploadStatus) -> None:
    """PATCH /media/{id}: what the client saw when it uploaded."""
    updated = (
        Media.objects.for_project(project_id)
        .filter(id=media_id)
        .update(
            uploaded_at=status.uploaded_at,
            upload_http_status=status.http_status,
            upload_http_error=status.http_error,
        )
    )
    if not updated:
        raise MediaError(f"Media {media_id!r} not found in this project", 404)


def get_uploaded_media(project_id: str, media_id: str) -> Media:
    media = Media.objects.for_project(project_id).filter(id=media_id).first()
    if media is None:
        raise MediaError(f"Media {media_id!r} not found in this project", 404)
    if media.upload_http_status is None:
        raise MediaError(f"Media {media_id!r} has not been uploaded yet", 404)
    if not is_uploaded(media):
        raise MediaError(f"Media {media_id!r} upload failed with HTTP status {media.upload_http_status}", 404)
    return media


# --- Uploads and downloads through this server (the local folder backend) ----------------


def media_for_token(token: str, salt: str, max_age: int) -> Media:
    try:
        project_id, media_id = read_token(token, salt, max_age)
    except signing.SignatureExpired:
        raise MediaError("This media URL has expired; request a new one", 403) from None
    except signing.BadSignature:
        raise MediaError("This media URL is not valid: its signature does not match", 403) from None
    media = Media.objects.for_project(project_id).filter(id=media_id).first()
    if media is None:
        raise MediaError("Media not found", 404)
    return media


def _limited(chunks: Iterable[bytes], limit: int) -> Iterator[bytes]:
    received = 0
    for chunk in chunks:
        received += len(chunk)
        if received > limit:
            raise MediaError(f"The upload is larger than the {limit} bytes announced as contentLength")
        yield chunk


def receive_upload(
    token: str,
    content_type: str,
    declared_length: int | None,
    checksum: str | None,
    chunks: Iterable[bytes],
) -> Media:
    """Store bytes PUT to a signed upload URL, after checking them against the media row."""
    media = media_for_token(token, UPLOAD_SALT, settings.MEDIA_UPLOAD_URL_EXPIRY_SECONDS)
    storage = storage_for(media)
    if not isinstance(storage, LocalFolderStorage):
        raise MediaError("This media is stored in S3; upload it to its presigned S3 URL", 400)
    sent_type = content_type.split(";")[0].strip().lower()
    if sent_type != media.content_type:
        raise MediaError(f"Content-Type {sent_type!r} does not match the announced {media.content_type!r}")
    if declared_length is not None and declared_length != media.content_length:
        raise MediaError(
            f"Content-Length {declared_length} does not match the announced {media.content_length} bytes"
        )
    if checksum and checksum != media.sha256_hash:
        raise MediaError("x-amz-checksum-sha256 does not match the announced sha256Hash")

    def verify(size: int, digest: bytes) -> None:
        if size != media.content_length:
            raise MediaError(f"Received {size} bytes, but {media.content_length} were announced")
        if base64.b64encode(digest).decode() != media.sha256_hash:
            raise MediaError("The SHA-256 of the uploaded bytes does not match the announced sha256Hash")

    storage.save(media, _limited(chunks, media.content_length), verify)
    now = timezone.now()
    Media.objects.for_project(media.project_id).filter(id=media.id).update(
        uploaded_at=now, upload_http_status=200, upload_http_error=None
    )
    media.uploaded_at, media.upload_http_status, media.upload_http_error = now, 200, None
    return media


# --- Removal with the traces that refer to them ----------------------------------------------

PROJECT_DELETE_BATCH = 1_000


def release_media(project, media_ids: Iterable[str]) -> int:
    """Delete the rows and stored objects of these media that nothing refers to any more (their
    traces were just deleted); a file another trace still uses stays. Returns how many went.

    The rows go first, in one transaction that re-checks the references under a row lock; the
    objects after the commit. An object that cannot be deleted is logged, not raised: the trace
    deletion it follows has already committed.
    """
    ids = sorted(set(media_ids))
    if not ids:
        return 0
    references = MediaReference.objects.filter(project_id=OuterRef("project_id"), media_id=OuterRef("id"))
    with transaction.atomic():
        gone = list(
            Media.objects.for_project(project)
            .filter(id__in=ids)
            .filter(~Exists(references))
            .select_for_update()
        )
        Media.objects.for_project(project).filter(id__in=[media.id for media in gone]).delete()
    try:
        delete_stored_many(gone)
    except Exception:
        log.exception("Could not delete the stored files of %d media of project %s", len(gone), project)
    return len(gone)


def delete_project_media_files(project) -> int:
    """Delete the stored objects of every media row of the project (its rows are deleted with the
    project's other data rows). Returns how many rows' objects were removed; a batch the store
    refuses is logged and skipped, so an object store outage does not block the project's deletion."""
    removed = 0
    after = ""
    while batch := list(
        Media.objects.for_project(project).filter(id__gt=after).order_by("id")[:PROJECT_DELETE_BATCH]
    ):
        try:
            delete_stored_many(batch)
            removed += len(batch)
        except Exception:
            log.exception("Could not delete %d media files of deleted project %s", len(batch), project)
        after = batch[-1].id
    return removed
