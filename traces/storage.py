"""Where media bytes live: an S3 (or MinIO) bucket, or a folder on this server.

Both backends hand out URLs a client can use without an Authorization header: S3 presigned
URLs, or URLs of this server carrying a token signed with the secret key. A media row records
its bucket ("" for the local folder), so rows stay readable after the configuration changes.
"""

from __future__ import annotations

import contextlib
import hashlib
import mimetypes
import os
import tempfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from django.conf import settings
from django.core import signing
from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone

if TYPE_CHECKING:
    from traces.models import Media

LOCAL_BUCKET = ""
UPLOAD_SALT = "traces.media.upload"
DOWNLOAD_SALT = "traces.media.download"


class MediaStorage(Protocol):
    bucket_name: str

    def object_path(self, project_id: str, media_id: str, content_type: str) -> str: ...

    def upload_url(self, request: HttpRequest, media: Media) -> str: ...

    def download_url(self, request: HttpRequest, media: Media) -> tuple[str, datetime]: ...

    def delete(self, media: Media) -> None: ...


def upload_storage() -> MediaStorage:
    """The backend new uploads go to, from the settings."""
    if settings.MEDIA_S3_BUCKET:
        return S3Storage(settings.MEDIA_S3_BUCKET)
    return LocalFolderStorage(Path(settings.MEDIA_LOCAL_ROOT))


def storage_for(media: Media) -> MediaStorage:
    """The backend that holds this media row's bytes."""
    if media.bucket_name == LOCAL_BUCKET:
        return LocalFolderStorage(Path(settings.MEDIA_LOCAL_ROOT))
    return S3Storage(media.bucket_name)


def delete_stored(media: Media) -> None:
    """Remove the media row's bytes from its backend; an object that was never uploaded is no error."""
    storage_for(media).delete(media)


# --- Local folder -----------------------------------------------------------------------


def make_token(media: Media, salt: str) -> str:
    return signing.dumps([str(media.project_id), media.id], salt=salt, compress=False)


def read_token(token: str, salt: str, max_age: int) -> tuple[str, str]:
    """(project_id, media_id) from a token; raises signing.BadSignature (or SignatureExpired)."""
    value = signing.loads(token, salt=salt, max_age=max_age)
    if not (isinstance(value, list) and len(value) == 2 and all(isinstance(v, str) for v in value)):
        raise signing.BadSignature("Malformed media token")
    return value[0], value[1]


def absolute_url(request: HttpRequest, path: str) -> str:
    if settings.PUBLIC_URL:
        return settings.PUBLIC_URL + path
    return request.build_absolute_uri(path)


@dataclass(frozen=True)
class LocalFolderStorage:
    root: Path
    bucket_name: str = LOCAL_BUCKET

    def object_path(self, project_id: str, media_id: str, content_type: str) -> str:
        return f"{project_id}/{media_id}"

    def upload_url(self, request: HttpRequest, media: Media) -> str:
        return absolute_url(request, reverse("api:media-upload", args=[make_token(media, UPLOAD_SALT)]))

    def download_url(self, request: HttpRequest, media: Media) -> tuple[str, datetime]:
        expires = timezone.now() + timedelta(seconds=settings.MEDIA_DOWNLOAD_URL_EXPIRY_SECONDS)
        url = absolute_url(request, reverse("api:media-download", args=[make_token(media, DOWNLOAD_SALT)]))
        return url, expires

    def file_for(self, media: Media) -> Path:
        root = self.root.resolve()
        path = (root / media.bucket_path).resolve()
        if root not in path.parents:
            raise ValueError(f"Media path {media.bucket_path!r} leaves the media folder")
        return path

    def save(self, media: Media, chunks: Iterable[bytes], verify: Callable[[int, bytes], None]) -> None:
        """Write chunks to a temporary file; keep it only if verify(size, sha256 digest) passes."""
        target = self.file_for(media)
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, temporary = tempfile.mkstemp(dir=target.parent, prefix=".upload-")
        try:
            digest = hashlib.sha256()
            size = 0
            with os.fdopen(fd, "wb") as out:
                for chunk in chunks:
                    digest.update(chunk)
                    size += len(chunk)
                    out.write(chunk)
            verify(size, digest.digest())
            os.replace(temporary, target)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(temporary)
            raise

    def delete(self, media: Media) -> None:
        self.file_for(media).unlink(missing_ok=True)


# --- S3 / MinIO -------------------------------------------------------------------------


def s3_client():
    import boto3
    from botocore.config import Config

    options = settings.MEDIA_S3
    config = Config(
        signature_version="s3v4",
        s3={"addressing_style": "path" if options["force_path_style"] else "auto"},
        # Presigned URLs must not demand checksums the SDKs do not send.
        request_checksum_calculation="when_required",
        response_checksum_validation="when_required",
    )
    return boto3.client(
        "s3",
        region_name=options["region"] or None,
        endpoint_url=options["endpoint"] or None,
        aws_access_key_id=options["access_key_id"] or None,
        aws_secret_access_key=options["secret_access_key"] or None,
        config=config,
    )


