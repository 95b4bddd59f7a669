from __future__ import annotations

import base64
import json
from dataclasses import dataclass

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.factories import make_key


@dataclass
class ApiClient:
    """The Django test client with a project key pair's Basic auth on every request."""

    client: object
    header: str

    def get(self, path: str, params: dict | None = None):
        return self.client.get(f"/api/public/{path}", params or {}, HTTP_AUTHORIZATION=self.header)

    def delete(self, path: str, body: dict | None = None):
        return self.client.delete(
            f"/api/public/{path}",
            json.dumps(body) if body is not None else "",
            content_type="application/json",
            HTTP_AUTHORIZATION=self.header,
        )

    def post(self, path: str, body, method: str = "POST"):
        return self.client.generic(
            method,
            f"/api/public/{path}",
            json.dumps(body),
            content_type="application/json",
            HTTP_AUTHORIZATION=self.header,
        )

    def patch(self, path: str, body):
        return self.post(path, body, method="PATCH")

    def request(self, method: str, path: str):
        return self.client.generic(method, f"/api/public/{path}", HTTP_AUTHORIZATION=self.header)

    def count_queries(self, path: str, params: dict | None = None) -> int:
        self.get(path, params)  # warm up: records the key's last use
        with CaptureQueriesContext(connection) as queries:
            response = self.get(path, params)
        assert response.status_code == 200, response.content
        return len(queries)


def basic(public_key: str, secret_key: str) -> str:
    return "Basic " + base64.b64encode(f"{public_key}:{secret_key}".encode()).decode()


@pytest.fixture
def api(client, team) -> ApiClient:
    return ApiClient(client, basic(team.public_key, team.secret_key))


@pytest.fixture
def other_api(client, team) -> ApiClient:
    """A key of team.other_project: must never see or touch team.project's rows."""
    return ApiClient(client, basic(*make_key(team.other_project)))
