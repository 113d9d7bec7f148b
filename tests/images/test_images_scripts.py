"""The scripts the images run, run here for real (loopback only): the healthcheck, the full-stack
start script, the runtime collector and checker, and the client installer."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tarfile
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
import zmq
from imagekit import IMAGES

from arkouda_k8s.testing.pytest_plugin import require_component

SCRIPTS = IMAGES / "scripts"
HEALTHCHECK = SCRIPTS / "arkouda_healthcheck.py"


class ReplyServer:
    """A ZMQ REP socket on 127.0.0.1 that answers every request with `reply` and keeps what it got."""

    def __init__(self, reply: str) -> None:
        self.context = zmq.Context()
        self.socket = self.context.socket(zmq.REP)
        self.port = self.socket.bind_to_random_port("tcp://127.0.0.1")
        self.reply = reply
        self.requests: list[str] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while not self._stop.is_set():
            if self.socket.poll(50):
                self.requests.append(self.socket.recv_string())
                self.socket.send_string(self.reply)

    def close(self) -> None:
        self._stop.set()
        self._thread.join(5)
        self.socket.close(linger=0)
        self.context.term()


@pytest.fixture
def reply_server() -> Iterator[ReplyServer]:
    server = ReplyServer("Error: unrecognized command: {...}")  # what a 2020 server answers to JSON
    yield server
    server.close()


def free_port() -> int:
    """A port nothing listens on (bound then released; ZMQ connects lazily, so no race matters here)."""
    context = zmq.Context()
    socket = context.socket(zmq.REP)
    port = socket.bind_to_random_port("tcp://127.0.0.1")
    socket.close(linger=0)
    context.term()
    return port


def healthcheck(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    environ = {k: v for k, v in os.environ.items() if k != "EXTERNAL_SERVICE_TARGET_PORT"}
    return subprocess.run(
        [sys.executable, str(HEALTHCHECK), *args],
        capture_output=True,
        text=True,
        env={**environ, **(env or {})},
        timeout=30,
    )


# --- arkouda-healthcheck ---------------------------------------------------------------------------


def test_healthcheck_passes_on_any_reply(reply_server: ReplyServer) -> None:
    done = healthcheck("--port", str(reply_server.port))
    assert done.returncode == 0, done.stderr
    assert f"127.0.0.1:{reply_server.port} answered" in done.stdout
    (request,) = reply_server.requests
    assert json.loads(request)["cmd"] == "getconfig"


def test_healthcheck_fails_when_nothing_answers() -> None:
    port = free_port()
    done = healthcheck("--port", str(port), "--timeout", "0.3")
    assert done.returncode == 1
    assert f"arkouda_server at 127.0.0.1:{port} gave no answer in 0.3 s" in done.stderr


def test_healthcheck_takes_the_port_the_server_is_launched_on(reply_server: ReplyServer) -> None:
    # EXTERNAL_SERVICE_TARGET_PORT, as in arkouda-k8s's settings (ARKOUDA_SERVER_PORT is not read:
    # Kubernetes service links set it to tcp://… when a Service is named arkouda-server).
    env = {"EXTERNAL_SERVICE_TARGET_PORT": str(reply_server.port), "ARKOUDA_SERVER_PORT": "tcp://192.0.2.1:5555"}
    assert healthcheck(env=env).returncode == 0
    env = {"EXTERNAL_SERVICE_TARGET_PORT": str(free_port()), "ARKOUDA_HEALTHCHECK_TIMEOUT": "0.3"}
    assert healthcheck(env=env).returncode == 1


# --- arkouda-full-stack ----------------------------------------------------------------------------

FAKE_ARKOUDA_K8S = """\
import os, signal, sys, time
import zmq

events = open(os.environ["EVENTS"], "a", buffering=1)
events.write("server-start " + " ".join(sys.argv[1:]) + "\\n")
events.write("own-session " + ("yes" if os.getsid(0) == os.getpid() else "no") + "\\n")
mode = os.environ.get("FAKE_SERVER", "serve")
if mode == "crash":
    print("boom: arkouda_server could not start")
    sys.exit(3)

def stop(signum, frame):
    events.write("server-stop\\n")
    sys.exit(0)

