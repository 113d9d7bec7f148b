"""The Dockerfiles of images/, checked as text: no Docker engine runs here, so these checks stand
between a typo and an image that fails to build or to start (what they cannot see: images/README.md)."""

from __future__ import annotations

import fnmatch
import re

import pytest
from imagekit import (
    DIST_TARBALL,
    DOCKER_EXPANDED,
    IMAGE_NAMES,
    IMAGES,
    PREFIX,
    ROOT,
    Dockerfile,
    console_scripts,
    copy_parts,
    dockerignore_allows,
    dockerignore_patterns,
    exec_form,
    load,
    project_version,
    substitute,
    variables,
    wheel_path,
)

from arkouda_k8s.cli import build_parser

# Programs an ENTRYPOINT/CMD may name besides pyproject's console scripts and the scripts the image
# installs itself: tini (PID 1), shells, and what the images install with apt or pip.
SYSTEM_TOOLS = {"tini", "sh", "bash", "python", "python3", "ipython", "jupyter"}
# The test bed's fake arkouda_server: installed with the wheel, deleted at once, never run by an image.
STANDIN = "arkouda-server-standin"
# Variables RUN lines may read that no ARG or ENV of ours sets (the shell's own).
SHELL_VARIABLES = {"HOME", "PATH"}
# Build args that must be given (no default): the top folder of the arkouda tarball.
REQUIRED_ARGS = {"ARKOUDA_DIST_FOLDER"}

EXPOSED = {
    "server": {"5555", "5556"},
    "client": {"8888"},
    "full-stack": {"8888"},  # plus the server image's 5555 and 5556
    "udp-base": {"2222", "5000-65000/udp"},
    "udp-server": {"5555", "5556", "2222", "5000-65000/udp"},
}
# Where a HEALTHCHECK means something: an image whose process is arkouda_server. Not the udp images:
# their locale pods run sshd alone.
HEALTHCHECKED = {"server", "full-stack"}


def _params() -> list[str]:
    return list(IMAGE_NAMES)


def _shell_locals(run: str) -> set[str]:
    """Variables a RUN line assigns itself (`name=...`, `for name in`)."""
    assigned = set(re.findall(r"(?:^|[\s;&|(])([A-Za-z_][A-Za-z0-9_]*)=", run))
    return assigned | set(re.findall(r"\bfor\s+([A-Za-z_][A-Za-z0-9_]*)\s+in\b", run))


def test_images_folder_holds_exactly_the_known_images() -> None:
    found = {p.parent.name for p in IMAGES.glob("*/Dockerfile")}
    assert found == set(IMAGE_NAMES)
    for image in IMAGE_NAMES:
        assert (IMAGES / image / "Dockerfile.dockerignore").is_file(), f"images/{image} has no Dockerfile.dockerignore"


@pytest.mark.parametrize("image", _params())
def test_every_variable_used_is_declared(image: str) -> None:
    dockerfile = load(image)
    missing: list[str] = []
    for stage in dockerfile.stages:
        unknown = variables(stage.base) - set(dockerfile.global_args)
        missing += [f"{dockerfile.path.relative_to(ROOT)} FROM {stage.base}: ${name}" for name in sorted(unknown)]
        args: set[str] = set()
        env: set[str] = set()
        for instruction in stage.instructions:
            if instruction.name == "ARG":
                args.add(instruction.value.partition("=")[0])
            known = args | env
            command = instruction.value
            if instruction.name == "HEALTHCHECK":
                command = command.split(" CMD ", 1)[-1]
            form = exec_form(command) if instruction.name in {"CMD", "ENTRYPOINT", "HEALTHCHECK"} else None
            if instruction.name in DOCKER_EXPANDED:
                unknown = variables(instruction.value) - known
            elif form is not None:  # exec form: nothing expands $NAME, so it must not appear
                unknown = set()
                if "$" in "".join(form):
                    missing.append(f"{instruction.where(dockerfile)}: $ in exec form is never expanded")
            else:  # RUN, or a shell-form command: the shell expands ARG and ENV values at run time
                unknown = variables(command) - known - SHELL_VARIABLES - _shell_locals(command)
            missing += [f"{instruction.where(dockerfile)}: ${name} is not declared" for name in sorted(unknown)]
            if instruction.name == "ENV":
                env |= set(stage.env())
    assert not missing, "\n".join(missing)


