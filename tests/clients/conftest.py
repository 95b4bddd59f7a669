"""Fixtures for the real-client tests: cached client environments and a live server with a project key."""

from __future__ import annotations

import shutil

import pytest

pytest.register_assert_rewrite("tests.clients.expectations")

from tests.clients import envs  # noqa: E402
from tests.clients.harness import ClientServer  # noqa: E402
from tests.factories import ensure_default_prices, make_project_with_roles  # noqa: E402

_install_seconds: dict[str, float] = {}


def pytest_configure(config):
    config.addinivalue_line("markers", "client_env(name): the cached client environment the test runs in")


@pytest.fixture(scope="session")
def client_envs(request) -> dict[str, envs.ClientEnv]:
    """Every environment the selected tests need, built in parallel the first time, reused afterwards."""
    needed = sorted(
        {marker.args[0] for item in request.session.items for marker in item.iter_markers("client_env")}
    )
    if shutil.which("node") is None or shutil.which("npm") is None:  # those tests skip themselves
        needed = [name for name in needed if envs.ENVS[name].kind != "node"]
    try:
        built = envs.ensure_all(needed)
    except envs.ClientEnvError as exc:
        pytest.fail(f"could not install the client packages from the registry:\n{exc}", pytrace=False)
    _install_seconds.update({name: seconds for name, (_, seconds) in built.items()})
    return {name: env for name, (env, _) in built.items()}


@pytest.fixture
def client_env(request, client_envs) -> envs.ClientEnv:
    marker = request.node.get_closest_marker("client_env")
    assert marker is not None, "mark the test with @pytest.mark.client_env(name)"
    return client_envs[marker.args[0]]


@pytest.fixture
def client_server(transactional_db, request) -> ClientServer:
    """A live uvicorn server whose database already holds default prices and a project with a key pair."""
    ensure_default_prices()
    team = make_project_with_roles()
    live = request.getfixturevalue("live_server_process")
    server = ClientServer(
        url=live.url,
        public_key=team.public_key,
        secret_key=team.secret_key,
        project=team.project,
        log=live.log,
    )
    yield server
    print(f"--- server log ---\n{server.log_tail(200)}")  # shown when the test fails


def pytest_terminal_summary(terminalreporter):
    if _install_seconds:
        spent = ", ".join(f"{name} {seconds:.1f}s" for name, seconds in sorted(_install_seconds.items()))
        terminalreporter.write_line(f"client environments (install or cache check): {spent}")
