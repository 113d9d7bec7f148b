"""Error types shared by every component, and the process exit codes they map to.

Exit codes are part of the interface (documented in docs/operations.md); keep them stable.
"""

from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    OK = 0
    FAILURE = 1  # a runtime failure not covered below (the message says what)
    USAGE = 2  # bad flag, environment variable or argument: nothing was started
    NOT_LANDED = 3  # a subcommand whose issue has not landed yet
    CONFLICT = 4  # the Service name is held by another live server pod
    WITHDRAW_INCOMPLETE = 5  # stop deadline passed before our objects were removed
    LOCALES_NOT_READY = 6  # locale pods not ready before --locale-timeout
    LOCALE_LOST = 7  # a locale pod went away while the server was running
    LAUNCH_FAILED = 8  # arkouda_server failed to start (ssh spawn, bad flags, ...)
    API_FORBIDDEN = 9  # the Kubernetes API refused a request (RBAC): fix the Role
    API_UNAVAILABLE = 10  # the Kubernetes API could not be reached before the deadline
    SERVER_UNHEALTHY = 11  # arkouda_server stopped answering and was stopped
    NOT_FOUND = 12  # resolve: no such server / not ready before the deadline


class ArkoudaK8sError(Exception):
    """Base of our errors: the message names the object, the field and the fix."""

    exit_code: ExitCode = ExitCode.FAILURE


class SettingsError(ArkoudaK8sError, ValueError):
    """A flag or environment variable has a value that breaks its rule."""

    exit_code = ExitCode.USAGE
