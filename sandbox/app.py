"""create_app(settings) -> web.Application: mounts every vendor and the /_sandbox control API."""

from __future__ import annotations

from aiohttp import web

from sandbox import control
from sandbox.core import keys
from sandbox.core.accounts import load_accounts
from sandbox.core.clock import Clock
from sandbox.core.operations import Operation
from sandbox.core.pipeline import Endpoint, sandbox_middleware
from sandbox.core.provider import Provider
from sandbox.core.validation import Validators
from sandbox.population.audience.service import AudienceService
from sandbox.providers import PROVIDER_CLASSES
from sandbox.records.deliveries import Deliveries
from sandbox.records.journal import Journal
from sandbox.settings import Settings


def create_app(settings: Settings | None = None,
               provider_classes: tuple[type[Provider], ...] = PROVIDER_CLASSES) -> web.Application:
    settings = settings or Settings()
    # The middleware reads bodies itself (it must journal oversize ones), so aiohttp's own cap is lifted.
    app = web.Application(middlewares=[sandbox_middleware], client_max_size=2**62)
    app[keys.SETTINGS] = settings
    app[keys.JOURNAL] = Journal(settings.journal_limit)
    app[keys.CLOCK] = Clock()
    app[keys.FAILURES] = []
    app[keys.DELIVERIES] = Deliveries(settings.journal_limit)
    names = [cls.name for cls in provider_classes]
    accounts = load_accounts(settings.accounts, names)
    app[keys.ACCOUNTS] = accounts
    providers = [cls(settings, accounts.get(cls.name)) for cls in provider_classes]
    app[keys.PROVIDERS] = providers
    operations = mount(app.router, providers)
    app[keys.VALIDATORS] = Validators(operations)
    control.setup(app)
    app.router.add_route("*", "/", control.ui.root)  # the inspector for a browser (pipeline._is_page), else 404
    app.on_startup.append(_load_audience)
    app.on_startup.append(_start_providers)
    return app


def mount(router: web.UrlDispatcher, providers: list[Provider]) -> list[Operation]:
    """Each operation at its real path on the root and under ``/<vendor>``; clashes stop startup."""
    claimed: dict[tuple[str, str], str] = {}
    operations: list[Operation] = []
    for provider in providers:
        for op in provider.operations():
            for path in (op.path, f"/{provider.name}{op.path}"):
                owner = claimed.setdefault((op.method, path), op.key)
                if owner != op.key:
                    raise RuntimeError(f"route clash: {op.method} {path} is claimed by {owner} and {op.key}")
                router.add_route(op.method, path, Endpoint(op, provider).handler())
            operations.append(op)
    return operations


async def _load_audience(app: web.Application) -> None:
    """Build (or load from --data-dir) the population before any provider starts: they may read it."""
    if keys.AUDIENCE in app:  # given by the caller (tests share one built population this way)
        return
    settings = app[keys.SETTINGS]
    app[keys.AUDIENCE] = AudienceService.load(clock=app[keys.CLOCK], data_dir=settings.data_dir,
                                              profile_path=settings.population, seed=settings.seed,
                                              size=settings.population_size)


async def _start_providers(app: web.Application) -> None:
    for provider in app[keys.PROVIDERS]:
        await provider.startup(app)


def operations_of(app: web.Application) -> list[Operation]:
    return [op for provider in app[keys.PROVIDERS] for op in provider.operations()]
