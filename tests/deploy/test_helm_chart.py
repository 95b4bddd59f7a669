"""The Helm chart in deploy/helm/langfuse-ui: helm lint, helm template with the default values and with every
optional part switched on, the rendered manifests checked against Kubernetes' schemas (kubernetes-validate,
bundled schemas, no cluster), and what the manifests must say (probes, keep-alive, secret, non-root, jobs)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import kubernetes_validate
import pytest
import yaml
from django.core.management import get_commands, load_command_class

CHART = Path(__file__).resolve().parents[2] / "deploy" / "helm" / "langfuse-ui"
ALL_ENABLED = CHART / "ci" / "all-enabled-values.yaml"
NAMESPACE = "observability"
RELEASE = "langfuse"
# Kubernetes versions the manifests must be valid for: an old supported one, kubectl's, the newest bundled.
KUBERNETES_VERSIONS = ["1.29.0", "1.33.0", kubernetes_validate.latest_version()]
SECRET_NAMES = {
    "DATABASE_URL",
    "SALT",
    "SECRET_KEY",
    "NEXTAUTH_SECRET",
    "LANGFUSE_S3_ACCESS_KEY_ID",
    "LANGFUSE_S3_SECRET_ACCESS_KEY",
    "AUTH_CUSTOM_CLIENT_SECRET",
    "SMTP_CONNECTION_URL",
    "ENCRYPTION_KEY",
    "LANGFUSE_INIT_USER_PASSWORD",
    "LANGFUSE_INIT_PROJECT_SECRET_KEY",
}


@pytest.fixture(scope="module")
def helm(helm_binary, tmp_path_factory):
    home = tmp_path_factory.mktemp("helm-home")
    env = {
        "PATH": "/usr/bin:/bin",
        "HOME": str(home),
        "HELM_CACHE_HOME": str(home / "cache"),
        "HELM_CONFIG_HOME": str(home / "config"),
        "HELM_DATA_HOME": str(home / "data"),
    }

    def run(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [str(helm_binary), *args], capture_output=True, text=True, env=env, timeout=120, check=False
        )

    return run


def render(helm, *options: str) -> list[dict]:
    result = helm("template", RELEASE, str(CHART), "--namespace", NAMESPACE, *options)
    assert result.returncode == 0, result.stderr
    return [doc for doc in yaml.safe_load_all(result.stdout) if doc]


def by_kind(docs: list[dict]) -> dict[str, list[dict]]:
    kinds: dict[str, list[dict]] = {}
    for doc in docs:
        kinds.setdefault(doc["kind"], []).append(doc)
    return kinds


def one(docs: list[dict], kind: str) -> dict:
    found = by_kind(docs).get(kind, [])
    assert len(found) == 1, f"{len(found)} {kind} objects"
    return found[0]


def env_of(container: dict) -> dict[str, str]:
    return {entry["name"]: entry.get("value") for entry in container.get("env", [])}


@pytest.fixture(scope="module")
def default_docs(helm):
    return render(helm)


@pytest.fixture(scope="module")
def all_docs(helm):
    return render(helm, "--values", str(ALL_ENABLED))


@pytest.mark.parametrize("values", [None, ALL_ENABLED], ids=["defaults", "all-enabled"])
def test_helm_lint_passes_strictly(helm, values):
    result = helm("lint", str(CHART), "--strict", *(["--values", str(values)] if values else []))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "1 chart(s) linted, 0 chart(s) failed" in result.stdout


def test_defaults_render_only_the_server(default_docs):
    assert sorted(by_kind(default_docs)) == ["Deployment", "Service", "ServiceAccount"]


def test_all_enabled_renders_every_optional_part(all_docs):
    kinds = by_kind(all_docs)
    assert sorted(kinds) == [
        "CronJob",
        "Deployment",
        "HorizontalPodAutoscaler",
        "Ingress",
        "PodDisruptionBudget",
        "Service",
        "ServiceAccount",
        "VirtualService",
    ]
    assert len(kinds["CronJob"]) == 2


@pytest.mark.parametrize("version", KUBERNETES_VERSIONS)
@pytest.mark.parametrize("which", ["defaults", "all-enabled"])
def test_rendered_manifests_match_the_kubernetes_schemas(default_docs, all_docs, which, version):
    docs = default_docs if which == "defaults" else all_docs
    checked = []
    for doc in docs:
        if doc["apiVersion"].startswith("networking.istio.io/"):
            continue  # a custom resource: no schema bundled; test_virtual_service checks its shape
        kubernetes_validate.validate(doc, version, strict=True)
        checked.append(doc["kind"])
    assert "Deployment" in checked


def test_the_schema_check_rejects_a_broken_manifest(default_docs):
    deployment = one(default_docs, "Deployment")
    broken = yaml.safe_load(yaml.safe_dump(deployment))
    broken["spec"]["template"]["spec"]["containers"][0]["readinessProbe"]["httpGet"]["paht"] = "/typo"
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(broken, KUBERNETES_VERSIONS[1], strict=True)
    broken = yaml.safe_load(yaml.safe_dump(deployment))
    broken["spec"]["replicas"] = "two"
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(broken, KUBERNETES_VERSIONS[1], strict=True)


def test_server_probes_port_and_command(default_docs):
    deployment = one(default_docs, "Deployment")
    pod = deployment["spec"]["template"]["spec"]
    (container,) = pod["containers"]
    assert container["args"] == ["serve"]
    assert container["ports"] == [{"name": "http", "containerPort": 3000, "protocol": "TCP"}]
    assert env_of(container)["PORT"] == "3000"
    assert container["readinessProbe"]["httpGet"] == {"path": "/api/public/ready", "port": "http"}
    assert container["livenessProbe"]["httpGet"] == {"path": "/api/public/health", "port": "http"}
    assert container["startupProbe"]["httpGet"] == {"path": "/api/public/health", "port": "http"}
    startup = container["startupProbe"]
    assert startup["periodSeconds"] * startup["failureThreshold"] >= 600  # migrations get 10 minutes
    # The server drains for up to 30 s after SIGTERM; Kubernetes must not kill it earlier.
    assert pod["terminationGracePeriodSeconds"] > 30
    assert deployment["spec"]["replicas"] == 1
    assert container["image"] == f"registry.example.com/langfuse-ui:{chart_app_version()}"


def chart_app_version() -> str:
    return str(yaml.safe_load((CHART / "Chart.yaml").read_text())["appVersion"])


def test_keep_alive_defaults_survive_user_env(helm):
    for docs in (
        render(helm),
        render(helm, "--set", "env.NEXTAUTH_URL=https://langfuse.example.com", "--set", "image.tag=2.0.0"),
    ):
        deployment = one(docs, "Deployment")
        env = env_of(deployment["spec"]["template"]["spec"]["containers"][0])
        assert env["LANGFUSE_HTTP_KEEPALIVE_TIMEOUT_MS"] == "620000"
        assert env["LANGFUSE_HTTP_HEADERS_TIMEOUT_MS"] == "621000"
    assert env["NEXTAUTH_URL"] == "https://langfuse.example.com"
    assert deployment["spec"]["template"]["spec"]["containers"][0]["image"].endswith(":2.0.0")


def test_secrets_come_only_from_the_existing_secret(default_docs, all_docs):
    for docs in (default_docs, all_docs):
        assert "Secret" not in by_kind(docs) and "ConfigMap" not in by_kind(docs)
        deployment = one(docs, "Deployment")
        containers = [deployment["spec"]["template"]["spec"]["containers"][0]] + [
            job["spec"]["jobTemplate"]["spec"]["template"]["spec"]["containers"][0]
            for job in by_kind(docs).get("CronJob", [])
        ]
        for container in containers:
            assert container["envFrom"][0] == {"secretRef": {"name": "langfuse-env"}}
            named = set(env_of(container)) & SECRET_NAMES
            assert named == set(), f"{container['name']} sets secrets in plain env: {named}"


@pytest.mark.parametrize(
    "name",
    ["SALT", "DATABASE_URL", "NEXTAUTH_SECRET", "LANGFUSE_S3_SECRET_ACCESS_KEY", "smtp_connection_url"],
)
def test_a_secret_in_values_env_is_refused_with_the_way_out(helm, name):
    result = helm("template", RELEASE, str(CHART), "--set", f"env.{name}=hunter2")
    assert result.returncode != 0
    assert f"env.{name} looks like a secret" in result.stderr
    assert "existingSecret (langfuse-env)" in result.stderr


def test_a_secret_file_path_is_not_a_secret(helm):
    docs = render(helm, "--set", "env.SALT_FILE=/var/run/secrets/langfuse/salt")
    env = env_of(one(docs, "Deployment")["spec"]["template"]["spec"]["containers"][0])
    assert env["SALT_FILE"] == "/var/run/secrets/langfuse/salt"


def test_chart_files_hold_no_secret_values():
    """values.yaml and the templates name secret variables only in comments or as `fail` messages."""
    for path in [CHART / "values.yaml", ALL_ENABLED, *sorted((CHART / "templates").iterdir())]:
        for number, line in enumerate(path.read_text().splitlines(), 1):
            code = line.split("#", 1)[0]
            for name in SECRET_NAMES:
                assert f"{name}:" not in code and f"{name}=" not in code, f"{path.name}:{number}: {line}"


def test_pods_run_as_non_root_with_a_read_only_root(all_docs):
    deployment = one(all_docs, "Deployment")
    pods = [deployment["spec"]["template"]["spec"]] + [
        job["spec"]["jobTemplate"]["spec"]["template"]["spec"] for job in by_kind(all_docs)["CronJob"]
    ]
    for pod in pods:
        assert pod["securityContext"]["runAsNonRoot"] is True
        assert pod["securityContext"]["runAsUser"] != 0
        assert pod["automountServiceAccountToken"] is False
        (container,) = pod["containers"]
        assert container["securityContext"]["readOnlyRootFilesystem"] is True
        assert container["securityContext"]["allowPrivilegeEscalation"] is False
        assert container["securityContext"]["capabilities"]["drop"] == ["ALL"]
        # The root file system is read-only: /tmp and LANGFUSE_DATA_DIR (/data) are volumes.
        assert {"/tmp", "/data"} <= {mount["mountPath"] for mount in container["volumeMounts"]}


def test_service_ingress_and_virtual_service_reach_the_pods(all_docs):
    deployment = one(all_docs, "Deployment")
    service = one(all_docs, "Service")
    pod_labels = deployment["spec"]["template"]["metadata"]["labels"]
    assert service["spec"]["selector"].items() <= pod_labels.items()
    assert deployment["spec"]["selector"]["matchLabels"].items() <= pod_labels.items()
    assert service["spec"]["ports"] == [
        {"name": "http", "port": 3000, "targetPort": "http", "protocol": "TCP"}
    ]
    name = service["metadata"]["name"]

    ingress = one(all_docs, "Ingress")
    (rule,) = ingress["spec"]["rules"]
    assert rule["host"] == "langfuse.example.com"
    assert rule["http"]["paths"][0]["backend"] == {"service": {"name": name, "port": {"name": "http"}}}
    assert ingress["spec"]["tls"] == [{"secretName": "langfuse-tls", "hosts": ["langfuse.example.com"]}]

    virtual_service = one(all_docs, "VirtualService")
    assert virtual_service["apiVersion"] == "networking.istio.io/v1"
    spec = virtual_service["spec"]
    assert spec["hosts"] == ["langfuse.example.com"] and spec["gateways"] == ["istio-system/ingressgateway"]
    (route,) = spec["http"]
    assert route["timeout"] == "600s"
    assert route["route"] == [
        {"destination": {"host": f"{name}.{NAMESPACE}.svc.cluster.local", "port": {"number": 3000}}}
    ]


def test_autoscaler_owns_the_replica_count(all_docs):
    deployment = one(all_docs, "Deployment")
    assert "replicas" not in deployment["spec"]
    hpa = one(all_docs, "HorizontalPodAutoscaler")
    assert hpa["spec"]["scaleTargetRef"] == {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "name": deployment["metadata"]["name"],
    }
    assert (hpa["spec"]["minReplicas"], hpa["spec"]["maxReplicas"]) == (2, 5)
    pdb = one(all_docs, "PodDisruptionBudget")
    assert pdb["spec"]["selector"]["matchLabels"].items() <= (
        deployment["spec"]["template"]["metadata"]["labels"].items()
    )


def cron_jobs(docs: list[dict]) -> dict[str, dict]:
    return {job["metadata"]["name"].rsplit("-", 1)[1]: job for job in by_kind(docs).get("CronJob", [])}


def test_cron_jobs_purge_and_back_up_with_the_server_image_and_secret(all_docs):
    jobs = cron_jobs(all_docs)
    assert sorted(jobs) == ["backup", "retention"]
    server = one(all_docs, "Deployment")["spec"]["template"]["spec"]["containers"][0]
    for job in jobs.values():
        assert job["spec"]["concurrencyPolicy"] == "Forbid"
        template = job["spec"]["jobTemplate"]["spec"]["template"]
        assert template["metadata"]["annotations"]["sidecar.istio.io/inject"] == "false"
        (container,) = template["spec"]["containers"]
        assert container["image"] == server["image"] == "registry.example.com/team/langfuse-ui:1.2.3"
        assert container["envFrom"] == server["envFrom"]
    assert jobs["retention"]["spec"]["schedule"] == "15 * * * *"
    assert jobs["backup"]["spec"]["schedule"] == "0 2 * * *"
    retention = jobs["retention"]["spec"]["jobTemplate"]["spec"]["template"]["spec"]["containers"][0]
    backup = jobs["backup"]["spec"]["jobTemplate"]["spec"]["template"]["spec"]["containers"][0]
    assert retention["args"] == ["purge_retention"]
    assert backup["args"] == ["backup", "--bucket", "langfuse-backups", "--prefix", "nightly/"]
    # With the purge on a schedule, the servers' own hourly purge is off.
    assert env_of(server)["LANGFUSE_RETENTION_INTERVAL_MINUTES"] == "0"


def test_without_the_retention_job_the_servers_purge_themselves(default_docs):
    server = one(default_docs, "Deployment")["spec"]["template"]["spec"]["containers"][0]
    assert "LANGFUSE_RETENTION_INTERVAL_MINUTES" not in env_of(server)
    assert cron_jobs(default_docs) == {}


def test_cron_job_arguments_are_accepted_by_the_commands(all_docs):
    """The CronJobs' args are `manage.py` arguments (the image's entrypoint); the commands must parse them."""
    commands = get_commands()
    for job in cron_jobs(all_docs).values():
        name, *arguments = job["spec"]["jobTemplate"]["spec"]["template"]["spec"]["containers"][0]["args"]
        command = load_command_class(commands[name], name)
        parsed = command.create_parser("manage.py", name).parse_args(arguments)
        if name == "backup":
            assert (parsed.bucket, parsed.prefix) == ("langfuse-backups", "nightly/")


def test_names_follow_the_release_or_the_override(helm, default_docs):
    assert one(default_docs, "Deployment")["metadata"]["name"] == f"{RELEASE}-langfuse-ui"
    docs = render(helm, "--values", str(ALL_ENABLED), "--set", "fullnameOverride=langfuse")
    names = {doc["metadata"]["name"] for doc in docs}
    assert names == {"langfuse", "langfuse-retention", "langfuse-backup"}
    hpa = one(docs, "HorizontalPodAutoscaler")
    assert hpa["spec"]["scaleTargetRef"]["name"] == "langfuse"


def test_backup_job_needs_a_bucket(helm):
    result = helm("template", RELEASE, str(CHART), "--set", "backup.cronJob.enabled=true")
    assert result.returncode != 0
    assert "backup.cronJob.bucket is required" in result.stderr


DEPLOY_DOC = CHART.parents[2] / "docs" / "deploy.md"


def test_the_values_example_in_docs_renders_valid_manifests(helm, tmp_path):
    text = DEPLOY_DOC.read_text()
    values = text.split("```yaml\n", 1)[1].split("```", 1)[0]
    (tmp_path / "values.yaml").write_text(values)
    docs = render(helm, "--values", str(tmp_path / "values.yaml"))
    for doc in docs:
        if not doc["apiVersion"].startswith("networking.istio.io/"):
            kubernetes_validate.validate(doc, KUBERNETES_VERSIONS[1], strict=True)
    deployment = one(docs, "Deployment")
    assert deployment["metadata"]["name"] == "langfuse"  # the doc's kubectl commands name it so
    assert sorted(cron_jobs(docs)) == ["backup", "retention"]
    assert {"langfuse-backup", "langfuse"} <= {doc["metadata"]["name"] for doc in docs}


def test_the_restore_job_in_docs_is_a_valid_job_running_restore():
    text = DEPLOY_DOC.read_text()
    manifest = text.split("<<'EOF'\n", 1)[1].split("\nEOF\n", 1)[0]
    job = yaml.safe_load(manifest)
    kubernetes_validate.validate(job, KUBERNETES_VERSIONS[1], strict=True)
    args = job["spec"]["template"]["spec"]["containers"][0]["args"]
    command = load_command_class(get_commands()[args[0]], args[0])
    parsed = command.create_parser("manage.py", args[0]).parse_args(args[1:])
    assert parsed.yes and parsed.bucket == "langfuse-backups"
