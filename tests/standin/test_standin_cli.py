"""The command line: the real one (as the entrypoints build it), Chapel's errors, the knobs' errors."""

from __future__ import annotations

import pytest
from standinkit import exchange

from arkouda_k8s.entrypoints.gasnet import server_command
from arkouda_k8s.settings import Settings
from arkouda_k8s.testing.standin.args import ChapelArgError, parse_args
from arkouda_k8s.testing.standin.fixtures import StartStandin, free_port


def test_the_entrypoints_command_line_starts_the_server(standin_factory: StartStandin) -> None:
    port, metrics = free_port(), free_port()
    settings = Settings(server_port=port, metrics=True, metrics_target_port=metrics, server_log_level="LogLevel.DEBUG")
    command = server_command(settings, 1)
    server = standin_factory(*command[1:], env={"METRICS_SERVER_PORT": str(metrics)})
    assert server.port == port
    assert exchange(port, "noop") == "noop"
    assert server.stderr_lines == []


def test_every_flag_of_the_issue_is_understood() -> None:
    args = parse_args(
        [
            "-nl",
            "3",
            "--ServerPort=6000",
            "--ExternalIntegration.systemType=SystemType.KUBERNETES",
            "--ServerDaemon.daemonTypes=ServerDaemonType.DEFAULT,ServerDaemonType.METRICS",
            "--memTrack=false",
            "--authenticate=true",
            "--logLevel=LogLevel.WARN",
        ]
    )
    assert (args.num_locales, args.server_port, args.mem_track, args.authenticate) == (3, 6000, False, True)
    assert (args.system_type, args.daemon_types, args.log_level) == ("KUBERNETES", ("DEFAULT", "METRICS"), "WARN")
    assert args.metrics
    assert parse_args(["-nl4", "--ServerConfig.ServerPort=7000", "-smemTrack=true"]).num_locales == 4
    assert parse_args(["--numLocales=2"]).num_locales == 2
    assert parse_args(["--ServerPort", "7001"]).server_port == 7001


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--Bogus.flag=1"], '<command-line arg>:1: error: Unexpected flag:  "--Bogus.flag=1"'),
        (["-nl", "1", "--nope=2"], '<command-line arg>:3: error: Unexpected flag:  "--nope=2"'),
        (["-nl", "1", "extra"], '<command-line arg>:3: error: Unexpected flag:  "extra"'),
        (["-x"], '<command-line arg>:1: error: Unexpected flag:  "-x"'),
        (["--Wrong.ServerPort=1"], '<command-line arg>:1: error: Unexpected flag:  "--Wrong.ServerPort=1"'),
        (["-nl", "0"], "<command-line arg>:1: error: Number of locales must be greater than 0"),
        (["-nl", "two"], '<command-line arg>:1: error: "two" is not a valid number of locales'),
        (["-nl"], "<command-line arg>:1: error: -nl flag is missing <numLocales> argument"),
        (
            ["--memTrack=yes"],
            '<command-line arg>:1: error: "yes" is not a valid value for config var memTrack of type bool',
        ),
    ],
)
def test_bad_arguments_are_reported_as_chapel_does(argv: list[str], message: str) -> None:
    with pytest.raises(ChapelArgError) as raised:
        parse_args(argv)
    assert str(raised.value) == message


def test_a_bad_flag_exits_1_with_the_message_on_stderr(standin_factory: StartStandin) -> None:
    server = standin_factory("-nl", "1", "--logLevel=LOUD", wait=False)
    assert server.wait() == 1
    assert server.stderr_lines == [
        '<command-line arg>:3: error: "LOUD" is not a valid value for config var logLevel of type LogLevel'
    ]
    assert server.stdout_lines == []


def test_help_lists_the_config_vars_and_exits_0(standin_factory: StartStandin) -> None:
    server = standin_factory("--help", wait=False)
    assert server.wait() == 0
    assert any("ServerConfig.ServerPort" in line for line in server.stdout_lines)


@pytest.mark.parametrize(
    ("name", "value", "says"),
    [
        ("ARKOUDA_STANDIN_PROTOCOL", "2019", "must be 2020, 2021 or both"),
        ("ARKOUDA_STANDIN_BIND_DELAY", "-1", "must be a number of seconds of at least 0"),
        ("ARKOUDA_STANDIN_CRASH_AFTER", "soon", "must be a number of seconds"),
        ("ARKOUDA_STANDIN_CRASH_SIGNAL", "NOPE", "must be a signal name"),
        ("ARKOUDA_STANDIN_BIND", "198.51.100.3", "is not a loopback address"),
    ],
)
def test_a_bad_knob_exits_2_naming_the_variable(
    standin_factory: StartStandin, name: str, value: str, says: str
) -> None:
    server = standin_factory(env={name: value}, wait=False)
    assert server.wait() == 2
    assert len(server.stderr_lines) == 1
    assert name in server.stderr_lines[0]
    assert says in server.stderr_lines[0]