@pytest.mark.parametrize("image", _params())
def test_every_arg_declared_is_used(image: str) -> None:
    dockerfile = load(image)
    used_in_from = set().union(*(variables(s.base) for s in dockerfile.stages))
    redeclared = set().union(*(set(s.args) for s in dockerfile.stages))
    unused = [f"global ARG {a}" for a in dockerfile.global_args if a not in used_in_from | redeclared]
    for stage in dockerfile.stages:
        text = " ".join(i.value for i in stage.instructions if i.name != "ARG")
        unused += [f"ARG {a} (stage {stage.index})" for a in stage.args if a not in variables(text)]
    assert not unused, f"{dockerfile.path.relative_to(ROOT)}: declared, never used: {unused}"


@pytest.mark.parametrize("image", _params())
def test_args_without_default_are_the_required_ones(image: str) -> None:
    dockerfile = load(image)
    for stage in dockerfile.stages:
        no_default = {name for name, default in stage.args.items() if default is None}
        assert no_default <= REQUIRED_ARGS, f"{dockerfile.path.relative_to(ROOT)}: ARG without default: {no_default}"
        # A missing one fails the build at once with a message naming it: a `test -n` in the RUN, or
        # install-arkouda-client.sh, which refuses an empty folder.
        runs = " ".join(i.value for i in stage.all("RUN"))
        for name in no_default:
            checked = (
                f'test -n "${{{name}}}"' in runs
                or f'install-arkouda-client.sh /tmp/arkouda.tar.gz "${{{name}}}"' in runs
            )
            assert checked, f"{dockerfile.path.relative_to(ROOT)} never checks that {name} was given"
    script = (IMAGES / "scripts" / "install-arkouda-client.sh").read_text(encoding="utf-8")
    assert '[ -n "$folder" ] ||' in script


@pytest.mark.parametrize("image", _params())
def test_base_images_are_pinned(image: str) -> None:
    dockerfile = load(image)
    for stage in dockerfile.stages:
        base = dockerfile.base_image(stage)
        if dockerfile.stage_named(base) is not None:
            continue
        name, _, tag = base.rpartition("/")[2].partition(":")
        assert "@sha256:" in base or tag, f"{dockerfile.path.relative_to(ROOT)}: FROM {base} has no tag"
        assert tag != "latest", f"{dockerfile.path.relative_to(ROOT)}: FROM {base} floats"
        if base.startswith(PREFIX + "/"):
            assert tag == project_version(), f"{base}: our own images are tagged with this repository's version"
    for name, default in dockerfile.global_args.items():
        if name.endswith("_IMAGE"):
            assert default and ":" in default.rpartition("/")[2], f"ARG {name}={default} has no pinned tag"


@pytest.mark.parametrize("image", _params())
def test_final_stage_runs_as_uid_1000(image: str) -> None:
    dockerfile = load(image)
    final = dockerfile.final
    user = final.last("USER")
    assert user is not None, f"{dockerfile.path.relative_to(ROOT)}: the final stage sets no USER"
    assert user.value == "1000:1000", f"{user.where(dockerfile)}: {user.value} (numeric, so runAsNonRoot can check)"
    entrypoint = final.last("ENTRYPOINT")
    if entrypoint is not None:
        assert final.instructions.index(user) < final.instructions.index(entrypoint), "USER after ENTRYPOINT"
    runs = " ".join(i.value for d in dockerfile.chain() for i in d.final.all("RUN"))
    assert "useradd --uid 1000 --gid 1000 --create-home" in runs, "no user with uid 1000 in the image"
    assert "install -d -m 0700 -o 1000 -g 1000 /home/arkouda/.ssh" in runs, "no writable ~/.ssh"


