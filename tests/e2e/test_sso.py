"""SSO end to end: headless Chromium, this server, and a real OpenID Connect provider process.

The provider is the `oidc-provider` npm package (tests/accounts/oidc_provider/), installed with npm
into .data/oidc-provider/ and started on loopback for each test. Without node or npm the tests are
skipped, except under CI=true where they fail.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from playwright.sync_api import expect

from accounts.models import OrganizationMembership, Role, User
from tests.e2e.conftest import screenshot
from tests.factories import make_org, make_project
from tests.live import LiveServer, database_url_of_current_connection, free_port, start_server

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

BASE_DIR = Path(__file__).resolve().parents[2]
PROVIDER_SOURCE = BASE_DIR / "tests" / "accounts" / "oidc_provider"
PROVIDER_DIR = BASE_DIR / ".data" / "oidc-provider"
CLIENT_ID = "langfuse-ui-test"
CLIENT_SECRET = "a-test-client-secret-that-is-long-enough"


def unavailable(reason: str):
    if os.environ.get("CI") == "true":
        pytest.fail(f"CI needs the SSO browser test: {reason}")
    pytest.skip(reason)


@pytest.fixture(scope="module")
def provider_dir() -> Path:
    """The provider's package installed with npm (once; again when package.json changes)."""
    if not (shutil.which("node") and shutil.which("npm")):
        unavailable("node and npm are needed to run the oidc-provider test OIDC provider")
    PROVIDER_DIR.mkdir(parents=True, exist_ok=True)
    package = (PROVIDER_SOURCE / "package.json").read_text()
    installed = PROVIDER_DIR / "package.json"
    if not (PROVIDER_DIR / "node_modules" / "oidc-provider").exists() or installed.read_text() != package:
        installed.write_text(package)
        result = subprocess.run(
            ["npm", "install", "--no-audit", "--no-fund"],
            cwd=PROVIDER_DIR,
            capture_output=True,
            text=True,
            timeout=300,
        )
        if result.returncode != 0:
            unavailable(f"npm install of oidc-provider failed: {result.stderr[-2000:]}")
    shutil.copyfile(PROVIDER_SOURCE / "provider.js", PROVIDER_DIR / "provider.js")
    return PROVIDER_DIR


class Provider:
    def __init__(self, directory: Path, port: int, redirect_uri: str, log: Path) -> None:
        self.issuer = f"http://127.0.0.1:{port}"
        self.log = log
        env = {
            **os.environ,
            "PORT": str(port),
            "CLIENT_ID": CLIENT_ID,
            "CLIENT_SECRET": CLIENT_SECRET,
            "REDIRECT_URI": redirect_uri,
        }
        with open(log, "w") as out:
            self.process = subprocess.Popen(
                ["node", "provider.js"], cwd=directory, env=env, stdout=out, stderr=subprocess.STDOUT
            )
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"oidc-provider exited:\n{log.read_text()}")
            try:
                requests.get(f"{self.issuer}/.well-known/openid-configuration", timeout=1).raise_for_status()
                return
            except requests.RequestException:
                time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"oidc-provider did not answer:\n{log.read_text()}")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            self.process.wait(10)


@pytest.fixture
def acme(transactional_db):
    org = make_org("Acme")
    make_project(org, "production")
    return org


@pytest.fixture
def sso(provider_dir, acme, tmp_path) -> Iterator[tuple[LiveServer, Provider]]:
    """This server with SSO pointing at a provider on another loopback port."""
    provider_port = free_port()
    server = start_server(
        database_url_of_current_connection(),
        tmp_path / "server.log",
        extra_env={
            "AUTH_CUSTOM_CLIENT_ID": CLIENT_ID,
            "AUTH_CUSTOM_CLIENT_SECRET": CLIENT_SECRET,
            "AUTH_CUSTOM_ISSUER": f"http://127.0.0.1:{provider_port}",
            "AUTH_CUSTOM_NAME": "Test SSO",
            "AUTH_CUSTOM_ALLOWED_DOMAINS": "acme.test",
            "LANGFUSE_DEFAULT_ORG_ID": acme.id,
        },
    )
    try:
        provider = Provider(
            provider_dir, provider_port, f"{server.url}/auth/oidc/callback/", tmp_path / "provider.log"
        )
    except Exception:
        server.stop()
        raise
    yield server, provider
    provider.stop()
    server.stop()


@pytest.fixture
def sso_page(browser, sso) -> Iterator:
    server, _ = sso
    context = browser.new_context(base_url=server.url, viewport={"width": 1280, "height": 800})
    context.set_default_timeout(15_000)
    page = context.new_page()
    yield page
    context.close()


def sign_in_at_provider(page, email: str) -> None:
    page.goto("/auth/login/")
    page.get_by_role("button", name="Sign in with Test SSO").click()
    expect(page).to_have_url(re.compile(r"^http://127\.0\.0\.1:\d+/interaction/"))
    page.locator('input[name="login"]').fill(email)
    page.locator('input[name="password"]').fill("anything")
    screenshot(page, "sso-provider-login")
    page.locator('button[type="submit"]').click()
    consent = page.locator('button[type="submit"]', has_text=re.compile("Continue|Authorize", re.I))
    if consent.count():
        consent.first.click()


def test_sso_sign_in_creates_the_user_in_the_default_organisation(sso_page, sso, acme):
    server, _ = sso
    sso_page.goto("/auth/login/")
    expect(sso_page.get_by_role("button", name="Sign in with Test SSO")).to_be_visible()
    screenshot(sso_page, "sso-login-button")

    sign_in_at_provider(sso_page, "ada@acme.test")
    expect(sso_page).to_have_url(re.compile(rf"^{re.escape(server.url)}/(?!auth/)"))
    screenshot(sso_page, "sso-signed-in")

    user = User.objects.get(email="ada@acme.test")
    assert user.name == "Test ada"
    assert not user.has_usable_password()
    membership = OrganizationMembership.objects.get(user=user)
    assert (membership.organization_id, membership.role) == (acme.id, Role.VIEWER)

    # Signed out here, still signed in at the provider: the button signs in again, same account.
    sso_page.get_by_role("button", name="Sign out").click()
    expect(sso_page).to_have_url(f"{server.url}/auth/login/")
    sso_page.get_by_role("button", name="Sign in with Test SSO").click()
    expect(sso_page).to_have_url(re.compile(rf"^{re.escape(server.url)}/(?!auth/)"))
    assert User.objects.filter(email="ada@acme.test").count() == 1


def test_sso_refuses_an_address_outside_the_allowed_domains(sso_page, sso):
    server, _ = sso
    sign_in_at_provider(sso_page, "eve@elsewhere.test")
    expect(sso_page).to_have_url(f"{server.url}/auth/login/")
    expect(sso_page.locator(".messages")).to_contain_text("limited to acme.test addresses")
    expect(sso_page.locator(".messages")).to_contain_text("eve@elsewhere.test is not one of them")
    screenshot(sso_page, "sso-refused")
    assert not User.objects.filter(email="eve@elsewhere.test").exists()