signal.signal(signal.SIGTERM, stop)
if mode == "serve":
    socket = zmq.Context().socket(zmq.REP)
    socket.bind("tcp://127.0.0.1:" + os.environ["EXTERNAL_SERVICE_TARGET_PORT"])
    while True:
        if socket.poll(100):
            socket.recv()
            socket.send_string("Error: unrecognized command")
while True:
    time.sleep(0.1)
"""


@pytest.fixture
def stack(tmp_path: Path) -> dict[str, str]:
    """PATH and environment for arkouda-full-stack.sh: a stand-in `arkouda-k8s single`, the real
    healthcheck, a stand-in `ipython`; events are written to a file in order."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    fake = bin_dir / "arkouda-k8s"
    fake.write_text(f"#!{sys.executable}\n{FAKE_ARKOUDA_K8S}")
    check = bin_dir / "arkouda-healthcheck"
    check.write_text(f'#!/bin/sh\nexec "{sys.executable}" "{HEALTHCHECK}" "$@"\n')
    ipython = bin_dir / "ipython"
    ipython.write_text('#!/bin/sh\necho "ipython-ran $*" >>"$EVENTS"\n')
    for program in (fake, check, ipython):
        program.chmod(0o755)
    home = tmp_path / "home"
    home.mkdir()
    return {
        **os.environ,
        "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}",
        "HOME": str(home),
        "EVENTS": str(tmp_path / "events"),
        "EXTERNAL_SERVICE_TARGET_PORT": str(free_port()),
        "ARKOUDA_HEALTHCHECK_TIMEOUT": "0.3",
    }


def full_stack(env: dict[str, str], *command: str) -> subprocess.CompletedProcess[str]:
    require_component("setsid", None if shutil.which("setsid") else "setsid (util-linux) is not installed")
    return subprocess.run(
        ["sh", str(SCRIPTS / "arkouda-full-stack.sh"), *command], capture_output=True, text=True, env=env, timeout=60
    )


def events(env: dict[str, str]) -> list[str]:
    return Path(env["EVENTS"]).read_text().splitlines()


def test_full_stack_starts_waits_runs_and_stops_in_order(stack: dict[str, str]) -> None:
    done = full_stack(stack, "sh", "-c", 'echo "command-ran" >>"$EVENTS"; exit 7')
    assert done.returncode == 7, done.stderr  # the command's status
    assert events(stack) == ["server-start single --no-register", "own-session yes", "command-ran", "server-stop"]
    assert "arkouda_server is ready" in done.stderr
    assert (Path(stack["HOME"]) / "arkouda_server.log").is_file()


def test_full_stack_runs_ipython_by_default(stack: dict[str, str]) -> None:
    done = full_stack(stack)
    assert done.returncode == 0, done.stderr
    assert events(stack)[-2:] == ["ipython-ran ", "server-stop"]


def test_full_stack_reports_a_server_that_dies(stack: dict[str, str]) -> None:
    done = full_stack({**stack, "FAKE_SERVER": "crash"}, "sh", "-c", 'echo "command-ran" >>"$EVENTS"')
    assert done.returncode == 1
    assert "the server exited (status 3) before it answered" in done.stderr
    assert "boom: arkouda_server could not start" in done.stderr  # the end of its log
    assert "command-ran" not in events(stack)


def test_full_stack_gives_up_on_a_silent_server_and_stops_it(stack: dict[str, str]) -> None:
    env = {**stack, "FAKE_SERVER": "silent", "ARKOUDA_START_TIMEOUT": "1"}
    done = full_stack(env, "sh", "-c", 'echo "command-ran" >>"$EVENTS"')
    assert done.returncode == 1
    assert "did not answer within 1 s" in done.stderr
    assert events(stack)[-1] == "server-stop" and "command-ran" not in events(stack)


# --- arkouda-runtime collect / check ---------------------------------------------------------------