def _program_and_arguments(dockerfile: Dockerfile) -> tuple[str, list[str]]:
    """The program PID 1 (tini) starts and its arguments: ENTRYPOINT after tini's `--`, then CMD."""
    entrypoint = dockerfile.effective("ENTRYPOINT")
    cmd = dockerfile.effective("CMD")
    assert entrypoint is not None and cmd is not None, f"{dockerfile.image}: no ENTRYPOINT or no CMD"
    entry_words, cmd_words = exec_form(entrypoint.value), exec_form(cmd.value)
    assert entry_words is not None and cmd_words is not None, f"{dockerfile.image}: ENTRYPOINT/CMD not in exec form"
    assert entry_words[0] == "tini" and "--" in entry_words, f"{dockerfile.image}: PID 1 must be tini (signals)"
    words = entry_words[entry_words.index("--") + 1 :] + cmd_words
    assert words, f"{dockerfile.image}: nothing to run"
    return words[0], words[1:]


@pytest.mark.parametrize("image", _params())
def test_entrypoint_and_cmd_name_known_programs(image: str) -> None:
    dockerfile = load(image)
    program, arguments = _program_and_arguments(dockerfile)
    scripts = dockerfile.installed_scripts()
    known = (console_scripts() - {STANDIN}) | SYSTEM_TOOLS | set(scripts)
    assert program in known, f"{dockerfile.image}: runs {program!r}, which is none of {sorted(known)}"
    if program in scripts:
        assert scripts[program].is_file(), f"{dockerfile.image}: {program} comes from missing {scripts[program]}"
    if program == "arkouda-k8s":
        # The subcommand and flags must be ones `arkouda-k8s` accepts (argparse exits 2 otherwise).
        parsed = build_parser().parse_args(arguments)
        assert parsed.command in {"single", "server", "locale"}, f"{dockerfile.image}: arkouda-k8s {arguments}"


def test_server_images_run_the_expected_subcommands() -> None:
    assert _program_and_arguments(load("server")) == ("arkouda-k8s", ["single", "--no-register"])
    assert _program_and_arguments(load("udp-server")) == ("arkouda-k8s", ["server"])
    assert _program_and_arguments(load("full-stack")) == ("arkouda-full-stack", ["ipython"])
    assert _program_and_arguments(load("client")) == ("ipython", [])
    # The charts run the udp image as `locale` too: the same ENTRYPOINT must accept it.
    assert build_parser().parse_args(["locale"]).command == "locale"


@pytest.mark.parametrize("image", _params())
def test_healthcheck_where_it_means_something(image: str) -> None:
    dockerfile = load(image)
    healthcheck = dockerfile.effective("HEALTHCHECK")
    if image not in HEALTHCHECKED:
        assert healthcheck is None, f"{dockerfile.image}: a HEALTHCHECK here would fail on locale pods or mean nothing"
        return
    assert healthcheck is not None, f"{dockerfile.image}: runs arkouda_server and has no HEALTHCHECK"
    form = exec_form(healthcheck.value.split(" CMD ", 1)[1])
    assert form is not None, "HEALTHCHECK CMD in exec form"
    assert form[0] in dockerfile.installed_scripts(), f"HEALTHCHECK runs {form[0]}, which the image does not install"
    assert "--start-period=" in healthcheck.value, "arkouda_server takes a while to start: give it a start period"


