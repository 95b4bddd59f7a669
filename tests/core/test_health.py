from __future__ import annotations

import pytest

pytestmark = pytest.mark.django_db


def test_health_answers_ok(client):
    response = client.get("/api/public/health")
    assert response.status_code == 200
    assert response.json()["status"] == "OK"


def test_health_checks_database_when_asked(client):
    response = client.get("/api/public/health?failIfDatabaseUnavailable=true")
    assert response.status_code == 200


def test_ready_when_database_is_migrated(client):
    response = client.get("/api/public/ready")
    assert response.status_code == 200
    assert response.json() == {"status": "OK"}
