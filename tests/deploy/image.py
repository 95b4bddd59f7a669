"""The Dockerfile read as data, and the image's /app tree rebuilt in a folder without Docker.

There is no Docker daemon where the tests run, so the image itself is never built here. What can be
checked is checked: the instructions parse, the files the build stage COPYs exist and pass .dockerignore,
and the tree those COPYs make, with the Dockerfile's own collectstatic command run in it, serves.
"""

from __future__ import annotations

import fnmatch
import json
import shlex
import shutil
from dataclasses import dataclass, field
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parents[2]
DOCKERFILE = BASE_DIR / "Dockerfile"
DOCKERIGNORE = BASE_DIR / ".dockerignore"
APP_DIR = "/app"  # WORKDIR of both stages


@dataclass
class Instruction:
    keyword: str
    text: str  # the arguments, continuation lines joined

    def exec_form(self) -> list[str] | None:
        try:
            value = json.loads(self.text)
        except ValueError:
            return None
        return value if isinstance(value, list) else None


@dataclass
class Stage:
    base: str
    name: str
    instructions: list[Instruction] = field(default_factory=list)

    def all(self, keyword: str) -> list[Instruction]:
        return [i for i in self.instructions if i.keyword == keyword]


def parse(text: str | None = None) -> tuple[dict[str, str], list[Stage]]:
    """Global ARG defaults and the stages, in order."""
    text = DOCKERFILE.read_text() if text is None else text
    logical: list[str] = []
    pending = ""
    for raw in text.splitlines():
        line = raw.strip()
        if not pending and (not line or line.startswith("#")):
            continue
        if line.startswith("#"):
            continue  # a comment inside a continued instruction
        if line.endswith("\\"):
            pending += line[:-1].strip() + " "
            continue
        logical.append(pending + line)
        pending = ""
    args: dict[str, str] = {}
    stages: list[Stage] = []
    for line in logical:
        keyword, _, rest = line.partition(" ")
        keyword = keyword.upper()
        rest = rest.strip()
        if keyword == "FROM":
            words = rest.split()
            base = words[0]
            for name, value in args.items():
                base = base.replace("${" + name + "}", value).replace("$" + name, value)
            name = words[2] if len(words) >= 3 and words[1].upper() == "AS" else str(len(stages))
            stages.append(Stage(base=base, name=name))
        elif not stages and keyword == "ARG":
            name, _, value = rest.partition("=")
            args[name] = value
        else:
            stages[-1].instructions.append(Instruction(keyword, rest))
    return args, stages


def env_assignments(instruction: Instruction) -> dict[str, str]:
    """NAME=value pairs of an ENV instruction (or of the leading assignments of a shell command)."""
    pairs = {}
    for word in shlex.split(instruction.text):
        name, equals, value = word.partition("=")
        if not equals or not name.replace("_", "").isalnum():
            if instruction.keyword == "ENV":
                continue
            break
        pairs[name] = value
    return pairs


def copies(stage: Stage) -> list[tuple[list[str], str]]:
    """(sources, destination) of the stage's COPY instructions from the build context."""
    found = []
    for instruction in stage.all("COPY"):
        words = [w for w in shlex.split(instruction.text) if not w.startswith("--chown") and w != "--link"]
        if any(w.startswith("--from") for w in words):
            continue
        *sources, destination = words
        found.append((sources, destination))
    return found


def ignore_patterns() -> list[tuple[str, bool]]:
    patterns = []
    for raw in DOCKERIGNORE.read_text().splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        negated = line.startswith("!")
        patterns.append((line.lstrip("!").strip("/"), negated))
    return patterns


def ignored(path: str, patterns: list[tuple[str, bool]] | None = None) -> bool:
    """Whether .dockerignore keeps path (relative to the context) out; the last matching rule wins."""
    patterns = ignore_patterns() if patterns is None else patterns
    parts = path.strip("/").split("/")
    result = False
    for pattern, negated in patterns:
        for depth in range(1, len(parts) + 1):  # a rule on a folder covers everything inside it
            prefix = "/".join(parts[:depth])
            if _match(pattern, prefix):
                result = not negated
                break
    return result


def _match(pattern: str, path: str) -> bool:
    if pattern.startswith("**/"):
        rest = pattern[3:]
        return any(_match(rest, "/".join(path.split("/")[i:])) for i in range(len(path.split("/"))))
    if pattern.count("/") != path.count("/"):
        return False
    return all(fnmatch.fnmatchcase(p, q) for p, q in zip(path.split("/"), pattern.split("/"), strict=True))


def build_stage() -> Stage:
    _, stages = parse()
    return stages[0]


def build_app_tree(root: Path) -> Path:
    """Copy what the build stage COPYs into root/app (as the image's /app) and return that folder."""
    app = root / "app"
    app.mkdir(parents=True)
    patterns = ignore_patterns()
    for sources, destination in copies(build_stage()):
        target = app / destination.removeprefix(APP_DIR).lstrip("/")
        for source in sources:
            origin = BASE_DIR / source
            if origin.is_dir():
                shutil.copytree(
                    origin,
                    target,
                    dirs_exist_ok=True,
                    ignore=lambda folder, names: [
                        name
                        for name in names
                        if ignored(str((Path(folder) / name).relative_to(BASE_DIR)), patterns)
                    ],
                )
            else:
                dest = target / origin.name if destination.endswith("/") else target
                dest.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(origin, dest)
    return app


def run_command_containing(stage: Stage, words: str) -> str:
    (instruction,) = [i for i in stage.all("RUN") if words in i.text]
    return instruction.text