@pytest.fixture
def built(tmp_path: Path) -> Path:
    """An arkouda tree as `make` leaves it: arkouda_server (+_real) linked with an absolute rpath to a
    library under dep/*-install/lib, and a Chapel home holding an amudprun."""
    gcc = shutil.which("gcc")
    require_component("gcc", None if gcc else "gcc is not installed")
    assert gcc is not None
    arkouda = tmp_path / "opt" / "arkouda"
    lib = arkouda / "dep" / "zeromq-install" / "lib"
    lib.mkdir(parents=True)
    (tmp_path / "zmq.c").write_text("int zmq_version_major(void) { return 4; }\n")
    (tmp_path / "main.c").write_text(
        "int zmq_version_major(void);\nint main(void) { return zmq_version_major() - 4; }\n"
    )
    subprocess.run(
        [
            gcc,
            "-shared",
            "-fPIC",
            "-Wl,-soname,libzmq.so.5",
            "-o",
            str(lib / "libzmq.so.5.2.5"),
            str(tmp_path / "zmq.c"),
        ],
        check=True,
    )
    (lib / "libzmq.so.5").symlink_to("libzmq.so.5.2.5")
    (lib / "libzmq.so").symlink_to("libzmq.so.5")
    for name in ("arkouda_server", "arkouda_server_real"):
        subprocess.run(
            [gcc, "-o", str(arkouda / name), str(tmp_path / "main.c"), f"-L{lib}", "-lzmq", f"-Wl,-rpath,{lib}"],
            check=True,
        )
    launcher = tmp_path / "chapel" / "third-party" / "gasnet" / "install" / "linux64-udp" / "bin" / "amudprun"
    launcher.parent.mkdir(parents=True)
    shutil.copy(arkouda / "arkouda_server", launcher)
    return tmp_path


def runtime(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["sh", str(SCRIPTS / "arkouda-runtime.sh"), *args], capture_output=True, text=True, env={**os.environ, **env}
    )


def test_runtime_collects_binaries_private_libraries_and_amudprun(built: Path) -> None:
    arkouda, stage = built / "opt" / "arkouda", built / "stage"
    launcher = next((built / "chapel").rglob("amudprun"))
    env = {"CHPL_LAUNCHER": "amudprun", "CHPL_HOME": str(built / "chapel")}
    done = runtime("collect", str(arkouda), str(stage), env=env)
    assert done.returncode == 0, done.stderr
    library = arkouda / "dep" / "zeromq-install" / "lib" / "libzmq.so.5"  # the name the binary loads
    expected = [arkouda / "arkouda_server", arkouda / "arkouda_server_real", library, launcher]
    manifest = stage / "opt" / "arkouda-runtime.files"
    assert manifest.read_text().splitlines() == [str(p) for p in expected]
    for path in expected:  # each at its own absolute path under the stage, a file, not a link
        staged = stage / str(path).lstrip("/")
        assert staged.is_file() and not staged.is_symlink(), staged
    assert not list(stage.rglob("libc.so*")), "system libraries come from the runtime image's packages"
    # check: everything loads ... until the private library is gone
    assert runtime("check", env={"ARKOUDA_RUNTIME_MANIFEST": str(manifest)}).returncode == 0
    (arkouda / "dep" / "zeromq-install" / "lib" / "libzmq.so.5.2.5").unlink()
    failed = runtime("check", env={"ARKOUDA_RUNTIME_MANIFEST": str(manifest)})
    assert failed.returncode == 1
    assert "libzmq.so.5 => not found" in failed.stderr and "RUNTIME_IMAGE" in failed.stderr


def test_runtime_without_a_launcher_copies_no_amudprun(built: Path) -> None:
    env = {"CHPL_LAUNCHER": "smp", "CHPL_HOME": str(built / "chapel")}
    done = runtime("collect", str(built / "opt" / "arkouda"), str(built / "stage"), env=env)
    assert done.returncode == 0, done.stderr
    assert "amudprun" not in (built / "stage" / "opt" / "arkouda-runtime.files").read_text()


def test_runtime_refuses_what_cannot_work(built: Path) -> None:
    no_server = runtime("collect", str(built / "nothing"), str(built / "stage"), env={})
    assert no_server.returncode == 1 and "the arkouda build (make) did not produce it" in no_server.stderr
    shutil.rmtree(built / "chapel" / "third-party")
    env = {"CHPL_LAUNCHER": "amudprun", "CHPL_HOME": str(built / "chapel")}
    no_launcher = runtime("collect", str(built / "opt" / "arkouda"), str(built / "stage"), env=env)
    assert no_launcher.returncode == 1 and "no amudprun under" in no_launcher.stderr
    empty = runtime("check", env={"ARKOUDA_RUNTIME_MANIFEST": str(built / "missing.files")})
    assert empty.returncode == 1 and "COPY --from=build" in empty.stderr


