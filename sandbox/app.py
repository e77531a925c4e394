"""create_app(settings) -> web.Application: mounts every vendor and the /_sandbox control API."""

from __future__ import annotations

import asyncio
import contextlib
from collections import deque
from collections.abc import Callable
from typing import Any

from aiohttp import web

from sandbox import control
from sandbox.control.metrics import figures
from sandbox.core import fastpath, keys
from sandbox.core.accounts import load_accounts
from sandbox.core.clock import Clock
from sandbox.core.context import Context
from sandbox.core.faults import FaultBook
from sandbox.core.fixture_files import check_overlay
from sandbox.core.metrics import Metrics
from sandbox.core.operations import Operation
from sandbox.core.persistence import ServerLock, Snapshots, build_lock
from sandbox.core.pipeline import Endpoint, sandbox_middleware
from sandbox.core.provider import Provider
from sandbox.core.ratelimit import RateLimiter
from sandbox.core.services import Services
from sandbox.core.validation import Validators
from sandbox.population.audience.service import AudienceService
from sandbox.population.generator import load_profile
from sandbox.providers import PROVIDER_CLASSES
from sandbox.records.deliveries import Deliveries
from sandbox.records.engagement import Engagement
from sandbox.records.journal import Journal
from sandbox.records.webhooks import Webhooks
from sandbox.settings import Settings


def create_app(settings: Settings | None = None,
               provider_classes: tuple[type[Provider], ...] = PROVIDER_CLASSES) -> web.Application:
    settings = settings or Settings()
    if settings.fixtures is not None:
        check_overlay(settings.fixtures)
    # The middleware reads (and decodes) bodies itself: it must journal oversize and undecodable ones, so
    # aiohttp's own cap and decompression are off. Idle connections and half-sent headers time out.
    app = web.Application(middlewares=[sandbox_middleware], client_max_size=2**62, handler_args={
        "auto_decompress": False, "keepalive_timeout": settings.request_timeout, "lingering_time": 2.0})
    app[keys.SETTINGS] = settings
    app[keys.JOURNAL] = Journal(settings.journal_limit, settings.journal_max_bytes)
    app[keys.CLOCK] = Clock()
    app[keys.FAILURES] = deque(maxlen=keys.FAILURES_KEPT)
    app[keys.CHANGES] = [0]
    app[keys.DELIVERIES] = Deliveries(settings.journal_limit, settings.journal_max_bytes)
    app[keys.WEBHOOKS] = Webhooks(settings.webhooks, app[keys.CLOCK], settings.journal_limit)
    app[keys.FAULTS] = FaultBook(settings.seed)
    app[keys.LIMITER] = RateLimiter(settings.rate_limits)
    app[keys.METRICS] = Metrics(lambda: figures(app))
    names = [cls.name for cls in provider_classes]
    accounts = load_accounts(settings.accounts, names,
                             {cls.name: (cls.account_values, cls.accounts_example) for cls in provider_classes})
    app[keys.ACCOUNTS] = accounts
    providers = [cls(settings, accounts.get(cls.name)) for cls in provider_classes]
    app[keys.PROVIDERS] = providers
    operations = [(provider, op) for provider in providers for op in provider.operations()]
    app[keys.VALIDATORS] = Validators(op for _, op in operations)
    context = app[keys.CONTEXT] = Context(settings, app[keys.JOURNAL], app[keys.CLOCK], app[keys.FAULTS],
                                          app[keys.LIMITER], app[keys.METRICS], app[keys.FAILURES],
                                          app[keys.VALIDATORS])
    mount(app.router, operations, context)
    control.setup(app)
    fastpath.install(app)
    app.router.add_route("*", "/", control.ui.root)  # the inspector for a browser (pipeline._is_page), else 404
    app.on_startup.append(_load_audience)
    app.on_startup.append(_start_providers)
    app.on_cleanup.append(_close_webhooks)
    if settings.data_dir is not None or settings.state_dir is not None:
        persisted = PersistedState()
        app.on_startup.append(persisted.start)
        app.on_cleanup.append(persisted.stop)
    return app


