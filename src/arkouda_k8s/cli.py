"""The `arkouda-k8s` command (also `python -m arkouda_k8s`).

Each subcommand declares the settings it takes; its module is imported only when it runs, so
`arkouda-k8s --help` and `arkouda-k8s version` stay fast. A bad flag or environment variable
ends the program with one line naming it, before anything starts (exit code 2).
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from arkouda_k8s import settings as s
from arkouda_k8s.errors import ArkoudaK8sError, ExitCode, SettingsError

Runner = Callable[[s.Settings, argparse.Namespace], int]


@dataclass(frozen=True)
class Command:
    name: str
    help: str
    description: str
    options: tuple[str, ...]
    runner: str  # "module:function", imported when the command runs
    arguments: Callable[[argparse.ArgumentParser], None] | None = None


def _resolve_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "name",
        nargs="?",
        default=None,
        help="Service to find: arkouda, arkouda.NS, arkouda.NS.svc, a DNS name or tcp://HOST:PORT "
        "[env: ARKOUDA_SERVER overrides it] (default: arkouda)",
    )
    parser.add_argument(
        "--wait",
        type=float,
        default=0.0,
        metavar="SECONDS",
        help="Wait up to SECONDS for a ready endpoint (default: 0, answer at once)",
    )
    parser.add_argument(
        "--mode",
        choices=("auto", "api", "dns", "direct", "port-forward"),
        default="auto",
        help="Force one strategy (default: auto = API, then cluster DNS). port-forward: find the pod through "
        "the API, print a local tcp://127.0.0.1:PORT forwarded to it and keep forwarding until Ctrl-C/SIGTERM",
    )


def _demo_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--locales",
        type=int,
        default=3,
        metavar="N",
        help="Number of locales (loopback pods with real sshd; default: 3)",
    )
    parser.add_argument(
        "--arkouda-server",
        dest="demo_server",
        default=None,
        metavar="PATH",
        help="A real arkouda_server to launch instead of the stand-in",
    )
    parser.add_argument(
        "--kubeconfig",
        dest="demo_kubeconfig",
        default=None,
        metavar="FILE",
        help="Publish and resolve against this cluster instead of the built-in emulator",
    )


def _emulator_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--host", default="127.0.0.1", help="Address to listen on (loopback only by default)")
    parser.add_argument("--port", type=int, default=0, help="Port to listen on (default: 0, a free port)")
    parser.add_argument("--tls", action="store_true", help="Serve HTTPS with a generated CA")
    parser.add_argument("--rbac", action="store_true", help="Authorize requests with Roles and RoleBindings")
    parser.add_argument(
        "--token-auth-file",
        default=None,
        metavar="FILE",
        help='kube-apiserver\'s static token file: token,user,uid,"group1,group2"',
    )
    parser.add_argument(
        "--kubeconfig-out", default=None, metavar="FILE", help="Write a kubeconfig with an admin identity to FILE"
    )
    parser.add_argument(
        "--allow-loopback-endpoints",
        action="store_true",
        help="TEST ONLY: admit 127.0.0.0/8 and ::1 endpoint addresses (a real API server rejects them)",
    )


COMMANDS = [
    Command(
        "locale",
        "Run a locale pod: sshd with the release's key, until SIGTERM.",
        "Copy the ssh key pair from the mounted Secret, write the sshd config and run sshd in the "
        "foreground as this (non-root) user.",
        ("pod_name", "pod_ip", *s.SSH, *s.LOGGING),
        "arkouda_k8s.entrypoints.locale:run",
    ),
    Command(
        "server",
        "Run the multi-locale server pod: wait for locales, launch arkouda_server, publish it.",
        "sshd, then wait for the locale pods through the API, build the GASNet environment, launch "
        "arkouda_server -nl N, publish it under --service-name and withdraw it on SIGTERM or exit.",
        (*s.IDENTITY, *s.PUBLISH, *s.KUBE_API, *s.SERVER, *s.LOCALES, *s.SSH, "register", *s.LOGGING),
        "arkouda_k8s.entrypoints.server:run",
    ),
    Command(
        "single",
        "Run a single-locale server pod: arkouda_server -nl 1, published.",
        "Launch arkouda_server -nl 1 (no ssh) and publish it (unless --no-register).",
        (*s.IDENTITY, *s.PUBLISH, *s.KUBE_API, *s.SERVER, "register", *s.LOGGING),
        "arkouda_k8s.entrypoints.single:run",
    ),
    Command(
        "register",
        "Publish an already running arkouda_server (a sidecar): the registrar alone.",
        "Probe arkouda_server on this pod's loopback, publish a Service and EndpointSlice for it, keep "
        "them true to its health (not ready while it does not answer) and withdraw them on SIGTERM.",
        (*s.IDENTITY, *s.PUBLISH, *s.KUBE_API, *s.LOGGING),
        "arkouda_k8s.registrar.cli:run",
    ),
    Command(
        "resolve",
        "Print tcp://HOST:PORT of a published arkouda server.",
        "Find the server by Service name (API, then cluster DNS); exit 0 and print tcp://host:port, or "
        "print the failed stage and exit 1.",
        ("namespace", *s.KUBE_API, *s.LOGGING),
        "arkouda_k8s.resolver.cli:run",
        _resolve_arguments,
    ),
    Command(
        "demo",
        "The whole lifecycle on this machine: emulator, loopback pods, server, connect, withdraw.",
        "Start the built-in API emulator, loopback locale pods with real sshd, the server entrypoint and "
        "its registrar; connect with the real arkouda client; SIGTERM; show the withdrawal.",
        s.LOGGING,
        "arkouda_k8s.demo:run",
        _demo_arguments,
    ),
    Command(
        "kube-emulator",
        "Run the in-memory Kubernetes API emulator (for tests and the demo).",
        "Serve the emulator on loopback; print 'serving <url>'; run until SIGTERM.",
        s.LOGGING,
        "arkouda_k8s.testing.kube.cli:run",
        _emulator_arguments,
    ),
    Command(
        "version",
        "Print the version of arkouda-k8s.",
        "Print the version of arkouda-k8s.",
        (),
        "arkouda_k8s.cli:version",
    ),
]


def version(_settings: s.Settings, _args: argparse.Namespace) -> int:
    from importlib.metadata import version as dist_version

    print(f"arkouda-k8s {dist_version('arkouda-k8s')}")
    return ExitCode.OK


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="arkouda-k8s",
        description="Run arkouda_server on Kubernetes and find it by Service name. Every option can also be "
        "set by the environment variable named in its help.",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for command in COMMANDS:
        p = sub.add_parser(command.name, help=command.help, description=command.description)
        if command.arguments:
            command.arguments(p)
        s.add_options(p, command.options)
        p.set_defaults(_command=command)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    command: Command = args._command
    try:
        settings = s.load(command.options, args)
        if set(s.LOGGING) <= set(command.options):
            from arkouda_k8s import logs

            logs.configure(settings.log_level, settings.log_format)
        module_name, _, func_name = command.runner.partition(":")
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as missing:
            if missing.name and module_name.startswith(missing.name):
                print(f"arkouda-k8s {command.name}: not available yet in this version", file=sys.stderr)
                return ExitCode.NOT_LANDED
            raise
        runner: Runner = getattr(module, func_name)
        return int(runner(settings, args))
    except SettingsError as bad:
        print(f"arkouda-k8s {command.name}: error: {bad}", file=sys.stderr)
        return ExitCode.USAGE
    except ArkoudaK8sError as failed:
        print(f"arkouda-k8s {command.name}: error: {failed}", file=sys.stderr)
        return int(failed.exit_code)
    except KeyboardInterrupt:
        return 130
