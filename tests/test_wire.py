"""arkouda_k8s.wire against the stand-in in each era, against a hung server and against nothing."""

from __future__ import annotations

import asyncio
import gc
import json
import os
import time
from collections.abc import Callable

import pytest

from arkouda_k8s import wire
from arkouda_k8s.testing.standin.fixtures import StandinProcess, StartStandin, free_port

TOKEN = "wireTestTokenOfThirtyOneCharsxx"


def era(name: str) -> dict[str, str]:
    return {"ARKOUDA_STANDIN_PROTOCOL": name}


async def test_probe_a_2020_server(standin_factory: StartStandin) -> None:
    server = standin_factory(env=era("2020"))
    result = await wire.probe("127.0.0.1", server.port, timeout=5)
    assert result.protocol is wire.Protocol.PLAIN
    assert result.config is not None
    assert result.config["arkoudaVersion"] == "2020.07.07"
    assert result.config["ServerPort"] == server.port
    assert result.elapsed_ms > 0


@pytest.mark.parametrize("name", ["2021", "both"])
async def test_probe_a_2021_server(standin_factory: StartStandin, name: str) -> None:
    server = standin_factory(env=era(name))
    result = await wire.probe("127.0.0.1", server.port, timeout=5)
    assert result.protocol is wire.Protocol.JSON
    assert result.config is not None
    assert result.config["numLocales"] == 1
    assert "regexMaxCaptures" in result.config


async def test_probe_an_authenticating_server(standin_factory: StartStandin) -> None:
    server = standin_factory("--authenticate=true", env={**era("2021"), "ARKOUDA_SERVER_TOKEN": TOKEN})
    with pytest.raises(wire.Rejected) as refused:
        await wire.probe("127.0.0.1", server.port, timeout=5)
    assert refused.value.protocol is wire.Protocol.JSON
    assert "Error: access to arkouda requires a token" in str(refused.value)
    with pytest.raises(wire.Refused) as wrong:
        await wire.probe("127.0.0.1", server.port, timeout=5, token="not-the-token")
    assert "does not match server token" in str(wrong.value)
    assert "not-the-token" not in str(wrong.value)  # the server echoes it; we never repeat a token
    result = await wire.probe("127.0.0.1", server.port, timeout=5, token=TOKEN)
    assert result.config is not None
    assert result.config["authenticate"] is True


def open_fds() -> int:
    return len(os.listdir("/proc/self/fd"))


