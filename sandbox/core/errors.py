"""The SandboxError hierarchy: what went wrong, never how a vendor words it.

Handlers, parsing, validation and auth raise these; each vendor's ``errors.py`` is the only place that
turns one into that vendor's status, body and headers (``Provider.render_error``). The control API renders
them as ``{"error": {"kind", "message", "details"}}``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


class SandboxError(Exception):
    """Base class. ``status`` is the neutral HTTP status; vendors may answer with another one."""

    status: int = 500
    kind: str = "error"

    def __init__(self, message: str = "", *, details: Any = None, status: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.details = details
        if status is not None:
            self.status = status

    def as_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "message": self.message, "details": self.details}


class BadRequest(SandboxError):
    status = 400
    kind = "bad_request"


class Unauthorized(SandboxError):
    """Credentials missing or wrong. ``reason`` says which credential: vendors word each differently."""

    status = 401
    kind = "unauthorized"

    def __init__(self, reason: str, message: str = "", *, credential: str | None = None) -> None:
        super().__init__(message or f"unauthorized: {reason}", details={"reason": reason})
        self.reason = reason
        self.credential = credential


class Forbidden(SandboxError):
    status = 403
    kind = "forbidden"


class NotFound(SandboxError):
    status = 404
    kind = "not_found"


class MethodNotAllowed(SandboxError):
    status = 405
    kind = "method_not_allowed"

    def __init__(self, message: str = "", *, allowed: tuple[str, ...] = ()) -> None:
        super().__init__(message, details={"allowed": list(allowed)})
        self.allowed = allowed


class PayloadTooLarge(SandboxError):
    status = 413
    kind = "payload_too_large"


class UnsupportedMediaType(SandboxError):
    status = 415
    kind = "unsupported_media_type"


class InvalidBody(SandboxError):
    """The body could not be parsed (not JSON, not an object, not a form...)."""

    status = 400
    kind = "invalid_body"


@dataclass(frozen=True, slots=True)
class FieldError:
    """One schema violation. ``path`` locates the value, ``rule`` is the JSON Schema keyword that failed."""

    path: tuple[str | int, ...]
    rule: str
    message: str
    expected: Any = None
    value: Any = field(default=None, compare=False)

    @property
    def dotted(self) -> str:
        return ".".join(str(p) for p in self.path)

    @property
    def field(self) -> str:
        """The name of the field at fault: for ``required`` the missing property, else the last key."""
        if self.rule == "required" and isinstance(self.expected, str):
            return self.expected
        for part in reversed(self.path):
            if isinstance(part, str):
                return part
        return ""


class ValidationFailed(SandboxError):
    status = 400
    kind = "validation_failed"

    def __init__(self, errors: list[FieldError]) -> None:
        first = errors[0]
        super().__init__(first.message, details=[{"path": e.dotted, "rule": e.rule, "message": e.message}
                                                 for e in errors])
        self.errors = errors


class Conflict(SandboxError):
    status = 409
    kind = "conflict"


class TooManyRequests(SandboxError):
    status = 429
    kind = "too_many_requests"


class Unexpected(SandboxError):
    """An exception nobody anticipated: rendered as the vendor's 5xx and remembered for the pytest plugin."""

    status = 500
    kind = "unexpected"
