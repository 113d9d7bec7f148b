"""What the API answered, as exception types that say what to do about it."""

from __future__ import annotations

from typing import Any

from arkouda_k8s.errors import ArkoudaK8sError, ExitCode


class ApiError(ArkoudaK8sError):
    """The API answered with an error status (or could not be reached)."""

    def __init__(
        self,
        message: str,
        *,
        status: int = 0,
        reason: str = "",
        verb: str = "",
        resource: str = "",
        namespace: str | None = None,
        name: str | None = None,
        body: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.reason = reason
        self.verb = verb
        self.resource = resource
        self.namespace = namespace
        self.name = name
        self.body = body or {}

    @property
    def causes(self) -> list[dict[str, Any]]:
        details = self.body.get("details") or {}
        causes = details.get("causes") or []
        return [c for c in causes if isinstance(c, dict)]


class NotFound(ApiError):
    pass


class AlreadyExists(ApiError):
    pass


class Conflict(ApiError):
    """409 Conflict: the object changed since we read it (stale resourceVersion)."""


class Invalid(ApiError):
    """422: the object breaks a validation rule; `causes` names the fields."""


class Expired(ApiError):
    """410: a watch or list continue token is too old; re-list."""


class Unauthorized(ApiError):
    """401: the credentials were not accepted (a rotated token that was not re-read?)."""

    exit_code = ExitCode.API_FORBIDDEN


class Forbidden(ApiError):
    """403: RBAC refused the request; the message names the missing permission."""

    exit_code = ExitCode.API_FORBIDDEN


class ApiUnavailable(ApiError):
    """The API could not be reached, or kept failing, until the deadline."""

    exit_code = ExitCode.API_UNAVAILABLE


class TlsRefused(ApiError):
    """The API server's certificate did not verify (unknown CA, wrong host name): never retried."""

    exit_code = ExitCode.API_UNAVAILABLE


class NoCredentials(ArkoudaK8sError):
    """No way to reach the API: not in a cluster, no kubeconfig, no K8S_HOST."""

    exit_code = ExitCode.API_UNAVAILABLE


class PortForwardFailed(ApiError):
    """The API opened the port-forward but the kubelet could not reach the port in the pod (its message)."""