@pytest.mark.parametrize("image", _params())
def test_copy_sources_exist_and_reach_the_build(image: str) -> None:
    dockerfile = load(image)
    products = {DIST_TARBALL, wheel_path()}
    used: list[str] = []
    for stage in dockerfile.stages:
        for instruction in stage.all("COPY") + stage.all("ADD"):
            flags, sources, _dest = copy_parts(instruction.value)
            if "from" in flags:
                source_stage = dockerfile.stage_named(flags["from"])
                assert source_stage is not None and source_stage.index < stage.index, (
                    f"{instruction.where(dockerfile)}: --from={flags['from']} is no earlier stage"
                )
                continue
            for source in sources:
                path = substitute(source, {**stage.args, **stage.env()})
                used.append(path)
                assert (ROOT / path).exists() or path in products, (
                    f"{instruction.where(dockerfile)}: {path} is neither in the repository nor made by images/build.sh"
                )
                assert dockerignore_allows(image, path), f"images/{image}/Dockerfile.dockerignore keeps out {path}"
    # ...and the ignore file lets nothing else through (the context is the whole repository).
    for pattern in dockerignore_patterns(image):
        if pattern.startswith("!"):
            assert any(dockerignore_allows(image, p) and _matches(pattern[1:], p) for p in used), (
                f"images/{image}/Dockerfile.dockerignore lets {pattern[1:]} through, which no COPY uses"
            )
        else:
            assert pattern == "*", f"images/{image}/Dockerfile.dockerignore: start from '*' and re-include"


def _matches(pattern: str, path: str) -> bool:
    return fnmatch.fnmatchcase(path, pattern)


@pytest.mark.parametrize("image", _params())
def test_installed_scripts_are_executable(image: str) -> None:
    for name, source in load(image).installed_scripts().items():
        assert source.stat().st_mode & 0o111, f"{source} becomes /usr/local/bin/{name}: it must be executable in git"


@pytest.mark.parametrize("image", _params())
def test_arkouda_k8s_installed_is_this_version(image: str) -> None:
    dockerfile = load(image)
    declared = [s.args["ARKOUDA_K8S_VERSION"] for s in dockerfile.stages if "ARKOUDA_K8S_VERSION" in s.args]
    assert declared == [project_version()] * len(declared), f"{dockerfile.image}: ARKOUDA_K8S_VERSION {declared}"
    installs = [i for s in dockerfile.stages for i in s.all("RUN") if "arkouda_k8s-" in i.value]
    for run in installs:
        assert "pip install" in run.value and "${ARKOUDA_K8S_VERSION}-py3-none-any.whl" in run.value
        # the build fails when the wheel holds another version
        assert 'test "$(arkouda-k8s version)" = "arkouda-k8s ${ARKOUDA_K8S_VERSION}"' in run.value
        assert f"/usr/local/bin/{STANDIN}" in run.value and run.value.index("rm ") < run.value.index(STANDIN)
    if image == "udp-base":  # Chapel and sshd only; arkouda-k8s comes with udp-server
        assert not installs
    elif image == "full-stack":  # inherits the server image's, tagged with this version
        assert dockerfile.parent_image() == "server" and dockerfile.base_image(dockerfile.final).endswith(
            ":" + project_version()
        )
    else:
        assert len(installs) == 1, f"{dockerfile.image}: installs arkouda-k8s {len(installs)} times"


@pytest.mark.parametrize("image", _params())
def test_standin_is_never_run(image: str) -> None:
    dockerfile = load(image)
    for stage in dockerfile.stages:
        for instruction in stage.instructions:
            if STANDIN in instruction.value:
                assert instruction.name == "RUN" and re.search(rf"\brm\b[^&]*{STANDIN}", instruction.value), (
                    f"{instruction.where(dockerfile)} mentions {STANDIN} other than to delete it"
                )


@pytest.mark.parametrize("image", _params())
def test_exposed_ports(image: str) -> None:
    exposed = {p for i in load(image).final.all("EXPOSE") for p in i.value.split()}
    assert exposed == EXPOSED[image]


