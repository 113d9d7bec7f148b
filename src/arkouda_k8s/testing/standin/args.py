"""The command line of arkouda_server, parsed the way a Chapel program parses it.

Chapel programs take `-nl N` (or `--numLocales=N`), the runtime's own flags (`-h`, `-v`, `-q`,
`--help`, `--verbose`, `--quiet`…) and `--<config var>=<value>` (also `--Module.var=value` and
`-s<var>=<value>`). Anything else is reported by the runtime as

    <command-line arg>:<position>: error: Unexpected flag:  "<the argument>"

on stderr with exit 1 (recorded from a real 2020 server: ../arkouda-golden/server-2020.json; note
the two spaces). The config vars known here are the ones the entrypoints pass and a few more of
arkouda's; the stand-in accepts all of them whatever era it imitates (arkouda 2020.7.7 itself did
not know --authenticate, --logLevel, ExternalIntegration or ServerDaemon).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

WHERE = "<command-line arg>"
LOG_LEVELS = ("DEBUG", "INFO", "WARN", "ERROR", "CRITICAL")
DAEMON_TYPES = ("DEFAULT", "METRICS", "STATUS", "INTEGRATION")
SYSTEM_TYPES = ("NONE", "KUBERNETES", "SLURM")


class ChapelArgError(Exception):
    """A command-line error, printed as the Chapel runtime prints it; exit 1."""

    def __init__(self, message: str, position: int) -> None:
        super().__init__(message)
        self.position = position

    def __str__(self) -> str:
        return f"{WHERE}:{self.position}: error: {self.args[0]}"


@dataclass
class ServerArgs:
    num_locales: int = 1
    server_port: int = 5555
    mem_track: bool = True
    authenticate: bool = False
    log_level: str = "INFO"
    trace: bool = True
    system_type: str = "NONE"
    daemon_types: tuple[str, ...] = ("DEFAULT",)
    auto_shutdown: bool = False
    help: bool = False

    @property
    def metrics(self) -> bool:
        return "METRICS" in self.daemon_types


def _int(text: str) -> int:
    return int(text.strip(), 0)


def _bool(text: str) -> bool:
    if text not in ("true", "false"):
        raise ValueError
    return text == "true"


def _enum(prefix: str, names: Sequence[str]) -> Callable[[str], str]:
    def parse(text: str) -> str:
        name = text.strip().removeprefix(prefix + ".")
        if name not in names:
            raise ValueError
        return name

    return parse


def _enum_list(prefix: str, names: Sequence[str]) -> Callable[[str], tuple[str, ...]]:
    one = _enum(prefix, names)

    def parse(text: str) -> tuple[str, ...]:
        return tuple(one(part) for part in text.split(",") if part.strip())

    return parse


@dataclass(frozen=True)
class ConfigVar:
    attribute: str
    chapel_type: str
    parse: Callable[[str], Any]
    modules: tuple[str, ...]


_CONFIG_VARS = {
    "ServerPort": ConfigVar("server_port", "int(64)", _int, ("ServerConfig",)),
    "memTrack": ConfigVar("mem_track", "bool", _bool, ("ServerConfig",)),
    "authenticate": ConfigVar("authenticate", "bool", _bool, ("ServerConfig",)),
    "logLevel": ConfigVar("log_level", "LogLevel", _enum("LogLevel", LOG_LEVELS), ("ServerConfig", "arkouda_server")),
    "trace": ConfigVar("trace", "bool", _bool, ("ServerConfig", "arkouda_server")),
    "v": ConfigVar("trace", "bool", _bool, ("arkouda_server",)),
    "autoShutdown": ConfigVar("auto_shutdown", "bool", _bool, ("ServerConfig",)),
    "systemType": ConfigVar("system_type", "SystemType", _enum("SystemType", SYSTEM_TYPES), ("ExternalIntegration",)),
    "daemonTypes": ConfigVar(
        "daemon_types", "string", _enum_list("ServerDaemonType", DAEMON_TYPES), ("ServerDaemon", "ServerConfig")
    ),
    "numLocales": ConfigVar("num_locales", "int(64)", _int, ("ChapelBase",)),
}


def _lookup(name: str) -> tuple[str, ConfigVar] | None:
    module, _, var = name.rpartition(".")
    found = _CONFIG_VARS.get(var)
    if found is None or (module and module not in found.modules):
        return None
    return var, found


def _set(result: ServerArgs, var: str, spec: ConfigVar, text: str, position: int) -> None:
    if var == "numLocales":
        _set_num_locales(result, text, position)
        return
    try:
        value = spec.parse(text)
    except ValueError:
        raise ChapelArgError(
            f'"{text}" is not a valid value for config var {var} of type {spec.chapel_type}', position
        ) from None
    setattr(result, spec.attribute, value)


def _set_num_locales(result: ServerArgs, text: str, position: int) -> None:
    try:
        value = int(text)
    except ValueError:
        raise ChapelArgError(f'"{text}" is not a valid number of locales', position) from None
    if value < 1:
        raise ChapelArgError("Number of locales must be greater than 0", position)
    result.num_locales = value


def parse_args(argv: Sequence[str]) -> ServerArgs:
    """Parse arkouda_server's arguments (without the program name); ChapelArgError on a bad one."""
    result = ServerArgs()
    args = list(argv)
    i = 0
    while i < len(args):
        arg, position = args[i], i + 1
        if len(arg) < 2 or not arg.startswith("-"):
            raise ChapelArgError(f'Unexpected flag:  "{arg}"', position)
        if arg.startswith("--"):
            i = _long(result, args, i)
        elif arg.startswith("-nl"):
            if arg == "-nl":
                i += 1
                if i >= len(args):
                    raise ChapelArgError("-nl flag is missing <numLocales> argument", position)
                _set_num_locales(result, args[i], position)
            else:
                _set_num_locales(result, arg[3:], position)
        elif arg.startswith("-s") and len(arg) > 2:
            i = _config_var(result, args, i, arg[2:])
        elif arg in ("-h",):
            result.help = True
        elif arg in ("-v", "-q", "-b", "-t", "-a"):
            pass  # verbosity and reports of the runtime: nothing to imitate
        else:
            raise ChapelArgError(f'Unexpected flag:  "{arg}"', position)
        i += 1
    return result


