"""Conformance: the stand-in in 2020 mode answers what a real 2020.7.7 arkouda_server answered.

The golden file (golden/server-2020.json) holds the exact exchanges of a real server; the same
requests, in the same order, each on a fresh REQ socket, must get the same replies — hostname,
port, memory figures, physicalMemory and the core counts aside.
"""

from __future__ import annotations

import re
from pathlib import Path

from standinkit import GOLDEN, exchange, normalise, normalise_log, wait_for_file

from arkouda_k8s.testing.standin.fixtures import StartStandin

ERA_2020 = {"ARKOUDA_STANDIN_PROTOCOL": "2020", "ARKOUDA_STANDIN_HOSTNAME": "vm"}


def _golden_port() -> str:
    connect = GOLDEN["exchanges"][0]
    assert connect["request"] == "connect"
    return str(connect["reply"].rsplit(":", 1)[1])


def test_every_golden_exchange_gets_the_recorded_reply(standin_factory: StartStandin, tmp_path: Path) -> None:
    info = tmp_path / "connection-info"
    server = standin_factory(env={**ERA_2020, "ARKOUDA_SERVER_CONNECTION_INFO": str(info)})
    golden_port = _golden_port()
    wait_for_file(info)  # written right after the banner, as the real server does
    assert info.read_text() == GOLDEN["connection_info_file"].replace(golden_port, str(server.port))
    for recorded in GOLDEN["exchanges"]:
        reply = exchange(server.port, recorded["request"])
        assert normalise(reply, port=server.port) == normalise(recorded["reply"], port=golden_port), recorded
    # "shutdown" came last: the real server exited 0 and removed the connection-info file.
    assert server.wait() == GOLDEN["after_shutdown"]["exit"] == 0
    assert info.exists() is GOLDEN["after_shutdown"]["connection_info_file_exists"] is False


def test_the_request_log_on_stdout_is_the_real_one(standin_factory: StartStandin) -> None:
    server = standin_factory(env=ERA_2020)
    for recorded in GOLDEN["exchanges"]:
        exchange(server.port, recorded["request"])
    assert server.wait() == 0
    # The recorded tail starts in the middle of a line: compare from its first whole line on.
    expected = [normalise_log(line) for line in GOLDEN["after_shutdown"]["stdout_tail"].splitlines()[1:]]
    got = [normalise_log(line) for line in server.stdout_lines[-len(expected) :]]
    assert got == expected


def test_the_banner_is_the_real_one(standin_factory: StartStandin) -> None:
    server = standin_factory(env=ERA_2020)
    golden_port = _golden_port()
    banner = server.stdout_lines[: len(GOLDEN["banner"])]

    def hide(line: str, port: str) -> str:
        return re.sub(r"= \d+$", "= <int>", line).replace(f":{port}", ":<port>")

    assert [hide(line, str(server.port)) for line in banner] == [hide(line, golden_port) for line in GOLDEN["banner"]]
    assert banner[-1] == f"server listening on vm:{server.port}"  # no tcp:// in this era
    assert server.stderr_lines == []


def test_an_unknown_flag_is_reported_as_chapel_does(standin_factory: StartStandin) -> None:
    recorded = GOLDEN["unknown_flag"]
    server = standin_factory(*recorded["args"], env=ERA_2020, wait=False)
    assert server.wait() == recorded["exit"] == 1
    assert server.stdout + "\n" == recorded["stdout"] + "\n"
    assert server.stderr + "\n" == recorded["stderr"]
