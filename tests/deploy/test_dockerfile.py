"""The Dockerfile: its essentials (non-root, health check, no secrets, multi-stage, port, command), its
build context (.dockerignore), and its build commands replayed in a folder, since no Docker daemon runs here."""

from __future__ import annotations

import json
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
import yaml

from tests.deploy import image
from tests.deploy.conftest import clean_env
from tests.live import free_port

SECRET_NAMES = {
    "SECRET_KEY",
    "NEXTAUTH_SECRET",
    "SALT",
    "DATABASE_URL",
    "ENCRYPTION_KEY",
    "LANGFUSE_S3_ACCESS_KEY_ID",
    "LANGFUSE_S3_SECRET_ACCESS_KEY",
    "AUTH_CUSTOM_CLIENT_SECRET",
    "SMTP_CONNECTION_URL",
}


@pytest.fixture(scope="module")
def stages():
    return image.parse()[1]


@pytest.fixture(scope="module")
def runtime(stages):
    return stages[-1]


def test_multi_stage_on_a_slim_python_supported_by_the_project(stages):
    assert len(stages) >= 2
    requires = tomllib.loads((image.BASE_DIR / "pyproject.toml").read_text())["project"]["requires-python"]
    for stage in stages:
        repository, _, tag = stage.base.partition(":")
        assert repository == "python" and "slim" in tag, stage.base
        minor = int(tag.split("-")[0].split(".")[1])
        assert 11 <= minor <= 13, (stage.base, requires)
    assert stages[0].all("RUN")[1].text.startswith("pip install .")


def test_runtime_runs_as_a_non_root_user(runtime):
    (user,) = runtime.all("USER")
    name = user.text.split(":")[0]
    assert name not in ("root", "0") and name.isdigit() and int(name) >= 1000
    # The user exists in the image (created in the runtime stage) and owns the data folder only.
    creating = " ".join(i.text for i in runtime.all("RUN"))
    assert f"--uid {name}" in creating and f"chown {name}:" in creating


def test_the_chart_runs_pods_as_the_image_user_on_the_image_port(runtime):
    values = yaml.safe_load((image.BASE_DIR / "deploy/helm/langfuse-ui/values.yaml").read_text())
    (user,) = runtime.all("USER")
    uid, _, gid = user.text.partition(":")
    assert values["podSecurityContext"]["runAsUser"] == int(uid)
    assert values["podSecurityContext"]["runAsGroup"] == int(gid)
    assert [i.text for i in runtime.all("EXPOSE")] == [str(values["containerPort"])]


def test_port_command_and_health_check(runtime):
    assert [i.text for i in runtime.all("EXPOSE")] == ["3000"]
    (entrypoint,) = runtime.all("ENTRYPOINT")
    (cmd,) = runtime.all("CMD")
    assert entrypoint.exec_form() == ["/app/deploy/docker/entrypoint.sh"]
    assert cmd.exec_form() == ["serve"]
    (health,) = runtime.all("HEALTHCHECK")
    options, _, command = health.text.partition("CMD ")
    assert "--start-period=" in options  # migrations at start-up take a while
    command_words = json.loads(command)
    assert command_words[0] == "python"
    script = image.BASE_DIR / command_words[1].removeprefix(image.APP_DIR + "/")
    assert "/api/public/health" in script.read_text() and "urllib.request" in script.read_text()
    environment = {k: v for i in runtime.all("ENV") for k, v in image.env_assignments(i).items()}
    assert environment["DEBUG"] == "false" and environment["PORT"] == "3000"
    assert environment["HOST"] == "0.0.0.0"


def test_no_secret_is_baked_into_the_image(stages):
    for stage in stages:
        for instruction in stage.all("ENV") + stage.all("ARG") + stage.all("LABEL"):
            named = set(image.env_assignments(instruction)) & SECRET_NAMES
            assert not named, f"{stage.name}: {instruction.keyword} {instruction.text}"
        for instruction in stage.all("RUN"):
            for name, value in image.env_assignments(instruction).items():
                if name in SECRET_NAMES:
                    # Only throwaway values, for the one command that needs production settings to load.
                    assert "collectstatic" in value or value.endswith("/unused"), f"{name}={value}"
    # The build context never carries local secrets or data.
    for path in (".env", ".data/postgres/PG_VERSION", ".venv/bin/python", ".git/config"):
        assert image.ignored(path), path