def file_extension(content_type: str) -> str:
    guessed = mimetypes.guess_extension(content_type, strict=False)
    return guessed.lstrip(".") if guessed else content_type.rsplit("/", 1)[-1].split("+")[0]


@dataclass(frozen=True)
class S3Storage:
    bucket_name: str

    def object_path(self, project_id: str, media_id: str, content_type: str) -> str:
        return f"{settings.MEDIA_S3['prefix']}{project_id}/{media_id}.{file_extension(content_type)}"

    def upload_url(self, request: HttpRequest, media: Media) -> str:
        params = {
            "Bucket": self.bucket_name,
            "Key": media.bucket_path,
            "ContentType": media.content_type,
            "ChecksumSHA256": media.sha256_hash,
        }
        return s3_client().generate_presigned_url(
            "put_object", Params=params, ExpiresIn=settings.MEDIA_UPLOAD_URL_EXPIRY_SECONDS
        )

    def download_url(self, request: HttpRequest, media: Media) -> tuple[str, datetime]:
        seconds = settings.MEDIA_DOWNLOAD_URL_EXPIRY_SECONDS
        url = s3_client().generate_presigned_url(
            "get_object", Params={"Bucket": self.bucket_name, "Key": media.bucket_path}, ExpiresIn=seconds
        )
        return url, timezone.now() + timedelta(seconds=seconds)

    def delete(self, media: Media) -> None:
        # S3 answers 204 for a key that does not exist, so a never-uploaded object is no error.
        s3_client().delete_object(Bucket=self.bucket_name, Key=media.bucket_path)


def delete_stored_many(media: Iterable[Media]) -> None:
    """Remove the stored bytes of many media rows: one DeleteObjects request per 1,000 keys of a
    bucket, unlink for the local folder. Keys that do not exist are no error."""
    by_bucket: dict[str, list[str]] = {}
    for item in media:
        if item.bucket_name == LOCAL_BUCKET:
            LocalFolderStorage(Path(settings.MEDIA_LOCAL_ROOT)).delete(item)
        else:
            by_bucket.setdefault(item.bucket_name, []).append(item.bucket_path)
    for bucket, keys in by_bucket.items():
        client = s3_client()
        for start in range(0, len(keys), 1000):
            objects = [{"Key": key} for key in keys[start : start + 1000]]
            answer = client.delete_objects(Bucket=bucket, Delete={"Objects": objects, "Quiet": True})
            if answer.get("Errors"):
                first = answer["Errors"][0]
                raise RuntimeError(
                    f"S3 kept {len(answer['Errors'])} media objects of bucket {bucket!r}, "
                    f"e.g. {first.get('Key')}: {first.get('Code')} {first.get('Message')}"
                )


# --- Lifecycle (TTL) of a project's media objects -----------------------------------------

LIFECYCLE_RULE_PREFIX = "langfuse-media-"


class LifecycleUnavailable(Exception):
    """Media is not stored in a bucket, so there is no lifecycle rule to set."""


def media_prefix(project_id: str) -> str:
    """Where S3Storage puts a project's media objects."""
    return f"{settings.MEDIA_S3['prefix']}{project_id}/"


def _lifecycle_rules(client, bucket: str) -> list[dict]:
    from botocore.exceptions import ClientError

    try:
        return client.get_bucket_lifecycle_configuration(Bucket=bucket).get("Rules", [])
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") == "NoSuchLifecycleConfiguration":
            return []
        raise


def _media_bucket() -> str:
    if not settings.MEDIA_S3_BUCKET:
        raise LifecycleUnavailable(
            "Media is stored in the server's data folder; set LANGFUSE_S3_MEDIA_UPLOAD_BUCKET to keep it "
            "in a bucket with an expiry rule"
        )
    return settings.MEDIA_S3_BUCKET


def media_expiry_days(project_id: str) -> int | None:
    """The days after which the media bucket expires this project's objects (None: never)."""
    bucket = _media_bucket()
    for rule in _lifecycle_rules(s3_client(), bucket):
        if rule.get("ID") == f"{LIFECYCLE_RULE_PREFIX}{project_id}" and rule.get("Status") == "Enabled":
            return rule.get("Expiration", {}).get("Days")
    return None


def set_media_expiry_days(project_id: str, days: int | None) -> None:
    """Put (or, for None, remove) the project's expiry rule on the media bucket, keeping every
    other rule of the bucket. Callers serialise concurrent changes (the bucket holds one
    configuration: a read, a change and a write)."""
    bucket = _media_bucket()
    client = s3_client()
    rule_id = f"{LIFECYCLE_RULE_PREFIX}{project_id}"
    rules = [rule for rule in _lifecycle_rules(client, bucket) if rule.get("ID") != rule_id]
    if days:
        rules.append(
            {
                "ID": rule_id,
                "Filter": {"Prefix": media_prefix(project_id)},
                "Status": "Enabled",
                "Expiration": {"Days": days},
            }
        )
    if rules:
        client.put_bucket_lifecycle_configuration(Bucket=bucket, LifecycleConfiguration={"Rules": rules})
    else:
        client.delete_bucket_lifecycle(Bucket=bucket)
