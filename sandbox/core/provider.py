"""The Provider base class: what a vendor folder implements. Core code only talks to this interface."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

from aiohttp import web

from sandbox.core.errors import SandboxError
from sandbox.core.operations import Call, Operation, Reply
from sandbox.settings import Settings


@dataclass(frozen=True, slots=True)
class AudienceQuery:
    """A vendor audience translated to the neutral tree (see ``sandbox.population.audience.tree``)."""

    tree: Mapping[str, Any]
    channel: str | None = None
    platforms: Sequence[str] | None = None
    resolve_member: Any = None
    """``resolve_member(id)`` -> subtree or identities, for ``{"member_of": id}`` nodes (segments, lists)."""


class Provider:
    """One vendor. Subclasses set the class attributes and override the hooks they need.

    Request pipeline for a matched route: ``tenant_hint`` (journal) -> ``admit`` (auth, header checks;
    returns the tenant) -> body parsing -> schema validation -> ``check`` -> the operation's handler.
    Every SandboxError raised on the way, and every unmatched path this provider ``claims``, is answered by
    ``render_error``; ``headers`` are added to every answer of this vendor.
    """

    name: ClassVar[str] = ""
    roots: ClassVar[tuple[str, ...]] = ()
    """Path prefixes of the vendor's real API: a 404/405 under one of them is answered in its shape."""
    identifying_headers: ClassVar[tuple[str, ...]] = ()
    """Headers only this vendor's clients send: a 404/405 carrying one is answered in its shape."""
    content_type: ClassVar[str] = "application/json"

    def __init__(self, settings: Settings, accounts: Mapping[str, Any] | None) -> None:
        self.settings = settings
        self.accounts = accounts
        """This vendor's section of the ``--accounts`` file; None = any non-empty credential is valid."""

    # -- wiring ---------------------------------------------------------------------------------
    def operations(self) -> list[Operation]:
        raise NotImplementedError

    async def startup(self, app: web.Application) -> None:
        """Load fixtures and build state (raise with a clear message on a bad fixture file)."""

    def reset(self, tenant: str | None) -> None:
        """Drop run-time state for one tenant, or for all when ``tenant`` is None."""

    async def on_clock(self, app: web.Application) -> None:
        """The sandbox clock moved (``POST /_sandbox/clock``): run whatever came due."""

    def audience(self, spec: Any, tenant: str | None) -> AudienceQuery | None:
        """Translate this vendor's audience filter (``POST /_sandbox/audience/estimate``); None = unsupported.
        Raise ValueError/LookupError with a clear message for a filter the vendor would reject."""
        return None

    def add_data(self, collection: str, item: Any, tenant: str | None) -> Any:
        """Run-time additions to what the vendor's dashboard holds (``POST /_sandbox/vendors/<name>/<collection>``:
        campaigns, segments, templates...). Return the stored item; raise ValueError for a bad item and
        LookupError for an unknown collection. Additions vanish on reset."""
        raise LookupError(f"{self.name} takes no run-time {collection!r}")

    def describe(self) -> dict[str, Any]:
        """Extra facts for ``/_sandbox/health`` and the startup banner."""
        return {}

    def snapshot(self, tenant: str | None) -> dict[str, list[dict[str, Any]]]:
        """What this vendor holds for ``tenant`` (None: every tenant), by collection: campaigns, schedules
        and their due times, dashboard objects (``GET /_sandbox/vendors/<name>``, the inspector's tables)."""
        return {}

    # -- requests -------------------------------------------------------------------------------
    def claims(self, request: web.Request) -> bool:
        path = request.path
        if path == f"/{self.name}" or path.startswith(f"/{self.name}/"):
            return True
        if any(path.startswith(root) for root in self.roots):
            return True
        return any(h in request.headers for h in self.identifying_headers)

    def tenant_hint(self, request: web.Request) -> str | None:
        """The tenant named by the request's credentials, valid or not (journal filtering)."""
        return None

    def admit(self, call: Call) -> str | None:
        """Authenticate; return the tenant. Raise Unauthorized/Forbidden/UnsupportedMediaType..."""
        return None

    def check(self, call: Call) -> None:
        """Rules beyond the JSON Schema that must hold before the handler (optional)."""

    def render_error(self, error: SandboxError, request: web.Request) -> Reply:
        raise NotImplementedError

    def headers(self, request: web.Request, call: Call | None) -> Mapping[str, str]:
        return {}
