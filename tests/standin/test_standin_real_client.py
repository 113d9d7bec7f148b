"""The real arkouda 2020.7.7 client against the stand-in: nothing in arkouda is mocked.

The client keeps one global socket per process, so each scenario runs it in a subprocess.
"""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from typing import Any

import pytest

from arkouda_k8s.testing.pytest_plugin import require_component
from arkouda_k8s.testing.standin.fixtures import StandinProcess, StartStandin

SESSION = r"""
import json, sys, warnings
import arkouda as ak

host, port = sys.argv[1], int(sys.argv[2])
with warnings.catch_warnings(record=True) as seen:
    warnings.simplefilter("always")
    ak.connect(host, port, timeout=10)
result = {"warnings": [str(w.message) for w in seen], "client_version": ak.__version__}
result["config"] = ak.get_config()
result["mem_used"] = ak.get_mem_used()
result["noop"] = ak.client._no_op()
try:
    ak.client.generic_msg("ruok")
except RuntimeError as error:
    result["ruok_error"] = str(error)
ak.shutdown()
print("RESULT " + json.dumps(result))
"""


@pytest.fixture(autouse=True)
def _client_installed() -> None:
    missing = importlib.util.find_spec("arkouda") is None
    require_component(
        "the arkouda 2020.7.7 client", "`import arkouda` fails (./setup.sh installs it)" if missing else None
    )


def run_client(script: str, server: StandinProcess) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", script, server.host, str(server.port)],
        capture_output=True,
        text=True,
        timeout=60,
        stdin=subprocess.DEVNULL,
    )


def result_of(done: subprocess.CompletedProcess[str]) -> dict[str, Any]:
    assert done.returncode == 0, done.stdout + done.stderr
    line = next(line for line in done.stdout.splitlines() if line.startswith("RESULT "))
    result = json.loads(line.removeprefix("RESULT "))
    assert isinstance(result, dict)
    return result


def test_connect_get_config_get_mem_used_shutdown(standin: StandinProcess) -> None:
    done = run_client(SESSION, standin)
    result = result_of(done)
    # What the client prints: the server's own replies.
    assert f"connected to arkouda server tcp://*:{standin.port}" in done.stdout.splitlines()
    assert "shutdown server (7 req)" in done.stdout.splitlines()  # connect, getconfig ×2, getmemused, noop, ruok
    config = result["config"]
    assert config["arkoudaVersion"] == "2020.07.07"
    assert config["ServerPort"] == standin.port
    assert config["numLocales"] == 1
    assert len(config["LocaleConfigs"]) == 1
    assert isinstance(result["mem_used"], int)
    assert result["noop"] == "noop"
    assert result["ruok_error"] == "Error: unrecognized command: ruok"
    # The recorded server says 2020.07.07 and the installed client 2020.7.7: the real client warns.
    assert result["client_version"] == "2020.7.7"
    assert any("Version mismatch" in warning for warning in result["warnings"])
    assert standin.wait() == 0


def test_a_matching_version_knob_silences_the_client_warning(standin_factory: StartStandin) -> None:
    server = standin_factory(env={"ARKOUDA_STANDIN_VERSION": "2020.7.7"})
    result = result_of(run_client(SESSION, server))
    assert result["config"]["arkoudaVersion"] == "2020.7.7"
    assert result["warnings"] == []


def test_the_2020_client_cannot_talk_to_a_json_only_server(standin_factory: StartStandin) -> None:
    # The two wire protocols do not interoperate: the 2020 client gets a JSON error record back and
    # fails on it, as it would against a real 2021+ server.
    server = standin_factory(env={"ARKOUDA_STANDIN_PROTOCOL": "2021"})
    done = run_client(SESSION, server)
    assert done.returncode != 0
    assert "KeyError: 'arkoudaVersion'" in done.stderr
    assert '"msgType":"ERROR"' in done.stdout  # the reply to "connect", printed by the client
