"""images/build.sh: the seed's build flow as one command, checked through its --dry-run (no Docker
engine here) and through the refusals that come before any work."""

from __future__ import annotations

import io
import os
import shlex
import subprocess
import tarfile
from pathlib import Path

import pytest
from imagekit import DIST_TARBALL, IMAGE_NAMES, PREFIX, ROOT, image_ref, load, project_version, wheel_path

from arkouda_k8s.testing.pytest_plugin import find_tool, require_component

BUILD_SH = ROOT / "images" / "build.sh"
FOLDER = "arkouda-2024.04.19"


def _tarball(path: Path, members: list[str], directory_entries: bool = True) -> Path:
    """A .tar.gz shaped like an arkouda sdist: `members` are file paths; their folders get entries."""
    with tarfile.open(path, "w:gz") as tar:
        folders = sorted({m.rsplit("/", 1)[0] for m in members if "/" in m})
        if directory_entries:
            for folder in folders:
                info = tarfile.TarInfo(folder)
                info.type = tarfile.DIRTYPE
                info.mode = 0o755
                tar.addfile(info)
        for member in members:
            data = b"x\n"
            info = tarfile.TarInfo(member)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return path


@pytest.fixture
def sdist(tmp_path: Path) -> Path:
    return _tarball(tmp_path / f"{FOLDER}.tar.gz", [f"{FOLDER}/setup.py", f"{FOLDER}/src/arkouda_server.chpl"])


def _dist_state() -> list[tuple[str, int]]:
    dist = ROOT / "dist"
    return sorted((p.name, p.stat().st_mtime_ns) for p in dist.iterdir()) if dist.is_dir() else []


