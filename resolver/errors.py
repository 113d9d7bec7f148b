"""Why a server could not be found or reached: one type per stage, each with the next command to run."""

from __future__ import annotations

from arkouda_k8s.errors import ArkoudaK8sError, ExitCode


class ResolveError(ArkoudaK8sError):
    """The server could not be found or reached; `stage` says where it stopped, `hint` what to run."""

    exit_code = ExitCode.NOT_FOUND
    stage = "resolve"

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        self.hint = hint
        super().__init__(f"{self.stage}: {message}" + (f"\n  more: {hint}" if hint else ""))


class NoApiCredentials(ResolveError):
    stage = "no credentials"


class ApiRefused(ResolveError):
    stage = "API refused"


class ServiceNotFound(ResolveError):
    stage = "Service not found"


class NotReady(ResolveError):
    stage = "registered but not ready"


class DnsFailure(ResolveError):
    stage = "DNS failure"


class HandshakeTimeout(ResolveError):
    stage = "ZMQ handshake timeout"