def mount(router: web.UrlDispatcher, operations: list[tuple[Provider, Operation]], context: Context) -> None:
    """Each operation at its real path on the root and under ``/<vendor>``; clashes stop startup."""
    claimed: dict[tuple[str, str], str] = {}
    for provider, op in operations:
        for path in (op.path, f"/{provider.name}{op.path}"):
            owner = claimed.setdefault((op.method, path), op.key)
            if owner != op.key:
                raise RuntimeError(f"route clash: {op.method} {path} is claimed by {owner} and {op.key}")
            router.add_route(op.method, path, Endpoint(op, provider, context).handler())


async def _load_audience(app: web.Application) -> None:
    """Build (or load from --data-dir) the population before any provider starts: they may read it."""
    if keys.AUDIENCE not in app:  # else given by the caller (``serve``, or tests sharing one population)
        load_audience(app)


def load_audience(app: web.Application, on_progress: Callable[[int, int], None] | None = None) -> None:
    """Build or load the population the settings name into ``app`` (one process at a time per data dir)."""
    settings = app[keys.SETTINGS]
    with build_lock(settings.data_dir) if settings.data_dir is not None else contextlib.nullcontext():
        app[keys.AUDIENCE] = AudienceService.load(clock=app[keys.CLOCK], data_dir=settings.data_dir,
                                                  profile_path=settings.population, seed=settings.seed,
                                                  size=settings.population_size, on_progress=on_progress)


async def _start_providers(app: web.Application) -> None:
    settings = app[keys.SETTINGS]
    try:
        section = load_profile(settings.population).get("engagement")
    except (OSError, ValueError):
        section = None  # the population loader has already accepted this profile or said what is wrong
    app[keys.ENGAGEMENT] = Engagement(settings.seed, section, app[keys.AUDIENCE], app[keys.DELIVERIES],
                                      app[keys.CLOCK])
    await app[keys.WEBHOOKS].start()
    services = Services(settings=settings, clock=app[keys.CLOCK], audience=app[keys.AUDIENCE],
                        deliveries=app[keys.DELIVERIES], engagement=app[keys.ENGAGEMENT],
                        webhooks=app[keys.WEBHOOKS])
    app[keys.SERVICES] = services
    for provider in app[keys.PROVIDERS]:
        await provider.start(services)


async def _close_webhooks(app: web.Application) -> None:
    await app[keys.WEBHOOKS].close()


class PersistedState:
    """``--data-dir``: hold the server lock, restore the saved tenant state once providers have started,
    snapshot it while it changes and once more at cleanup (docs/architecture.md, "Persistence")."""

    def __init__(self) -> None:
        self.lock: ServerLock | None = None
        self.snapshots: Snapshots | None = None
        self.task: asyncio.Task[None] | None = None

    async def start(self, app: web.Application) -> None:
        settings = app[keys.SETTINGS]
        directory = settings.state_dir or settings.data_dir
        assert directory is not None
        self.lock = ServerLock(directory)
        self.lock.acquire()
        self.snapshots = Snapshots(directory, app[keys.AUDIENCE].info.fingerprint, lambda: collect_state(app),
                                   lambda: app[keys.JOURNAL].opened + app[keys.CHANGES][0])
        saved = self.snapshots.load()
        if saved is not None:
            restore_state(app, saved)
        self.task = asyncio.create_task(self.snapshots.run())

    async def stop(self, app: web.Application) -> None:
        if self.task is not None:
            self.task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self.task
        try:
            if self.snapshots is not None and self.task is not None:
                self.snapshots.save(force=True)
        finally:
            if self.lock is not None:
                self.lock.release()


def collect_state(app: web.Application) -> dict[str, Any]:
    """Everything tenants changed (not the journal), as ``Snapshots`` pickles it."""
    return {"clock": app[keys.CLOCK].export_state(),
            "deliveries": app[keys.DELIVERIES].export_state(),
            "audience": app[keys.AUDIENCE].export_state(),
            "providers": {p.name: p.export_state() for p in app[keys.PROVIDERS]}}


def restore_state(app: web.Application, saved: dict[str, Any]) -> None:
    app[keys.CLOCK].import_state(saved["clock"])
    app[keys.DELIVERIES].import_state(saved["deliveries"])
    if saved.get("audience") is not None:
        app[keys.AUDIENCE].import_state(saved["audience"])
    for provider in app[keys.PROVIDERS]:
        data = saved["providers"].get(provider.name)
        if data is not None:
            provider.import_state(data)


def operations_of(app: web.Application) -> list[Operation]:
    return [op for provider in app[keys.PROVIDERS] for op in provider.operations()]
