"""Status errors exactly as kube-apiserver words them (k8s.io/apimachinery/pkg/api/errors).

Every failure the emulator answers is an `ApiError`; `body()` is the `Status` object a real server
sends (same keys, same order, empty fields omitted), so clients that parse `reason`, `details` or
`message` see what they would see against a cluster.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

JSON = dict[str, Any]


@dataclass(frozen=True)
class GroupResource:
    group: str
    resource: str

    def __str__(self) -> str:
        return f"{self.resource}.{self.group}" if self.group else self.resource


@dataclass(frozen=True)
class GroupKind:
    group: str
    kind: str

    def __str__(self) -> str:
        return f"{self.kind}.{self.group}" if self.group else self.kind


class ApiError(Exception):
    """A failed request: HTTP status code plus the Status body a real API server sends."""

    def __init__(
        self,
        code: int,
        reason: str,
        message: str | None,
        details: JSON | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message or reason)
        self.code = code
        self.reason = reason
        self.message = message
        self.details = details
        self.headers = headers or {}

    def body(self) -> JSON:
        status: JSON = {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure"}
        if self.message:
            status["message"] = self.message
        if self.reason:
            status["reason"] = self.reason
        if self.details is not None:
            status["details"] = self.details
        status["code"] = self.code
        return status


def _details(name: str = "", group: str = "", kind: str = "", uid: str = "", **extra: Any) -> JSON:
    """StatusDetails with Go's omitempty: only non-empty fields, in the wire order."""
    out: JSON = {}
    for key, value in (("name", name), ("group", group), ("kind", kind), ("uid", uid)):
        if value:
            out[key] = value
    out.update({k: v for k, v in extra.items() if v})
    return out


def not_found(gr: GroupResource, name: str) -> ApiError:
    return ApiError(404, "NotFound", f'{gr} "{name}" not found', _details(name, gr.group, gr.resource))


def already_exists(gr: GroupResource, name: str) -> ApiError:
    return ApiError(409, "AlreadyExists", f'{gr} "{name}" already exists', _details(name, gr.group, gr.resource))


def generate_name_conflict(gr: GroupResource, name: str) -> ApiError:
    message = f'{gr} "{name}" already exists, the server was not able to generate a unique name for the object'
    return ApiError(409, "AlreadyExists", message, _details(name, gr.group, gr.resource, retryAfterSeconds=1))


def conflict(gr: GroupResource, name: str, why: str) -> ApiError:
    return ApiError(
        409, "Conflict", f'Operation cannot be fulfilled on {gr} "{name}": {why}', _details(name, gr.group, gr.resource)
    )


STALE_OBJECT = "the object has been modified; please apply your changes to the latest version and try again"


def bad_request(message: str) -> ApiError:
    return ApiError(400, "BadRequest", message)


def forbidden(gr: GroupResource, name: str, why: str) -> ApiError:
    if not gr.resource and not gr.group:
        message = f"forbidden: {why}"
    elif not name:
        message = f"{gr} is forbidden: {why}"
    else:
        message = f'{gr} "{name}" is forbidden: {why}'
    return ApiError(403, "Forbidden", message, _details(name, gr.group, gr.resource))


def unauthorized() -> ApiError:
    return ApiError(401, "Unauthorized", "Unauthorized")


def method_not_allowed() -> ApiError:
    return ApiError(405, "MethodNotAllowed", "the server does not allow this method on the requested resource", {})


def page_not_found() -> ApiError:
    return ApiError(404, "NotFound", "the server could not find the requested resource", {})


def unsupported_media_type(content_type: str, accepted: list[str]) -> ApiError:
    message = f"the body of the request was in an unknown format - accepted media types include: {', '.join(accepted)}"
    del content_type  # the real message does not repeat what was sent
    return ApiError(415, "UnsupportedMediaType", message)


def expired(message: str) -> ApiError:
    return ApiError(410, "Expired", message)


def gone(message: str) -> ApiError:
    return ApiError(410, "Gone", message)


def too_many_requests(retry_after: int | None) -> ApiError:
    details = {"retryAfterSeconds": retry_after} if retry_after else {}
    headers = {"Retry-After": str(retry_after)} if retry_after else {}
    return ApiError(429, "TooManyRequests", "Too many requests, please try again later.", details, headers)


def service_unavailable(message: str = "the server is currently unable to handle the request") -> ApiError:
    return ApiError(503, "ServiceUnavailable", message)


def internal_error(message: str) -> ApiError:
    return ApiError(500, "InternalError", f"Internal error occurred: {message}", {"causes": [{"message": message}]})