def test_no_run_export() -> None:
    """The seed's `RUN export CHPL_GASNET_MORE_CFG_OPTIONS=...` changed nothing: a RUN's environment ends with it."""
    for image in IMAGE_NAMES:
        dockerfile = load(image)
        for stage in dockerfile.stages:
            for run in stage.all("RUN"):
                assert not re.search(r"(^|&&|;)\s*export\s", run.value), f"{run.where(dockerfile)}: export in a RUN"


def test_smp_server_uses_sysv_shared_memory() -> None:
    build = load("server").stage_named("build")
    assert build is not None
    assert build.env()["CHPL_GASNET_MORE_CFG_OPTIONS"] == "--disable-pshm-posix --enable-pshm-sysv"
    assert load("server").base_image(build).startswith("chapel/chapel-gasnet-smp:")


def test_udp_base_is_chapel_for_gasnet_udp_with_sshd() -> None:
    dockerfile = load("udp-base")
    env = dockerfile.final.env()
    assert (env["CHPL_COMM"], env["CHPL_COMM_SUBSTRATE"], env["CHPL_LAUNCHER"]) == ("gasnet", "udp", "amudprun")
    runs = " ".join(i.value for i in dockerfile.final.all("RUN"))
    assert "openssh-server" in runs and "rm -f /etc/ssh/ssh_host_*" in runs, "sshd without baked host keys"
    assert dockerfile.base_image(dockerfile.final).startswith("chapel/chapel:")


@pytest.mark.parametrize("image", ["server", "udp-server"])
def test_servers_build_in_a_stage_and_keep_only_the_runtime(image: str) -> None:
    dockerfile = load(image)
    build = dockerfile.stage_named("build")
    assert build is not None and dockerfile.final is not build
    runs = " ".join(i.value for i in build.all("RUN"))
    assert 'mv "/opt/${ARKOUDA_DIST_FOLDER%/}" /opt/arkouda' in runs
    assert "make -C /opt/arkouda install-deps" in runs and "arkouda-runtime collect /opt/arkouda /stage" in runs
    assert any(copy_parts(i.value)[1] == [DIST_TARBALL] for i in build.all("ADD")), "ADD dist/arkouda.tar.gz"
    final_runs = [i.value for i in dockerfile.final.all("RUN")]
    assert "arkouda-runtime check" in final_runs, "the runtime stage must check that arkouda_server loads"
    assert dockerfile.final.env()["ARKOUDA_SERVER_PATH"] == "/opt/arkouda/arkouda_server"
    if image == "udp-server":
        assert dockerfile.base_image(build) == f"{PREFIX}/arkouda-udp-base:{project_version()}"


def test_client_images_install_the_client_from_the_same_tarball() -> None:
    for image in ("client", "full-stack"):
        runs = " ".join(i.value for i in load(image).final.all("RUN"))
        assert 'install-arkouda-client.sh /tmp/arkouda.tar.gz "${ARKOUDA_DIST_FOLDER}"' in runs
        assert "ipython==" in runs and "jupyterlab==" in runs
        # the build fails unless both clients import and arkouda_k8s.connect loads (resolver, kubernetes_asyncio)
        assert 'python -c "import arkouda, arkouda_k8s; arkouda_k8s.connect"' in runs


def test_readme_documents_every_image_and_build_arg() -> None:
    readme = (IMAGES / "README.md").read_text(encoding="utf-8")
    for seed_line in (
        "docker run -it --rm -p 5555:5555",
        "docker run -it --rm --network=host",
        "arkouda-full-stack",
        "images/build.sh --dry-run",
        "tar --exclude=",
    ):
        assert seed_line in readme, f"images/README.md does not show {seed_line!r}"
    for image in IMAGE_NAMES:
        dockerfile = load(image)
        assert f"arkouda-{image}" in readme
        names = set(dockerfile.global_args) | {a for s in dockerfile.stages for a in s.args}
        for name in names:
            assert name in readme, f"images/README.md does not explain build arg {name} (images/{image})"