def run_build(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    environ = {k: v for k, v in os.environ.items() if k not in {"VERSION", "IMAGE_PREFIX", "PYTHON", "DOCKER"}}
    return subprocess.run(
        ["bash", str(BUILD_SH), *args], capture_output=True, text=True, env={**environ, **(env or {})}, timeout=60
    )


def dry_run(*args: str, env: dict[str, str] | None = None) -> list[list[str]]:
    before = _dist_state()
    done = run_build("--dry-run", *args, env=env)
    assert done.returncode == 0, done.stderr
    assert _dist_state() == before, "a dry run changed dist/"
    return [shlex.split(line) for line in done.stdout.splitlines()]


def docker_builds(commands: list[list[str]]) -> list[list[str]]:
    return [c for c in commands if c[:2] == ["docker", "build"]]


def option(command: list[str], name: str) -> list[str]:
    return [command[i + 1] for i, word in enumerate(command) if word == name]


def build_args(command: list[str]) -> dict[str, str]:
    return dict(arg.split("=", 1) for arg in option(command, "--build-arg"))


def test_dry_run_prints_the_seed_flow_in_order(sdist: Path) -> None:
    commands = dry_run("--arkouda", str(sdist))
    assert commands[0] == ["cd", str(ROOT)]
    assert commands[1] == ["export", "DOCKER_BUILDKIT=1"]
    assert commands[2] == ["cp", str(sdist), DIST_TARBALL]
    assert commands[3][1:] == ["-m", "build", "--wheel", "--outdir", "dist", "."]
    builds = docker_builds(commands)
    assert commands[4:] == builds
    assert [option(b, "--file") for b in builds] == [[f"images/{i}/Dockerfile"] for i in IMAGE_NAMES]
    assert [option(b, "--tag") for b in builds] == [[image_ref(i)] for i in IMAGE_NAMES]
    assert all(b[-1] == "." for b in builds), "the build context is the repository root"


@pytest.mark.parametrize("image", IMAGE_NAMES)
def test_dry_run_passes_exactly_what_each_dockerfile_takes(sdist: Path, image: str) -> None:
    (build,) = docker_builds(dry_run("--arkouda", str(sdist), image))
    given = build_args(build)
    dockerfile = load(image)
    declared = set(dockerfile.global_args) | {a for s in dockerfile.stages for a in s.args}
    assert set(given) <= declared, f"build.sh passes {set(given) - declared} that images/{image} does not declare"
    required = {a for s in dockerfile.stages for a, default in s.args.items() if default is None}
    assert required <= set(given), f"build.sh does not pass {required - set(given)} to images/{image}"
    if "ARKOUDA_DIST_FOLDER" in given:
        assert given["ARKOUDA_DIST_FOLDER"] == FOLDER  # the seed's tar listing, trailing '/' dropped
    if "ARKOUDA_K8S_VERSION" in given:
        assert given["ARKOUDA_K8S_VERSION"] == project_version()
    # an image built on another of ours gets the tag built just before it
    parents = {"SERVER_IMAGE": image_ref("server"), "UDP_BASE_IMAGE": image_ref("udp-base")}
    for name, ref in parents.items():
        if name in declared:
            assert given[name] == ref


def test_images_named_in_any_order_build_in_dependency_order(sdist: Path) -> None:
    builds = docker_builds(dry_run("--arkouda", str(sdist), "udp-server", "full-stack", "udp-base", "server"))
    assert [option(b, "--file")[0].split("/")[1] for b in builds] == ["server", "full-stack", "udp-base", "udp-server"]


def test_udp_base_alone_needs_no_tarball_and_no_wheel() -> None:
    commands = dry_run("udp-base")
    assert [c[0] for c in commands] == ["cd", "export", "docker"]


def test_version_and_prefix_set_every_tag(sdist: Path) -> None:
    builds = docker_builds(dry_run("--arkouda", str(sdist), "--version", "9.9.9-rc1", "--prefix", "registry.local/ak"))
    assert [option(b, "--tag")[0] for b in builds] == [f"registry.local/ak/arkouda-{i}:9.9.9-rc1" for i in IMAGE_NAMES]
    full_stack, udp_server = builds[2], builds[4]
    assert build_args(full_stack)["SERVER_IMAGE"] == "registry.local/ak/arkouda-server:9.9.9-rc1"
    assert build_args(udp_server)["UDP_BASE_IMAGE"] == "registry.local/ak/arkouda-udp-base:9.9.9-rc1"
    # the tag moves; the wheel installed is still this repository's version
    assert build_args(udp_server)["ARKOUDA_K8S_VERSION"] == project_version()
    from_env = docker_builds(dry_run("--arkouda", str(sdist), "server", env={"VERSION": "1.2.3"}))
    assert option(from_env[0], "--tag") == [f"{PREFIX}/arkouda-server:1.2.3"]


def test_extra_options_go_to_every_docker_build(sdist: Path) -> None:
    builds = docker_builds(dry_run("--arkouda", str(sdist), "--", "--pull", "--build-arg", "MAKE_JOBS=8"))
    assert all(b[-4:] == ["--pull", "--build-arg", "MAKE_JOBS=8", "."] for b in builds)


def test_tarball_without_directory_entries(tmp_path: Path) -> None:
    bare = _tarball(tmp_path / "bare.tar.gz", [f"{FOLDER}/setup.py", f"{FOLDER}/VERSION"], directory_entries=False)
    (build,) = docker_builds(dry_run("--arkouda", str(bare), "server"))
    assert build_args(build)["ARKOUDA_DIST_FOLDER"] == FOLDER


def test_arkouda_checkout_is_built_into_an_sdist(tmp_path: Path) -> None:
    checkout = tmp_path / "arkouda"
    checkout.mkdir()
    commands = dry_run("--arkouda", str(checkout), "server")
    sdist_build = next(c for c in commands if "--sdist" in c)
    assert sdist_build[1:] == ["-m", "build", "--sdist", "--outdir", "dist/arkouda-sdist", str(checkout)]
    assert ["cp", "dist/arkouda-sdist/*.tar.gz", DIST_TARBALL] in commands


@pytest.mark.parametrize(
    "members",
    [
        [f"{FOLDER}/setup.py", "other-1.0/setup.py"],  # two folders
        [f"{FOLDER}/setup.py", "README.md"],  # a folder and a loose file
        ["setup.py"],  # no folder: nothing for the Dockerfiles to move to /opt/arkouda
    ],
)
def test_a_tarball_that_is_not_an_sdist_is_refused(tmp_path: Path, members: list[str]) -> None:
    bad = _tarball(tmp_path / "bad.tar.gz", members)
    done = run_build("--dry-run", "--arkouda", str(bad))
    assert done.returncode == 2, done.stdout
    assert "must hold exactly one top folder" in done.stderr and members[-1].split("/")[0] in done.stderr
    assert "docker" not in done.stdout


def test_refusals_name_the_problem(tmp_path: Path) -> None:
    unknown = run_build("--dry-run", "webserver")
    assert unknown.returncode == 2 and "unknown image 'webserver'" in unknown.stderr
    missing = run_build("--dry-run", "--arkouda", str(tmp_path / "nothing.tar.gz"), "server")
    assert missing.returncode == 2 and "no such file or directory" in missing.stderr
    bad_option = run_build("--dry-run", "--fast")
    assert bad_option.returncode == 2 and "unknown option --fast" in bad_option.stderr


def test_without_an_engine_nothing_is_built(tmp_path: Path, sdist: Path) -> None:
    """No --dry-run and no answering Docker engine: stop before python -m build or any copy."""
    fake_docker = tmp_path / "docker"
    fake_docker.write_text("#!/bin/sh\necho 'Cannot connect to the Docker daemon' >&2\nexit 1\n")
    fake_docker.chmod(0o755)
    before = _dist_state()
    done = run_build("--arkouda", str(sdist), env={"DOCKER": str(fake_docker)})
    assert done.returncode == 2
    assert "no Docker engine answers here" in done.stderr and "--dry-run" in done.stderr
    assert _dist_state() == before


def test_help() -> None:
    done = run_build("--help")
    assert done.returncode == 0
    assert "--dry-run" in done.stdout and "tar --exclude=" in done.stdout and not done.stdout.startswith("#")


def test_dry_run_output_is_a_valid_shell_script(tmp_path: Path, sdist: Path) -> None:
    done = run_build("--dry-run", "--arkouda", str(sdist))
    script = tmp_path / "build-images.sh"
    script.write_text("#!/bin/bash\nset -euo pipefail\n" + done.stdout)
    syntax = subprocess.run(["bash", "-n", str(script)], capture_output=True, text=True)
    assert syntax.returncode == 0, syntax.stderr
    shellcheck = find_tool("shellcheck")
    require_component("shellcheck", None if shellcheck else "shellcheck is not installed (./setup.sh)")
    assert shellcheck is not None
    checked = subprocess.run([shellcheck, "--norc", str(script)], capture_output=True, text=True)
    assert checked.returncode == 0, checked.stdout


def test_the_products_are_what_the_dockerfiles_copy(sdist: Path) -> None:
    commands = dry_run("--arkouda", str(sdist))
    assert commands[2][-1] == DIST_TARBALL
    wheel_build = commands[3]
    assert option(wheel_build, "--outdir") == ["dist"]
    assert wheel_path() == f"dist/arkouda_k8s-{project_version()}-py3-none-any.whl"  # what `build` names it