def timeout(message: str, retry_after: int = 0) -> ApiError:
    details = {"retryAfterSeconds": retry_after} if retry_after else {}
    return ApiError(504, "Timeout", f"Timeout: {message}", details)


@dataclass
class FieldError:
    """One entry of field.ErrorList: where, what kind of problem, the bad value and why."""

    type: str  # the cause reason: FieldValueInvalid, FieldValueRequired, ...
    field: str
    value: Any = None
    detail: str = ""
    show_value: bool = True

    def body(self) -> str:
        label = _TYPE_LABELS[self.type]
        if (
            self.type in ("FieldValueRequired", "FieldValueForbidden", "FieldValueTooLong", "InternalError")
            or not self.show_value
        ):
            text = label
        else:
            text = f"{label}: {go_value(self.value)}"
        if self.detail:
            text += f": {self.detail}"
        return text

    def __str__(self) -> str:
        return f"{self.field}: {self.body()}"


_TYPE_LABELS = {
    "FieldValueNotFound": "Not found",
    "FieldValueRequired": "Required value",
    "FieldValueDuplicate": "Duplicate value",
    "FieldValueInvalid": "Invalid value",
    "FieldValueNotSupported": "Unsupported value",
    "FieldValueForbidden": "Forbidden",
    "FieldValueTooLong": "Too long",
    "FieldValueTooMany": "Too many",
    "InternalError": "Internal error",
    "FieldValueTypeInvalid": "Invalid value",
}


def go_value(value: Any) -> str:
    """A bad value printed the way Go's field.Error does: strings quoted, numbers and bools plain."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    if isinstance(value, str):
        return go_quote(value)
    if isinstance(value, list):
        return "[]string{" + ", ".join(go_quote(str(v)) for v in value) + "}"
    return str(value)


def go_quote(text: str) -> str:
    """Go's %q for the strings we meet (printable ASCII and escapes)."""
    out = ['"']
    for ch in text:
        if ch in ('"', "\\"):
            out.append("\\" + ch)
        elif ch == "\n":
            out.append("\\n")
        elif ch == "\t":
            out.append("\\t")
        elif ord(ch) < 0x20 or ord(ch) == 0x7F:
            out.append(f"\\x{ord(ch):02x}")
        else:
            out.append(ch)
    out.append('"')
    return "".join(out)


@dataclass
class FieldErrors:
    """An ErrorList being built by a validator."""

    items: list[FieldError] = field(default_factory=list)

    def required(self, path: str, detail: str = "") -> None:
        self.items.append(FieldError("FieldValueRequired", path, None, detail))

    def not_found(self, path: str, value: Any) -> None:
        self.items.append(FieldError("FieldValueNotFound", path, value))

    def invalid(self, path: str, value: Any, detail: str) -> None:
        self.items.append(FieldError("FieldValueInvalid", path, value, detail))

    def not_supported(self, path: str, value: Any, supported: list[str]) -> None:
        detail = "supported values: " + ", ".join(go_quote(s) for s in supported) if supported else ""
        self.items.append(FieldError("FieldValueNotSupported", path, value, detail))

    def duplicate(self, path: str, value: Any) -> None:
        self.items.append(FieldError("FieldValueDuplicate", path, value))

    def forbidden(self, path: str, detail: str) -> None:
        self.items.append(FieldError("FieldValueForbidden", path, None, detail))

    def too_long(self, path: str, limit: int) -> None:
        self.items.append(FieldError("FieldValueTooLong", path, None, f"must have at most {limit} bytes"))

    def too_many(self, path: str, actual: int, limit: int) -> None:
        self.items.append(FieldError("FieldValueTooMany", path, actual, f"must have at most {limit} items"))

    def type_invalid(self, path: str, value: Any, detail: str) -> None:
        self.items.append(FieldError("FieldValueTypeInvalid", path, value, detail))

    def extend(self, other: FieldErrors) -> None:
        self.items.extend(other.items)

    def __bool__(self) -> bool:
        return bool(self.items)


def invalid(gk: GroupKind, name: str, errs: FieldErrors) -> ApiError:
    causes = [{"reason": e.type, "message": e.body(), "field": e.field} for e in errs.items]
    messages: list[str] = []
    for e in errs.items:  # utilerrors.NewAggregate drops repeated messages
        text = str(e)
        if text not in messages:
            messages.append(text)
    if not messages:
        message = f'{gk} "{name}" is invalid'
    elif len(messages) == 1:
        message = f'{gk} "{name}" is invalid: {messages[0]}'
    else:
        message = f'{gk} "{name}" is invalid: [{", ".join(messages)}]'
    return ApiError(422, "Invalid", message, _details(name, gk.group, gk.kind, causes=causes))
