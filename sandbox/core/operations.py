"""Operations: one vendor endpoint = vendor + name + method + path + handler + schema.

The same ``name`` identifies the route entry, the handler, ``schemas/<vendor>/<name>.json``, the fixtures
``fixtures/<vendor>/<name>.<case>.json``, the tests and the journal's ``operation`` field.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Generic, Literal, TypeVar

from aiohttp import web

if TYPE_CHECKING:
    from sandbox.core.context import Context
    from sandbox.core.provider import Provider
    from sandbox.core.services import Services

P = TypeVar("P", bound="Provider")

BodyKind = Literal["json", "json_value", "form", "none"]
"""``json``: a JSON object; ``json_value``: any JSON value (e.g. an array of events); ``form``: urlencoded."""


@dataclass(slots=True)
class Reply:
    """What a handler (or an error renderer) answers: rendered once into a ``web.Response``."""

    body: Any
    status: int = 200
    headers: Mapping[str, str] = field(default_factory=dict)


@dataclass(slots=True)
class Call(Generic[P]):
    """One request as a handler sees it, after auth, parsing and validation.

    A vendor's handlers annotate ``call: Call[TheirProvider]`` and get their own provider type from
    ``call.provider`` without casts."""

    request: web.Request
    operation: Operation
    provider: P
    raw: bytes
    context: Context
    """The app's state the request path touches (``sandbox.core.context``)."""
    body: Any = None
    tenant: str | None = None
    credential: str | None = None
    extras: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    """Said on the journal entry: what the sandbox did beyond the vendor's answer (``note``)."""
    hint: str | None = None
    """Said on the journal entry of a rejection: how to make the request valid (``strict`` mode)."""
    _now: float | None = field(default=None, init=False, repr=False)

    def note(self, text: str) -> None:
        self.notes.append(text)

    @property
    def services(self) -> Services:
        return self.provider.services

    @property
    def now(self) -> float:
        """This tenant's sandbox time (epoch seconds) when first asked, the same for the rest of the call."""
        now = self._now
        if now is None:
            now = self._now = self.provider.services.clock.time(self.tenant)
        return now

    @property
    def app(self) -> web.Application:
        return self.request.app

    @property
    def query(self) -> Mapping[str, str]:
        return self.request.query

    @property
    def params(self) -> Mapping[str, str]:
        return self.request.match_info


Handler = Callable[[Call[Any]], Awaitable[Reply]]


@dataclass(frozen=True, slots=True)
class Operation:
    vendor: str
    name: str
    method: str
    path: str
    handler: Handler
    schema: str | None = None
    """``"<vendor>/<name>"``: the file ``schemas/<vendor>/<name>.json``; None = not validated."""
    body: BodyKind = "json"

    @property
    def key(self) -> str:
        return f"{self.vendor}.{self.name}"

    def describe(self) -> dict[str, Any]:
        return {"vendor": self.vendor, "operation": self.name, "method": self.method, "path": self.path,
                "schema": f"schemas/{self.schema}.json" if self.schema else None}


def operation(vendor: str, name: str, method: str, path: str, handler: Handler, *,
              validated: bool = True, body: BodyKind = "json") -> Operation:
    """Build an Operation whose schema is ``schemas/<vendor>/<name>.json`` when ``validated``."""
    return Operation(vendor, name, method.upper(), path, handler,
                     f"{vendor}/{name}" if validated else None, body)
