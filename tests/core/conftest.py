"""Scratch embedded PostgreSQL clusters for start-up tests, apart from the shared test cluster.

Their folders live directly in /tmp, not under pytest's tmp_path: as root, the cluster runs as
a system user that must traverse every parent folder, and each pytest session (other test runs
included) resets /tmp/pytest-of-root to 0700.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import pytest

from langfuse_ui import embedded_db


def make_data_dir() -> Path:
    return Path(tempfile.mkdtemp(prefix="langfuse-ops-"))


def remove_data_dir(root: Path) -> None:
    for pgdata in [p for p in root.iterdir() if (p / "PG_VERSION").exists()]:
        embedded_db.stop(pgdata)
        for proc in embedded_db.cluster_processes(pgdata):
            proc.kill()
    shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(scope="module")
def module_data_dir():
    """An empty folder for LANGFUSE_DATA_DIR, shared by one module's tests; clusters in it are stopped."""
    root = make_data_dir()
    yield root
    remove_data_dir(root)


@pytest.fixture(scope="session")
def scratch_cluster():
    """A running cluster of our own, which tests may stop and start; stopped at the end."""
    root = make_data_dir()
    pgdata = root / "pg"
    embedded_db.start(pgdata)
    yield pgdata
    remove_data_dir(root)


@pytest.fixture
def running_cluster(scratch_cluster):
    """The scratch cluster, started again if an earlier test left it stopped."""
    embedded_db.start(scratch_cluster)
    return scratch_cluster