def wait_for(condition: Callable[[], bool], timeout: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


async def test_probe_nothing_times_out_and_leaks_no_socket() -> None:
    port = free_port()
    with pytest.raises(wire.Timeout):
        await wire.probe("127.0.0.1", port, timeout=0.05)  # the shared context and its threads now exist
    gc.collect()
    baseline = open_fds()
    for _ in range(40):
        with pytest.raises(wire.Timeout) as timed_out:
            await wire.probe("127.0.0.1", port, timeout=0.02)
    assert f"127.0.0.1:{port}" in str(timed_out.value)
    assert isinstance(timed_out.value, TimeoutError)
    gc.collect()
    # ZMQ closes a socket's descriptors on its own thread: give it a moment, then they must all be back.
    assert wait_for(lambda: open_fds() <= baseline), f"{open_fds()} descriptors open, {baseline} before"
    assert not [s for s in wire._shared_context()._sockets if not s.closed]


async def test_a_hung_server_times_out_and_the_socket_is_not_wedged(standin_factory: StartStandin) -> None:
    server = standin_factory(env={"ARKOUDA_STANDIN_FREEZE_AFTER": "0"})
    for _ in range(3):  # a fresh socket each time: a timeout never leaves a wedged REQ socket behind
        with pytest.raises(wire.Timeout):
            await wire.probe("127.0.0.1", server.port, timeout=0.2)
    with pytest.raises(wire.Timeout):
        await wire.request("127.0.0.1", server.port, "noop", protocol=wire.Protocol.PLAIN, timeout=0.2)


async def test_request_in_each_protocol(standin: StandinProcess) -> None:
    port = standin.port
    plain, json_ = wire.Protocol.PLAIN, wire.Protocol.JSON
    assert await wire.request("127.0.0.1", port, "connect", protocol=plain, timeout=5) == (
        f"connected to arkouda server tcp://*:{port}"
    )
    assert await wire.request("127.0.0.1", port, "ruok", protocol=json_, timeout=5) == "imok"
    assert await wire.request("127.0.0.1", port, "noop", protocol="2020", timeout=5) == "noop"  # type: ignore[arg-type]
    with pytest.raises(wire.ServerError, match="Error: unrecognized command: ruok"):
        await wire.request("127.0.0.1", port, "ruok", protocol=plain, timeout=5)
    with pytest.raises(wire.ServerError, match="Unrecognized command: bogus"):
        await wire.request("127.0.0.1", port, "bogus", "x y", protocol=json_, timeout=5)


async def test_the_wrong_protocol_is_a_named_error(standin_factory: StartStandin) -> None:
    old = standin_factory(env=era("2020"))
    with pytest.raises(wire.ProtocolError, match="plain text, not JSON"):
        await wire.request("127.0.0.1", old.port, "ruok", protocol=wire.Protocol.JSON, timeout=5)
    new = standin_factory(env=era("2021"))
    with pytest.raises(wire.ServerError, match="in JSON"):
        await wire.request("127.0.0.1", new.port, "noop", protocol=wire.Protocol.PLAIN, timeout=5)


@pytest.mark.parametrize("name", ["2020", "2021"])
async def test_shutdown_in_the_servers_protocol(standin_factory: StartStandin, name: str) -> None:
    server = standin_factory(env=era(name))
    probe = await wire.probe("127.0.0.1", server.port, timeout=5)
    answer = await wire.shutdown("127.0.0.1", server.port, protocol=probe.protocol, timeout=5)
    assert answer == ("shutdown server (3 req)" if name == "2020" else "shutdown server (2 req)")
    assert await asyncio.to_thread(server.wait) == 0


async def test_shutdown_with_a_token(standin_factory: StartStandin) -> None:
    server = standin_factory("--authenticate=true", env={**era("2021"), "ARKOUDA_SERVER_TOKEN": TOKEN})
    with pytest.raises(wire.Rejected):
        await wire.shutdown("127.0.0.1", server.port, protocol=wire.Protocol.JSON, timeout=5)
    assert await wire.shutdown("127.0.0.1", server.port, protocol=wire.Protocol.JSON, timeout=5, token=TOKEN)
    assert await asyncio.to_thread(server.wait) == 0


def test_the_sync_face_outside_an_event_loop(standin: StandinProcess) -> None:
    assert wire.probe_sync("127.0.0.1", standin.port, timeout=5).protocol is wire.Protocol.JSON
    assert wire.request_sync("127.0.0.1", standin.port, "noop", protocol=wire.Protocol.PLAIN, timeout=5) == "noop"


async def test_the_sync_face_inside_a_running_loop(standin: StandinProcess) -> None:
    # A notebook cell runs inside a loop: the sync face then runs on a helper thread.
    assert wire.probe_sync("127.0.0.1", standin.port, timeout=5).protocol is wire.Protocol.JSON


def test_requests_are_built_as_the_clients_build_them() -> None:
    assert json.loads(wire.json_request("connect", token=None)) == {
        "user": "arkouda-k8s",
        "token": "",
        "cmd": "connect",
        "format": "STRING",
        "args": "",
        "size": -1,
    }
    assert wire.plain_request("shutdown") == "shutdown"  # the 2020 server matches these bytes exactly
    assert wire.plain_request("getconfig", "x") == "getconfig x"
    assert wire.endpoint("::1", 5555) == "tcp://[::1]:5555"
    assert wire.endpoint("127.0.0.1", 5555) == "tcp://127.0.0.1:5555"
    assert wire.parse_json_reply("Error: unrecognized command: {") is None
    assert wire.is_auth_error("Error: token x does not match server token, check with server owner")


def test_importing_the_package_does_not_load_zmq() -> None:
    import subprocess
    import sys

    code = "import arkouda_k8s, sys; print('zmq' in sys.modules, 'arkouda_k8s.wire' in sys.modules)"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True)
    assert done.stdout.split() == ["False", "False"]