# --- install-arkouda-client.sh ---------------------------------------------------------------------

# An sdist shaped like arkouda 2020.7.7's: setup.py replaces build_py with a hook that builds the
# Chapel server (and fails without Chapel, as the real one does).
SETUP_PY = """\
from setuptools import setup
import installers

setup(
    name="arkouda",
    version="2020.7.7",
    packages=["arkouda"],
    cmdclass={
        "build_py": installers.ArkoudaInstall,
    },
)
"""
INSTALLERS_PY = """\
from setuptools.command.build_py import build_py

class ArkoudaInstall(build_py):
    def run(self):
        raise SystemExit("installers.ArkoudaBuildError: Chapel is not installed, Arkouda cannot be built")
"""
# Stands in for `python3 -m pip install ...`: records the arguments and runs what pip would run for
# the package, `setup.py build_py`, into $TARGET (offline; the hook, if still there, fails it).
FAKE_PYTHON = """\
import json, os, subprocess, sys
args = sys.argv[1:]
with open(os.environ["PIP_ARGS"], "w") as f:
    json.dump(args, f)
source = next(a for a in args if os.path.isdir(a))
command = [sys.executable, "setup.py", "-q", "build_py", "--build-lib", os.environ["TARGET"]]
sys.exit(subprocess.run(command, cwd=source).returncode)
"""


@pytest.fixture
def client_sdist(tmp_path: Path) -> Path:
    source = tmp_path / "src" / "arkouda-2020.7.7"
    (source / "arkouda").mkdir(parents=True)
    (source / "arkouda" / "__init__.py").write_text('__version__ = "2020.7.7"\n')
    (source / "setup.py").write_text(SETUP_PY)
    (source / "installers.py").write_text(INSTALLERS_PY)
    tarball = tmp_path / "arkouda.tar.gz"
    with tarfile.open(tarball, "w:gz") as tar:
        tar.add(source, arcname=source.name)
    return tarball


def install_client(tmp_path: Path, tarball: Path, folder: str) -> subprocess.CompletedProcess[str]:
    python = tmp_path / "python3"
    python.write_text(f"#!{sys.executable}\n{FAKE_PYTHON}")
    python.chmod(0o755)
    env = {**os.environ, "PYTHON": str(python), "PIP_ARGS": str(tmp_path / "pip-args"), "TARGET": str(tmp_path / "t")}
    return subprocess.run(
        ["sh", str(SCRIPTS / "install-arkouda-client.sh"), str(tarball), folder],
        capture_output=True,
        text=True,
        env=env,
    )


def test_install_client_drops_the_chapel_build_hook(tmp_path: Path, client_sdist: Path) -> None:
    # Without the script, the same build fails the way a plain `pip install arkouda==2020.7.7` does.
    plain = subprocess.run(
        [sys.executable, "setup.py", "-q", "build_py", "--build-lib", str(tmp_path / "plain")],
        cwd=tmp_path / "src" / "arkouda-2020.7.7",
        capture_output=True,
        text=True,
    )
    assert plain.returncode != 0 and "Chapel is not installed" in plain.stderr
    done = install_client(tmp_path, client_sdist, "arkouda-2020.7.7/")  # the trailing '/' of tar's listing
    assert done.returncode == 0, done.stdout + done.stderr
    assert (tmp_path / "t" / "arkouda" / "__init__.py").is_file()
    args = json.loads((tmp_path / "pip-args").read_text())
    assert args[:4] == ["-m", "pip", "install", "--no-cache-dir"]
    assert args[-1] == "setuptools<82"  # the 2020 client imports pkg_resources


def test_install_client_names_a_wrong_folder(tmp_path: Path, client_sdist: Path) -> None:
    done = install_client(tmp_path, client_sdist, "arkouda-2099.1.1")
    assert done.returncode == 1
    assert "has no top folder 'arkouda-2099.1.1'" in done.stderr and "arkouda-2020.7.7" in done.stderr
    empty = install_client(tmp_path, client_sdist, "")
    assert empty.returncode == 2 and "ARKOUDA_DIST_FOLDER" in empty.stderr
