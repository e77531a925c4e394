"""The Provider base class: what a vendor folder implements. Core code only talks to this interface."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

from aiohttp import web

from sandbox.core.errors import SandboxError
from sandbox.core.operations import Call, Operation, Reply
from sandbox.core.ratelimit import Applied, Limit
from sandbox.settings import Settings

if TYPE_CHECKING:
    from sandbox.core.services import Services


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
    account_values: ClassVar[tuple[type, ...]] = (dict,)
    """What each credential of this vendor's ``--accounts`` section maps to (checked at startup)."""
    accounts_example: ClassVar[str] = '{"<credential>": {...}}'
    """The section's shape, shown when a file gets it wrong."""
    rate_limits: ClassVar[Mapping[str, Limit]] = {}
    """The vendor's documented rate limits by name (``GET /_sandbox/limits``); empty = none documented."""
    collections: ClassVar[tuple[str, ...]] = ()
    """Dashboard-data collections served at ``/_sandbox/vendors/<name>/<collection>`` (GET, POST, DELETE)."""

    def __init__(self, settings: Settings, accounts: Mapping[str, Any] | None) -> None:
        self.settings = settings
        self.accounts = accounts
        """This vendor's section of the ``--accounts`` file; None = any non-empty credential is valid."""
        self._services: Services | None = None

    @property
    def services(self) -> Services:
        """The core's services (clock, population, deliveries), given at startup."""
        if self._services is None:
            raise RuntimeError(f"the {self.name} provider has not started")
        return self._services

    # -- wiring ---------------------------------------------------------------------------------
    def operations(self) -> list[Operation]:
        raise NotImplementedError

    async def start(self, services: Services) -> None:
        """Called by the core: keeps ``services`` and runs ``startup``."""
        self._services = services
        await self.startup(services)

    async def startup(self, services: Services) -> None:
        """Load fixtures and build state (raise with a clear message on a bad fixture file)."""

    def reset(self, tenant: str | None) -> None:
        """Drop run-time state for one tenant, or for all when ``tenant`` is None."""

    async def on_clock(self, tenant: str | None) -> None:
        """The sandbox clock moved (``POST /_sandbox/clock``) for one tenant, or for every tenant when None:
        run whatever came due for those tenants, each at its own time."""

    def export_state(self) -> Any:
        """Every tenant's run-time state, for ``--data-dir`` snapshots (picklable); None = nothing to keep."""
        return None

    def import_state(self, data: Any) -> None:
        """Restore what ``export_state`` gave (after ``startup``)."""

    def audience(self, spec: Any, tenant: str | None) -> AudienceQuery | None:
        """Translate this vendor's audience filter (``POST /_sandbox/audience/estimate``); None = unsupported.
        Raise ValueError/LookupError with a clear message for a filter the vendor would reject."""
        return None

    @property
    def strict(self) -> bool:
        """Reject unknown dashboard references (``--strict``); vendors may also read their own account data."""
        return self.settings.strict

    def list_data(self, collection: str, tenant: str | None) -> list[Any]:
        """What ``collection`` holds for ``tenant`` (``GET /_sandbox/vendors/<name>/<collection>``), each item
        marked ``"provisioned": true`` when it was learned from a request. ``collection`` is one of
        ``collections``."""
        raise NotImplementedError

    def add_data(self, collection: str, item: Any, tenant: str | None) -> Any:
        """Run-time additions to what the vendor's dashboard holds (``POST /_sandbox/vendors/<name>/<collection>``:
        campaigns, segments, templates...). Return the stored item; raise ValueError for a bad item.
        Additions vanish on reset. ``collection`` is one of ``collections``."""
        raise NotImplementedError

    def remove_data(self, collection: str, item_id: str, tenant: str | None) -> bool:
        """``DELETE /_sandbox/vendors/<name>/<collection>/<id>``: drop a run-time addition or a provisioned
        object; False when there was none (fixture objects cannot be removed)."""
        raise NotImplementedError

    def describe(self) -> dict[str, Any]:
        """Extra facts for ``/_sandbox/health`` and the startup banner."""
        return {}

    def snapshot(self, tenant: str | None) -> dict[str, list[dict[str, Any]]]:
        """What the inspector shows beyond ``collections``, by name: run-time state of ``tenant`` (None: every
        tenant) such as campaigns made through the API and schedules with their due times, and account data
        not served as a collection (``GET /_sandbox/ui/vendors/<name>``)."""
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

    def rate_limit(self, call: Call) -> Applied | None:
        """The limit this call counts against (after ``check``, before the handler); None = unlimited."""
        return None

    def headers(self, request: web.Request, call: Call | None) -> Mapping[str, str]:
        return {}
