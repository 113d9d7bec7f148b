"""The images/ Dockerfiles as data, for the image tests: stages, ARG scoping and instructions.

Read with dockerfile-parse (DockerfileParser(fileobj=...)), which joins continuation lines and gives
comments as COMMENT items (skipped); Docker's stage and ARG scoping rules are applied here. Nothing
here needs a Docker engine, and none is used.
"""

from __future__ import annotations

import fnmatch
import io
import json
import re
import shlex
import tomllib
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

from dockerfile_parse import DockerfileParser

ROOT = Path(__file__).resolve().parents[2]
IMAGES = ROOT / "images"
# Every image, in the order images/build.sh builds them (a parent before its child).
IMAGE_NAMES = ("server", "client", "full-stack", "udp-base", "udp-server")
# Our own images are named PREFIX/arkouda-<image>; the charts pull from this prefix.
PREFIX = "ghcr.io/arkouda-k8s"
# What images/build.sh leaves in dist/ for the Dockerfiles to COPY (not in the repository).
DIST_TARBALL = "dist/arkouda.tar.gz"

# Instructions whose arguments Docker itself expands ($VAR, ${VAR}) from ARG and ENV.
DOCKER_EXPANDED = {"ADD", "COPY", "ENV", "EXPOSE", "LABEL", "USER", "WORKDIR", "VOLUME", "STOPSIGNAL", "ARG"}
_VAR = re.compile(r"\$(?:\{([A-Za-z_][A-Za-z0-9_]*)(?:[:%#/][^}]*)?\}|([A-Za-z_][A-Za-z0-9_]*))")


@cache
def project() -> dict[str, object]:
    with (ROOT / "pyproject.toml").open("rb") as f:
        data: dict[str, object] = tomllib.load(f)["project"]
    return data


def project_version() -> str:
    return str(project()["version"])


def console_scripts() -> set[str]:
    scripts = project().get("scripts", {})
    assert isinstance(scripts, dict)
    return set(scripts)


def wheel_path() -> str:
    return f"dist/arkouda_k8s-{project_version()}-py3-none-any.whl"


def image_ref(image: str, tag: str | None = None) -> str:
    return f"{PREFIX}/arkouda-{image}:{tag or project_version()}"


def variables(text: str) -> set[str]:
    """The names that $NAME, ${NAME} and ${NAME<op>...} refer to in `text`."""
    return {a or b for a, b in _VAR.findall(text)}


def substitute(text: str, values: dict[str, str | None]) -> str:
    """Docker's expansion of $NAME and ${NAME} (an unknown or unset name expands to nothing)."""
    return _VAR.sub(lambda m: values.get(m.group(1) or m.group(2)) or "", text)


def exec_form(value: str) -> list[str] | None:
    """The JSON array of an exec-form CMD/ENTRYPOINT/HEALTHCHECK CMD, or None for the shell form."""
    value = value.strip()
    if not value.startswith("["):
        return None
    parsed = json.loads(value)
    assert isinstance(parsed, list) and all(isinstance(a, str) for a in parsed), value
    return parsed


def env_pairs(value: str) -> dict[str, str]:
    """The variables an ENV instruction sets (`ENV A=b C="d e"`, or the legacy `ENV A b`)."""
    words = shlex.split(value)
    if words and "=" not in words[0]:
        return {words[0]: " ".join(words[1:])}
    return dict(word.split("=", 1) for word in words)


@dataclass(frozen=True)
class Instruction:
    name: str
    value: str
    line: int  # 1-based, for messages

    def where(self, dockerfile: Dockerfile) -> str:
        return f"{dockerfile.path.relative_to(ROOT)}:{self.line} {self.name}"


@dataclass
class Stage:
    index: int
    base: str  # as written in FROM
    alias: str | None
    args: dict[str, str | None] = field(default_factory=dict)  # in scope, with their defaults
    instructions: list[Instruction] = field(default_factory=list)

    def all(self, name: str) -> list[Instruction]:
        return [i for i in self.instructions if i.name == name]

    def last(self, name: str) -> Instruction | None:
        found = self.all(name)
        return found[-1] if found else None

    def env(self) -> dict[str, str]:
        values: dict[str, str] = {}
        for instruction in self.all("ENV"):
            values.update(env_pairs(instruction.value))
        return values


