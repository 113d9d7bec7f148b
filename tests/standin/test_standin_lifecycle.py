"""How the stand-in starts and ends: signals, the test knobs, the connection-info file, binding."""

from __future__ import annotations

import signal
from pathlib import Path

import pytest
import zmq
from standinkit import exchange, killed_by, shell_status, wait_for_file

from arkouda_k8s import wire
from arkouda_k8s.testing.standin.fixtures import StartStandin, free_port


def test_sigterm_kills_it_as_a_real_process_dies_of_it(standin_factory: StartStandin, tmp_path: Path) -> None:
    info = tmp_path / "info"
    server = standin_factory(env={"ARKOUDA_SERVER_CONNECTION_INFO": str(info)})
    wait_for_file(info)
    server.signal(signal.SIGTERM)
    code = server.wait()
    assert killed_by(code, signal.SIGTERM)
    assert shell_status(code) == 143
    assert info.exists()  # only `shutdown` removes it; a stale file survives a kill, as with the real server


def test_sigint_too(standin_factory: StartStandin) -> None:
    server = standin_factory()
    server.signal(signal.SIGINT)
    assert shell_status(server.wait()) == 130


def test_bind_delay_binds_only_after_the_delay(standin_factory: StartStandin) -> None:
    server = standin_factory(env={"ARKOUDA_STANDIN_BIND_DELAY": "4"}, wait=False)
    with pytest.raises(wire.Timeout):
        wire.probe_sync("127.0.0.1", server.port, timeout=0.3)  # the delay has 4 s to run: nothing listens yet
    assert not any("server listening" in line for line in server.stdout_lines)
    server.wait_for_line("server listening on")
    assert wire.probe_sync("127.0.0.1", server.port, timeout=5).protocol is wire.Protocol.JSON


@pytest.mark.parametrize(("name", "sig"), [(None, signal.SIGSEGV), ("KILL", signal.SIGKILL), ("ABRT", signal.SIGABRT)])
def test_crash_after_dies_without_cleaning_up(
    standin_factory: StartStandin, tmp_path: Path, name: str | None, sig: signal.Signals
) -> None:
    info = tmp_path / "info"
    env = {"ARKOUDA_STANDIN_CRASH_AFTER": "0.5", "ARKOUDA_SERVER_CONNECTION_INFO": str(info)}
    if name:
        env["ARKOUDA_STANDIN_CRASH_SIGNAL"] = name
    server = standin_factory(env=env, cwd=tmp_path)
    assert killed_by(server.wait(), sig)
    assert info.exists()
    assert not list(tmp_path.glob("core*"))  # no core file left by the test


def test_freeze_after_stops_answering_but_keeps_running(standin_factory: StartStandin) -> None:
    server = standin_factory(env={"ARKOUDA_STANDIN_FREEZE_AFTER": "0"})
    with pytest.raises(wire.Timeout):
        wire.probe_sync("127.0.0.1", server.port, timeout=0.5)
    assert server.returncode is None
    server.signal(signal.SIGTERM)
    assert killed_by(server.wait(), signal.SIGTERM)


def test_a_port_in_use_is_an_error_naming_it(standin_factory: StartStandin) -> None:
    first = standin_factory()
    second = standin_factory(f"--ServerPort={first.port}", wait=False)
    assert second.wait() == 1
    assert second.stderr_lines == [
        f"arkouda_server: error: cannot listen on tcp://127.0.0.1:{first.port}: Address already in use"
    ]


def test_it_listens_on_loopback_only_and_on_the_addresses_it_is_given(standin_factory: StartStandin) -> None:
    server = standin_factory(env={"ARKOUDA_STANDIN_BIND": "127.0.0.77", "GASNET_MASTERIP": "127.0.0.78"})
    for address in ("127.0.0.1", "127.0.0.77", "127.0.0.78"):
        assert exchange(server.port, "noop", host=address) == "noop"
    with pytest.raises(zmq.Again):
        exchange(server.port, "noop", host="127.0.0.79", timeout=0.3)  # a loopback address it was not given


def test_the_hostname_knob_names_the_server_everywhere(standin_factory: StartStandin, tmp_path: Path) -> None:
    info = tmp_path / "info"
    server = standin_factory(
        env={"ARKOUDA_STANDIN_HOSTNAME": "arkouda-server-0", "ARKOUDA_SERVER_CONNECTION_INFO": str(info)}
    )
    assert server.wait_for_line("server listening on") == f"server listening on arkouda-server-0:{server.port}"
    wait_for_file(info)
    assert info.read_text() == f"arkouda-server-0 {server.port}\n"
    config = wire.probe_sync("127.0.0.1", server.port, timeout=5).config
    assert config is not None
    assert config["serverHostname"] == config["LocaleConfigs"][0]["name"] == "arkouda-server-0"


def test_free_port_gives_a_port_nothing_listens_on() -> None:
    port = free_port()
    assert 1024 <= port <= 65535