def _long(result: ServerArgs, args: list[str], i: int) -> int:
    flag = args[i][2:]
    if flag == "help":
        result.help = True
        return i
    if flag in ("verbose", "quiet", "about", "blockreport", "taskreport", "gdb"):
        return i
    if len(args[i]) < 3:
        raise ChapelArgError(f'"{args[i]}" is not a valid argument', i + 1)
    return _config_var(result, args, i, flag)


def _config_var(result: ServerArgs, args: list[str], i: int, text: str) -> int:
    name, has_value, value = text.partition("=")
    found = _lookup(name)
    if found is None:
        raise ChapelArgError(f'Unexpected flag:  "{args[i]}"', i + 1)
    var, spec = found
    if not has_value:
        if spec.chapel_type == "bool":
            value = "true"  # a bare boolean flag means true
        else:
            if i + 1 >= len(args):
                raise ChapelArgError(f"Missing config var value for {var}", i + 1)
            i += 1
            value = args[i]
    _set(result, var, spec, value, i + 1)
    return i


def help_text(program: str) -> str:
    return (
        f"USAGE: {program} [options]\n"
        "FLAGS:\n"
        "  -h, --help            : print this message\n"
        "  -nl <n>               : run program using n locales\n"
        "  --<cfgVar>=<val>      : set the value of a config var\n"
        "\n"
        "CONFIG VARS:\n"
        "  ServerConfig.ServerPort: int(64)\n"
        "  ServerConfig.memTrack: bool\n"
        "  ServerConfig.authenticate: bool\n"
        "  ServerConfig.logLevel: LogLevel (DEBUG, INFO, WARN, ERROR, CRITICAL)\n"
        "  ServerConfig.trace: bool\n"
        "  ServerConfig.autoShutdown: bool\n"
        "  ExternalIntegration.systemType: SystemType (NONE, KUBERNETES, SLURM)\n"
        "  ServerDaemon.daemonTypes: string (ServerDaemonType.DEFAULT,ServerDaemonType.METRICS,...)\n"
        "\n"
        "(the arkouda_server stand-in of arkouda-k8s; its test knobs are ARKOUDA_STANDIN_* environment variables)\n"
    )