def test_copied_sources_exist_and_pass_dockerignore(stages):
    copied = image.copies(stages[0])
    assert copied
    for sources, _ in copied:
        for source in sources:
            assert (image.BASE_DIR / source).exists(), source
            assert not image.ignored(source), f"{source} is copied but .dockerignore excludes it"
    names = {source for sources, _ in copied for source in sources}
    # Every package pyproject.toml ships, and the folders settings.py reads from BASE_DIR.
    packages = tomllib.loads((image.BASE_DIR / "pyproject.toml").read_text())["tool"]["setuptools"]
    for include in packages["packages"]["find"]["include"]:
        assert include.rstrip("*") in names
    assert {"manage.py", "templates", "static", "deploy/docker"} <= names


def test_dockerignore_matching():
    rules = [
        ("tests", False),
        ("**/__pycache__", False),
        ("docs", False),
        ("docs/keep.md", True),
    ]  # !docs/keep.md
    assert image.ignored("tests/deploy/test_x.py", rules)
    assert image.ignored("traces/api/__pycache__/x.pyc", rules)
    assert not image.ignored("traces/api/views.py", rules)
    assert image.ignored("docs/deploy.md", rules) and not image.ignored("docs/keep.md", rules)


def test_entrypoint_is_executable_in_git():
    listed = subprocess.run(
        ["git", "ls-files", "-s", "deploy/docker/entrypoint.sh"],
        cwd=image.BASE_DIR,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert listed.startswith("100755 "), listed


def test_collectstatic_with_production_settings_gathers_every_static_file(app_tree):
    collected = app_tree / "staticfiles"
    for path in (image.BASE_DIR / "static").rglob("*"):
        if path.is_file():
            relative = path.relative_to(image.BASE_DIR / "static")
            assert (collected / relative).is_file(), f"{relative} was not collected"


def test_the_tree_holds_no_tests_data_or_local_settings(app_tree):
    top = {path.name for path in app_tree.iterdir()}
    assert top == {
        "pyproject.toml",
        "README.md",
        "manage.py",
        "langfuse_ui",
        "accounts",
        "traces",
        "prompts",
        "templates",
        "static",
        "deploy",
        "staticfiles",
    }
    assert not list(app_tree.rglob("__pycache__"))


def test_entrypoint_refuses_to_start_without_database_url(app_tree):
    result = subprocess.run(
        [str(app_tree / "deploy/docker/entrypoint.sh")],
        env=clean_env(SECRET_KEY="k", SALT="s"),
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert result.returncode == 2
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: DATABASE_URL is not set"), result.stderr
    # Nothing started an embedded database in the tree.
    assert not (app_tree / ".data").exists()


def test_entrypoint_runs_manage_py_from_the_tree_in_production_mode(app_tree):
    code = "import langfuse_ui; from django.conf import settings; print(langfuse_ui.__file__); print(settings.DEBUG)"
    result = subprocess.run(
        [str(app_tree / "deploy/docker/entrypoint.sh"), "shell", "--no-imports", "-c", code],
        cwd="/",
        env=clean_env(
            DEBUG="false",
            SECRET_KEY="entrypoint-test",
            SALT="entrypoint-test",
            DATABASE_URL="postgresql://nobody@127.0.0.1:1/unused",
        ),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    module, debug = result.stdout.split()
    assert Path(module).is_relative_to(app_tree), module  # the image's code, not an installed copy
    assert debug == "False"


def test_health_check_script_fails_when_nothing_answers(app_tree):
    result = subprocess.run(
        [sys.executable, str(app_tree / "deploy/docker/healthcheck.py")],
        env=clean_env(PORT=str(free_port())),
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert result.returncode == 1
    assert "unhealthy" in result.stderr and "/api/public/health" in result.stderr
