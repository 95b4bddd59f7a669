"""Browser test: a member starts an export to the bucket from the traces list, watches it finish
on Settings > Exports (htmx polling) and downloads it through the presigned link. The server is
`manage.py serve` with its export worker thread; the bucket is moto's S3 server on loopback."""

from __future__ import annotations

import json
import re
from pathlib import Path

import boto3
import pytest
from playwright.sync_api import expect

from accounts.models import Role
from tests.e2e.conftest import screenshot
from tests.e2e.test_sign_in import make_person, sign_in
from tests.e2e.test_trace_list import make_admin_with_traces
from tests.factories import PASSWORD, add_member
from tests.live import database_url_of_current_connection, start_server
from tests.traces.s3_fixtures import KEY, SECRET, export_env

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def export_server(transactional_db, tmp_path, moto_endpoint):
    bucket = "e2e-exports"
    s3 = boto3.client(
        "s3",
        region_name="us-east-1",
        endpoint_url=moto_endpoint,
        aws_access_key_id=KEY,
        aws_secret_access_key=SECRET,
    )
    s3.create_bucket(Bucket=bucket)
    env = {**export_env(moto_endpoint, bucket), "LANGFUSE_EXPORT_WORKER_POLL_SECONDS": "1"}
    server = start_server(database_url_of_current_connection(), tmp_path / "server.log", env)
    yield server
    server.stop()


def test_member_exports_filtered_traces_to_the_bucket_and_downloads_them(browser, export_server):
    _, project = make_admin_with_traces()
    person = make_person("mo@acme.test")
    add_member(project.organization, person, Role.MEMBER)
    context = browser.new_context(
        base_url=export_server.url, viewport={"width": 1280, "height": 800}, accept_downloads=True
    )
    context.set_default_timeout(15_000)
    page = context.new_page()
    try:
        sign_in(page, person.email, PASSWORD)
        page.goto(f"/project/{project.id}/traces?name=chat-completion")
        expect(page.locator("#trace-rows tr[data-trace-id]")).to_have_count(20)
        page.get_by_label("Bucket export format").select_option("jsonl")
        page.get_by_role("button", name="Export to bucket").click()

        expect(page).to_have_url(re.compile(rf"/project/{project.id}/settings/exports$"))
        row = page.locator("#export-job-table tr[data-job-id]")
        expect(row).to_have_count(1)
        expect(row).to_have_attribute("data-status", "done")  # at once, or after htmx polls the table
        expect(row.locator(".export-status")).to_have_text("done")
        screenshot(page, "exports-done")

        with page.expect_download() as download:
            row.get_by_role("link", name="Download").click()
        assert download.value.suggested_filename.endswith(".jsonl")
        records = [json.loads(line) for line in Path(download.value.path()).read_text().splitlines()]
        assert len(records) == 20
        assert {record["name"] for record in records} == {"chat-completion"}
        assert [r["id"] for r in records] == [f"trace-{i:03d}" for i in range(0, 80, 4)]
    finally:
        context.close()