@dataclass
class Dockerfile:
    image: str
    path: Path
    global_args: dict[str, str | None]
    stages: list[Stage]

    @property
    def final(self) -> Stage:
        return self.stages[-1]

    def base_image(self, stage: Stage) -> str:
        """The stage's FROM with the global ARG defaults applied."""
        return substitute(stage.base, self.global_args)

    def stage_named(self, alias: str) -> Stage | None:
        return next((s for s in self.stages if s.alias == alias), None)

    def parent_image(self) -> str | None:
        """The name of our own image that the final stage starts FROM, or None."""
        base = self.base_image(self.final)
        for image in IMAGE_NAMES:
            if base.startswith(f"{PREFIX}/arkouda-{image}:"):
                return image
        return None

    def chain(self) -> list[Dockerfile]:
        """This Dockerfile, then the Dockerfiles of our images its final stage is built on."""
        parent = self.parent_image()
        return [self, *(load(parent).chain() if parent else [])]

    def effective(self, name: str) -> Instruction | None:
        """ENTRYPOINT, CMD or HEALTHCHECK of the image: the final stage's, else the parent image's."""
        for dockerfile in self.chain():
            found = dockerfile.final.last(name)
            if found is not None:
                return found
        return None

    def installed_scripts(self) -> dict[str, Path]:
        """Programs the image chain COPYs into /usr/local/bin from the repository: name -> source."""
        scripts: dict[str, Path] = {}
        for dockerfile in self.chain():
            for stage in dockerfile.stages:
                for copy in stage.all("COPY"):
                    flags, sources, dest = copy_parts(copy.value)
                    if "from" in flags or len(sources) != 1 or not dest.startswith("/usr/local/bin/"):
                        continue
                    scripts[dest.removeprefix("/usr/local/bin/")] = ROOT / sources[0]
        return scripts


def copy_parts(value: str) -> tuple[dict[str, str], list[str], str]:
    """(--flags, sources, destination) of a COPY/ADD value."""
    words = shlex.split(value)
    flags: dict[str, str] = {}
    while words and words[0].startswith("--"):
        key, _, flag_value = words.pop(0)[2:].partition("=")
        flags[key] = flag_value
    assert len(words) >= 2, f"COPY/ADD needs a source and a destination: {value}"
    return flags, words[:-1], words[-1]


@cache
def load(image: str) -> Dockerfile:
    path = IMAGES / image / "Dockerfile"
    parser = DockerfileParser(fileobj=io.BytesIO(path.read_bytes()))
    global_args: dict[str, str | None] = {}
    stages: list[Stage] = []
    for item in parser.structure:
        if item["instruction"] == "COMMENT":
            continue
        instruction = Instruction(item["instruction"].upper(), item["value"], item["startline"] + 1)
        if instruction.name == "FROM":
            words = instruction.value.split()
            alias = words[2] if len(words) == 3 and words[1].upper() == "AS" else None
            stages.append(Stage(len(stages), words[0], alias))
            continue
        if instruction.name == "ARG":
            name, eq, default = instruction.value.partition("=")
            if not stages:
                global_args[name] = default if eq else None
                continue
            # In a stage, `ARG NAME` without a value brings in the global default of NAME.
            stages[-1].args[name] = default if eq else global_args.get(name)
        stages[-1].instructions.append(instruction)
    return Dockerfile(image, path, global_args, stages)


def dockerignore_allows(image: str, path: str) -> bool:
    """Whether images/<image>/Dockerfile.dockerignore lets `path` (relative to the context) through.

    Docker's rule: the last pattern that matches decides, `!` re-includes; a pattern also matches
    everything under a directory it matches.
    """
    allowed = True
    for raw in (IMAGES / image / "Dockerfile.dockerignore").read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        negate = line.startswith("!")
        pattern = line.removeprefix("!").rstrip("/")
        parts = path.split("/")
        prefixes = ["/".join(parts[: n + 1]) for n in range(len(parts))]
        if any(fnmatch.fnmatchcase(p, pattern) for p in prefixes):
            allowed = negate
    return allowed


def dockerignore_patterns(image: str) -> list[str]:
    lines = (IMAGES / image / "Dockerfile.dockerignore").read_text(encoding="utf-8").splitlines()
    return [line.strip() for line in lines if line.strip() and not line.strip().startswith("#")]
