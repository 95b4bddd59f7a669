"""The export bucket: settings, client, a constant-memory multipart writer and errors that name
the setting to fix.

Settings follow Langfuse's LANGFUSE_S3_BATCH_EXPORT_* names; each falls back to the generic
LANGFUSE_S3_* variable (as the media settings do), so one set of MinIO settings serves media,
backups and exports. They are read when used, so an operator's change needs only a restart.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field

from langfuse_ui.config import ConfigError, env_bool, env_int, env_secret, env_str

PREFIX = "LANGFUSE_S3_BATCH_EXPORT_"
GENERIC = "LANGFUSE_S3_"
DEFAULT_KEY_PREFIX = "exports/"
PART_SIZE = 8 * 1024 * 1024  # S3 wants parts of 5 MiB or more, except the last one
DEFAULT_LINK_HOURS = 24


class ExportBucketError(Exception):
    """The bucket cannot be used; the message names the setting to check."""


@dataclass(frozen=True)
class ExportBucket:
    bucket: str
    prefix: str
    region: str
    endpoint: str
    external_endpoint: str
    access_key_id: str
    secret_access_key: str
    force_path_style: bool
    link_hours: int
    names: dict[str, str] = field(default_factory=dict)  # setting -> the variable it came from

    def name(self, setting: str) -> str:
        return self.names.get(setting, f"{PREFIX}{setting.upper()}")


def _pick(setting: str, names: dict[str, str], secret: bool = False) -> str:
    read = env_secret if secret else env_str
    for variable in (f"{PREFIX}{setting}", f"{GENERIC}{setting}"):
        value = read(variable).strip()
        if value:
            names[setting.lower()] = variable
            return value
    names[setting.lower()] = f"{PREFIX}{setting}"
    return ""


def export_bucket() -> ExportBucket | None:
    """The export bucket from the environment; None when exports to a bucket are off."""
    bucket = env_str(f"{PREFIX}BUCKET").strip()
    # Empty (as copied from .env.example) means unset: on exactly when a bucket is named.
    enabled = env_bool(f"{PREFIX}ENABLED") if env_str(f"{PREFIX}ENABLED").strip() else bool(bucket)
    if not enabled:
        return None
    if not bucket:
        raise ConfigError(f"{PREFIX}ENABLED is true but {PREFIX}BUCKET is not set: name the export bucket")
    names: dict[str, str] = {"bucket": f"{PREFIX}BUCKET"}
    path_style_name = (
        f"{PREFIX}FORCE_PATH_STYLE"
        if env_str(f"{PREFIX}FORCE_PATH_STYLE").strip()
        else f"{GENERIC}FORCE_PATH_STYLE"
    )
    names["force_path_style"] = path_style_name
    prefix = env_str(f"{PREFIX}PREFIX", DEFAULT_KEY_PREFIX)
    return ExportBucket(
        bucket=bucket,
        prefix=prefix,
        region=_pick("REGION", names) or "us-east-1",
        endpoint=_pick("ENDPOINT", names),
        external_endpoint=env_str(f"{PREFIX}EXTERNAL_ENDPOINT").strip(),
        access_key_id=_pick("ACCESS_KEY_ID", names, secret=True),
        secret_access_key=_pick("SECRET_ACCESS_KEY", names, secret=True),
        force_path_style=env_bool(path_style_name),
        link_hours=env_int("BATCH_EXPORT_DOWNLOAD_LINK_EXPIRATION_HOURS", DEFAULT_LINK_HOURS, minimum=1),
        names=names,
    )


def client(target: ExportBucket, *, external: bool = False):
    """A boto3 S3 client for the bucket; `external` signs URLs for the endpoint browsers reach."""
    import boto3
    from botocore.config import Config

    config = Config(
        signature_version="s3v4",
        s3={"addressing_style": "path" if target.force_path_style else "auto"},
        request_checksum_calculation="when_required",
        response_checksum_validation="when_required",
        connect_timeout=5,
        read_timeout=60,
        retries={"max_attempts": 3, "mode": "standard"},
    )
    endpoint = (target.external_endpoint if external else "") or target.endpoint
    return boto3.client(
        "s3",
        region_name=target.region,
        endpoint_url=endpoint or None,
        aws_access_key_id=target.access_key_id or None,
        aws_secret_access_key=target.secret_access_key or None,
        config=config,
    )


def explain(exc: Exception, target: ExportBucket) -> str:
    """What went wrong, naming the setting that most likely needs a change."""
    from botocore.exceptions import (
        ClientError,
        ConnectTimeoutError,
        EndpointConnectionError,
        NoCredentialsError,
        ReadTimeoutError,
    )

    endpoint = target.endpoint or "the AWS default endpoint"
    if isinstance(exc, EndpointConnectionError | ConnectTimeoutError):
        return (
            f"Cannot reach the S3 endpoint {endpoint}: check {target.name('endpoint')} "
            "(from inside a cluster, use the object store's internal address)"
        )
    if isinstance(exc, ReadTimeoutError):
        return f"The S3 endpoint {endpoint} stopped answering: check {target.name('endpoint')}"
    if isinstance(exc, NoCredentialsError):
        return f"No S3 credentials: set {target.name('access_key_id')} and {target.name('secret_access_key')}"
    if isinstance(exc, ClientError):
        error = exc.response.get("Error", {})
        code = str(error.get("Code", ""))
        message = error.get("Message") or ""
        if code in {"InvalidAccessKeyId", "AccessDenied", "403", "InvalidToken"}:
            return f"S3 refused the access key ({code}): check {target.name('access_key_id')}"
        if code == "SignatureDoesNotMatch":
            return f"S3 refused the signature ({code}): check {target.name('secret_access_key')}"
        if code in {"NoSuchBucket", "404"}:
            return (
                f"Bucket {target.bucket!r} does not exist at {endpoint}: create it or check "
                f"{target.name('bucket')}"
            )
        if code in {
            "PermanentRedirect",
            "AuthorizationHeaderMalformed",
            "IllegalLocationConstraintException",
        }:
            return f"S3 answered {code}: check {target.name('region')} and {target.name('force_path_style')}"
        return f"S3 error {code} at {endpoint}: {message or exc}"
    return f"S3 request to {endpoint} failed ({exc}): check {target.name('endpoint')}"


def check_connection(target: ExportBucket) -> str:
    """Write and delete a small object, as an export would; raises ExportBucketError."""
    from botocore.exceptions import BotoCoreError, ClientError

    s3 = client(target)
    key = f"{target.prefix}.connection-check"
    try:
        s3.put_object(Bucket=target.bucket, Key=key, Body=b"ok")
        s3.delete_object(Bucket=target.bucket, Key=key)
    except (BotoCoreError, ClientError) as exc:
        raise ExportBucketError(explain(exc, target)) from None
    return f"Wrote and deleted {key} in bucket {target.bucket!r}"


def download_url(target: ExportBucket, bucket: str, key: str, filename: str) -> str:
    """A presigned GET of an export object (in the bucket it was written to, which may be an
    earlier setting's), valid for BATCH_EXPORT_DOWNLOAD_LINK_EXPIRATION_HOURS."""
    return client(target, external=True).generate_presigned_url(
        "get_object",
        Params={
            "Bucket": bucket,
            "Key": key,
            "ResponseContentDisposition": f'attachment; filename="{filename}"',
        },
        ExpiresIn=target.link_hours * 3600,
    )


class BucketWriter:
    """Bytes to one object: a single PUT when everything fits in one part, otherwise a multipart
    upload of PART_SIZE parts. At most one part (plus the block being added) is held in memory."""

    def __init__(self, s3, bucket: str, key: str, content_type: str, part_size: int = PART_SIZE) -> None:
        self.s3, self.bucket, self.key, self.content_type = s3, bucket, key, content_type
        self.part_size = part_size
        self.buffer = bytearray()
        self.upload_id: str | None = None
        self.parts: list[dict] = []
        self.size = 0

    def write(self, data: bytes) -> None:
        self.buffer += data
        self.size += len(data)
        while len(self.buffer) >= self.part_size:
            self._upload_part(bytes(self.buffer[: self.part_size]))
            del self.buffer[: self.part_size]

    def _upload_part(self, body: bytes) -> None:
        if self.upload_id is None:
            answer = self.s3.create_multipart_upload(
                Bucket=self.bucket, Key=self.key, ContentType=self.content_type
            )
            self.upload_id = answer["UploadId"]
        number = len(self.parts) + 1
        answer = self.s3.upload_part(
            Bucket=self.bucket, Key=self.key, UploadId=self.upload_id, PartNumber=number, Body=body
        )
        self.parts.append({"PartNumber": number, "ETag": answer["ETag"]})

    def close(self) -> None:
        if self.upload_id is None:
            self.s3.put_object(
                Bucket=self.bucket, Key=self.key, Body=bytes(self.buffer), ContentType=self.content_type
            )
        else:
            if self.buffer:
                self._upload_part(bytes(self.buffer))
            self.s3.complete_multipart_upload(
                Bucket=self.bucket,
                Key=self.key,
                UploadId=self.upload_id,
                MultipartUpload={"Parts": self.parts},
            )
        self.buffer = bytearray()

    def abort(self) -> None:
        """Drop the parts uploaded so far (S3 would keep and bill them otherwise)."""
        if self.upload_id is not None:
            # The job already failed; that error is what matters, not this one.
            with contextlib.suppress(Exception):
                self.s3.abort_multipart_upload(Bucket=self.bucket, Key=self.key, UploadId=self.upload_id)
            self.upload_id = None
