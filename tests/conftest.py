"""Test database: the embedded PostgreSQL in .data/test-postgres unless DATABASE_URL is set."""

from __future__ import annotations

import os

import pytest
from django.conf import settings

from langfuse_ui import embedded_db
from tests.factories import make_project_with_roles
from traces.pricing import clear_model_cache

pytest_plugins = ["tests.live", "tests.traces.s3_fixtures"]


@pytest.fixture(scope="session")
def django_db_modify_db_settings(request):
    suffix = os.environ.get("TEST_DB_SUFFIX")  # lets several test runs share one server
    if suffix:
        for database in settings.DATABASES.values():
            database.setdefault("TEST", {})["NAME"] = f"test_{database['NAME']}_{suffix}"
    if not settings.EMBEDDED_DATABASE:
        return
    pgdata = embedded_db.data_dir("test-postgres")
    # Counted among the cluster's users: several test runs at once share it, and the last one out stops it.
    embedded_db.acquire(pgdata)
    request.addfinalizer(lambda: embedded_db.release(pgdata))
    for database in settings.DATABASES.values():
        database["HOST"] = str(pgdata)
    settings.TEST_PGDATA = pgdata


@pytest.fixture
def team(db):
    """A project with an owner, an admin, a member, a viewer, and an outsider in another org."""
    return make_project_with_roles()


@pytest.fixture(autouse=True)
def _fresh_model_cache():
    """The cost engine caches model definitions per process; no test sees another's."""
    clear_model_cache()


def pytest_configure(config):
    # PBKDF2 at full strength costs ~0.3 s a user; tests create many users.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
