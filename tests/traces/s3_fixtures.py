"""A real S3-compatible server (moto's server mode) on loopback, and the export and media
buckets on it, for the export-job, media and retention tests; tests/conftest.py loads it as a
pytest plugin, so every test can ask for these fixtures by name."""

from __future__ import annotations

import itertools
import os

import pytest

_buckets = itertools.count(1)
KEY, SECRET = "test-key", "test-secret"


@pytest.fixture(scope="session")
def moto_endpoint():
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


def export_env(endpoint: str, bucket: str) -> dict[str, str]:
    return {
        "LANGFUSE_S3_BATCH_EXPORT_BUCKET": bucket,
        "LANGFUSE_S3_BATCH_EXPORT_ENDPOINT": endpoint,
        "LANGFUSE_S3_BATCH_EXPORT_REGION": "us-east-1",
        "LANGFUSE_S3_BATCH_EXPORT_ACCESS_KEY_ID": KEY,
        "LANGFUSE_S3_BATCH_EXPORT_SECRET_ACCESS_KEY": SECRET,
        "LANGFUSE_S3_BATCH_EXPORT_FORCE_PATH_STYLE": "true",
    }


@pytest.fixture
def export_bucket_env(monkeypatch, moto_endpoint) -> str:
    """LANGFUSE_S3_BATCH_EXPORT_* pointing at a fresh bucket on the moto server; its name."""
    from traces.export_jobs_bucket import client, export_bucket

    for name in [name for name in os.environ if name.startswith("LANGFUSE_S3")]:
        monkeypatch.delenv(name)
    bucket = f"exports-{next(_buckets)}"
    for name, value in export_env(moto_endpoint, bucket).items():
        monkeypatch.setenv(name, value)
    client(export_bucket()).create_bucket(Bucket=bucket)
    return bucket


@pytest.fixture
def media_bucket(settings, tmp_path, moto_endpoint) -> str:
    """Media uploads go to a fresh bucket on the moto server; its name."""
    from traces.storage import s3_client

    settings.MEDIA_LOCAL_ROOT = tmp_path / "media"
    settings.MEDIA_S3_BUCKET = f"media-{next(_buckets)}"
    settings.MEDIA_S3 = {
        "region": "us-east-1",
        "endpoint": moto_endpoint,
        "access_key_id": KEY,
        "secret_access_key": SECRET,
        "force_path_style": True,
        "prefix": "media/",
    }
    s3_client().create_bucket(Bucket=settings.MEDIA_S3_BUCKET)
    return settings.MEDIA_S3_BUCKET


@pytest.fixture
def moto_checks_keys(monkeypatch):
    """From now on the moto server refuses access keys it does not know."""
    from moto import settings as moto_settings

    monkeypatch.setattr(moto_settings, "INITIAL_NO_AUTH_ACTION_COUNT", 0)
