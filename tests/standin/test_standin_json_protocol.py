"""The 2021+ JSON protocol, written with pyzmq: the modern replies and the authentication errors
(texts of arkouda_server.chpl, arkouda-seed.md §4.2), in `2021` and in `both` mode."""

from __future__ import annotations

import json
import re

import pytest
from standinkit import exchange, json_exchange, json_request

from arkouda_k8s.testing.standin.fixtures import StandinProcess, StartStandin

TOKEN = "s3cretTokenOfThirtyOneCharacter"


def record(msg: str, msg_type: str = "NORMAL", user: str = "u") -> str:
    """A reply exactly as Chapel's %jt lays out the ReplyMsg record."""
    return f'{{"msg":{json.dumps(msg)}, "msgType":"{msg_type}", "msgFormat":"STRING", "user":"{user}"}}'


@pytest.fixture(params=["2021", "both"])
def json_server(request: pytest.FixtureRequest, standin_factory: StartStandin) -> StandinProcess:
    return standin_factory(env={"ARKOUDA_STANDIN_PROTOCOL": request.param})


def test_modern_replies_word_for_word(json_server: StandinProcess) -> None:
    port = json_server.port
    assert exchange(port, json_request("connect")) == record(f"connected to arkouda server tcp://*:{port}")
    assert exchange(port, json_request("ruok")) == record("imok")
    assert exchange(port, json_request("noop", user="alice")) == record("noop", user="alice")
    assert exchange(port, json_request("bogus")) == record("Unrecognized command: bogus", "ERROR")
    assert exchange(port, json_request("disconnect")) == record(f"disconnected from arkouda server tcp://*:{port}")
    assert int(json_exchange(port, "getmemused")["msg"]) > 0
    assert exchange(port, json_request("shutdown")) == record("shutdown server (7 req)")
    assert json_server.wait() == 0


def test_getconfig_holds_what_2021_clients_need(json_server: StandinProcess) -> None:
    reply = json_exchange(json_server.port, "getconfig")
    assert reply["msgType"] == "NORMAL"
    config = json.loads(reply["msg"])
    assert config["ServerPort"] == json_server.port
    assert config["numLocales"] == len(config["LocaleConfigs"]) == 1
    assert config["authenticate"] is False
    assert config["logLevel"] == "INFO"
    assert isinstance(config["regexMaxCaptures"], int)  # the 2021+ client reads it
    assert config["arkoudaVersion"] == "2021.07.29"


def test_both_mode_answers_each_request_in_its_own_protocol(standin: StandinProcess) -> None:
    assert exchange(standin.port, "ruok") == "Error: unrecognized command: ruok"
    assert exchange(standin.port, json_request("ruok")) == record("imok")
    assert exchange(standin.port, "noop") == "noop"


def test_2021_mode_refuses_a_plain_request_in_json(standin_factory: StartStandin) -> None:
    server = standin_factory(env={"ARKOUDA_STANDIN_PROTOCOL": "2021"})
    reply = json.loads(exchange(server.port, "connect"))
    assert reply["msgType"] == "ERROR"
    assert reply["user"] == ""


def test_the_2021_banner_is_the_boxed_splash(standin_factory: StartStandin) -> None:
    server = standin_factory(env={"ARKOUDA_STANDIN_PROTOCOL": "2021", "ARKOUDA_STANDIN_HOSTNAME": "vm"})
    centre = server.wait_for_line("server listening on")
    assert re.fullmatch(rf"\* +server listening on tcp://vm:{server.port} +\*", centre)
    box = server.stdout_lines[: server.stdout_lines.index(centre) + 6]
    assert box[:2] == ["", ""]
    assert box[2] == box[3] == "*" * len(centre)
    assert all(len(line) == len(centre) and line[0] == line[-1] == "*" for line in box[2:])
    assert any("arkouda server version = 2021.07.29" in line for line in box)


@pytest.mark.parametrize("era", ["2021", "both"])
def test_authentication_errors_word_for_word(standin_factory: StartStandin, era: str) -> None:
    server = standin_factory(
        "--authenticate=true", env={"ARKOUDA_STANDIN_PROTOCOL": era, "ARKOUDA_SERVER_TOKEN": TOKEN}
    )
    port = server.port
    assert server.wait_for_line("server listening on").strip(" *").endswith(f":{port}?token={TOKEN}")
    assert exchange(port, json_request("connect")) == record("Error: access to arkouda requires a token", "ERROR")
    assert exchange(port, json_request("connect", token=None)) == record(
        "Error: access to arkouda requires a token", "ERROR"
    )
    assert exchange(port, json_request("connect", token="nope")) == record(
        "Error: token nope does not match server token, check with server owner", "ERROR"
    )
    assert exchange(port, json_request("connect", token=TOKEN)) == record(
        f"connected to arkouda server tcp://*:{port} as user u with token {TOKEN}"
    )
    # shutdown needs the token too
    assert json_exchange(port, "shutdown", token="nope")["msgType"] == "ERROR"
    assert server.returncode is None
    assert json.loads(json_exchange(port, "getconfig", token=TOKEN)["msg"])["authenticate"] is True
    assert json_exchange(port, "shutdown", token=TOKEN)["msg"].startswith("shutdown server (")
    assert server.wait() == 0


def test_a_plain_request_cannot_carry_a_token_so_both_mode_refuses_it(standin_factory: StartStandin) -> None:
    server = standin_factory("--authenticate=true", env={"ARKOUDA_SERVER_TOKEN": TOKEN})
    assert exchange(server.port, "connect") == "Error: access to arkouda requires a token"
    assert exchange(server.port, "shutdown") == "Error: access to arkouda requires a token"
    assert server.returncode is None


def test_a_generated_token_is_shown_in_the_banner_and_works(standin_factory: StartStandin) -> None:
    env = {"ARKOUDA_STANDIN_PROTOCOL": "2021", "ARKOUDA_SERVER_TOKEN": ""}
    server = standin_factory("--authenticate=true", env=env)
    found = re.search(r"\?token=([A-Za-z0-9]+)", server.wait_for_line("server listening on"))
    assert found is not None
    token = found.group(1)
    assert len(token) == 31
    config = json.loads(json_exchange(server.port, "getconfig", token=token)["msg"])
    assert config["authenticate"] is True


def test_the_2020_era_ignores_authenticate_as_that_server_had_none(standin_factory: StartStandin) -> None:
    server = standin_factory(
        "--authenticate=true", env={"ARKOUDA_STANDIN_PROTOCOL": "2020", "ARKOUDA_STANDIN_HOSTNAME": "vm"}
    )
    assert server.wait_for_line("server listening on") == f"server listening on vm:{server.port}"
    assert exchange(server.port, "connect") == f"connected to arkouda server tcp://*:{server.port}"


def test_the_metrics_daemon_answers_connect(standin_factory: StartStandin) -> None:
    from arkouda_k8s.testing.standin.fixtures import free_port

    metrics = free_port()
    server = standin_factory(
        "--ServerDaemon.daemonTypes=ServerDaemonType.DEFAULT,ServerDaemonType.METRICS",
        env={"METRICS_SERVER_PORT": str(metrics)},
    )
    assert exchange(metrics, json_request("connect")) == record(
        f"connected to arkouda metrics server tcp://*:{metrics}"
    )
    assert exchange(server.port, "noop") == "noop"
