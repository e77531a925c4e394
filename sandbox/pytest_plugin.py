"""pytest plugin of campaign-sandbox (registered through the ``pytest11`` entry point).

Fixtures:

- ``sandbox_server`` (session): the sandbox in-process on a free port (a background thread with its own
  event loop), or an external one given by ``--sandbox-url`` / ``SANDBOX_URL`` / ini ``sandbox_url``.
- ``sandbox`` (function): a ``SandboxClient`` bound to a fresh tenant for this test. In-process, the whole
  sandbox is also reset before each test that uses it; with an external sandbox only tenants isolate tests.
- ``sandbox_url``, ``sandbox_tenant``; per-vendor ``<vendor>_credentials`` naming the test's tenant come
  from ``sandbox/providers/credentials.py``, registered here.
- ``sandbox_aiohttp`` (async, pytest-aiohttp): a fresh sandbox app under ``aiohttp_client``.
- ``webhook_receiver`` (function): a small HTTP server on 127.0.0.1 to point webhooks and callbacks at
  (``.url``, ``.requests``, ``.wait(count)``, ``.respond_with(500)``).

Hooks: a test fails with the server traceback when the sandbox hit an unexpected exception during it; a
failing test's report shows the requests it produced, the outbound calls the sandbox made and the web
inspector's URL for them, and ``--sandbox-har DIR`` writes the requests as HAR 1.2.
"""

from __future__ import annotations

import asyncio
import dataclasses
import importlib
import json
import os
import re
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest

from sandbox.client import SandboxClient, SandboxClientError, requests_table, webhooks_table
from sandbox.receiver import WebhookReceiver
from sandbox.settings import Settings

STARTUP_TIMEOUT = 300.0
"""Seconds to wait for the in-process sandbox (the first start may build a large population)."""

OPTIONS: tuple[tuple[str, str], ...] = (
    ("url", "URL of an external sandbox (e.g. the Docker container); default: start one in-process "
            "(env SANDBOX_URL)"),
    ("seed", "seed of the in-process sandbox's population and ids"),
    ("population", "population profile JSON of the in-process sandbox"),
    ("population-size", "number of fake users of the in-process sandbox"),
    ("data-dir", "directory for the in-process sandbox's TinyDB file (population built once)"),
    ("fixtures", "directory overlaying the packaged fixtures/ for the in-process sandbox"),
    ("accounts", "accounts JSON file of the in-process sandbox (fixed credentials per vendor)"),
    ("strict", "true: the in-process sandbox rejects dashboard references it has no record of, as the vendor "
               "does (default: learn them on first use)"),
    ("har", "directory where a failing test's requests are written as <test id>.har (HAR 1.2)"),
)
SETTING_OPTIONS = ("seed", "population", "population-size", "data-dir", "fixtures", "accounts", "strict")
PATH_OPTIONS = frozenset({"population", "data-dir", "fixtures", "accounts"})
"""Given in an ini file, these are relative to that file's folder (pytest's rootdir), not the working directory."""

STATE = pytest.StashKey["SandboxTest"]()
CREDENTIALS_PLUGIN = "sandbox.providers.credentials"


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("campaign-sandbox", "campaign-sandbox (local campaign API sandbox)")
    for name, help_text in OPTIONS:
        dest = "sandbox_" + name.replace("-", "_")
        group.addoption(f"--sandbox-{name}", dest=dest, default=None, metavar=name.upper().replace("-", "_"),
                        help=help_text + f" (ini: {dest})")
        parser.addini(dest, help_text, default=None)


def pytest_configure(config: pytest.Config) -> None:
    """Per-vendor credential fixtures live with the vendors (``sandbox/providers/credentials.py``)."""
    if not config.pluginmanager.has_plugin(CREDENTIALS_PLUGIN):
        config.pluginmanager.register(importlib.import_module(CREDENTIALS_PLUGIN), CREDENTIALS_PLUGIN)


def option(config: pytest.Config, name: str) -> str | None:
    """Command line beats ini (paths in an ini file are relative to it); ``url`` also reads ``SANDBOX_URL``."""
    dest = "sandbox_" + name.replace("-", "_")
    value = config.getoption(dest, default=None)
    if value is None:
        value = config.getini(dest) or None
        if value is not None and name in PATH_OPTIONS:
            base = config.inipath.parent if config.inipath is not None else config.rootpath
            value = str(base / str(value))
    if value is None and name == "url":
        value = os.environ.get("SANDBOX_URL") or None
    return str(value) if value is not None else None


def settings_from(config: pytest.Config) -> Settings:
    """Settings of an in-process sandbox: the plugin's options, then ``SANDBOX_*`` variables, then defaults."""
    args = {name.replace("-", "_"): option(config, name) for name in SETTING_OPTIONS}
    settings = Settings.from_sources(args)
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    if worker and settings.data_dir is not None and settings.state_dir is None:
        # Workers share the built population; each keeps its own tenant state (and server lock).
        settings = dataclasses.replace(settings, state_dir=settings.data_dir / "workers" / worker)
    return dataclasses.replace(settings, host="127.0.0.1", port=0)


# -- the server ----------------------------------------------------------------------------------
class SandboxStartError(RuntimeError):
    """The sandbox could not start (or an external one is not healthy): the message names the cause."""


class SandboxServer:
    """A sandbox for this test session: in-process in a background thread, or external (``url`` given)."""

    def __init__(self, settings: Settings | None = None, url: str | None = None) -> None:
        self.settings = settings
        self.url = url.rstrip("/") if url else ""
        self.external = url is not None
        self.app: Any = None
        self.loop: asyncio.AbstractEventLoop | None = None
        self._runner: Any = None
        self._thread: threading.Thread | None = None
        self._error: BaseException | None = None

    def start(self) -> SandboxServer:
        if self.external:
            try:
                SandboxClient(self.url, timeout=10).health()
            except SandboxClientError as exc:
                raise SandboxStartError(f"the external sandbox at {self.url} is not healthy: {exc}") from None
            return self
        ready = threading.Event()
        self._thread = threading.Thread(target=self._run, args=(ready,), name="campaign-sandbox", daemon=True)
        self._thread.start()
        if not ready.wait(STARTUP_TIMEOUT):
            raise SandboxStartError(f"the in-process sandbox did not start within {STARTUP_TIMEOUT:g}s")
        error = self._error
        if isinstance(error, (ValueError, OSError)):  # bad settings or files: the message says it all
            raise SandboxStartError(f"campaign-sandbox could not start: {error}") from None
        if error is not None:
            raise SandboxStartError(f"the in-process sandbox failed to start: {error!r}") from error
        return self

    def _run(self, ready: threading.Event) -> None:
        loop = asyncio.new_event_loop()
        asyncio.set_event_loop(loop)
        self.loop = loop
        try:
            loop.run_until_complete(self._start())
        except BaseException as exc:
            self._error = exc
            ready.set()
            loop.close()
            return
        ready.set()
        try:
            loop.run_forever()
        finally:
            loop.run_until_complete(self._runner.cleanup())
            loop.close()

    async def _start(self) -> None:
        from aiohttp import web

        from sandbox.app import create_app

        assert self.settings is not None
        self.app = create_app(self.settings)
        self._runner = web.AppRunner(self.app, handle_signals=False, access_log=None, shutdown_timeout=1.0)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.settings.host, 0)
        await site.start()
        host, port = self._runner.addresses[0][:2]
        self.url = f"http://{host}:{port}"

    def stop(self) -> None:
        if self.loop is not None and self._thread is not None and self._thread.is_alive():
            self.loop.call_soon_threadsafe(self.loop.stop)
            self._thread.join(30)

    def client(self, tenant: str | None = None) -> SandboxClient:
        return SandboxClient(self.url, tenant=tenant)


@dataclasses.dataclass
class SandboxTest:
    """What the hooks need to know about one test that used the sandbox."""

    server: SandboxServer
    tenant: str

    @property
    def scoped(self) -> SandboxClient:
        """In-process the sandbox was reset for this test, so everything in it is the test's own."""
        return self.server.client(self.tenant if self.server.external else None)

    def failures(self) -> list[dict[str, Any]]:
        return self.scoped.failures()


def new_tenant() -> str:
    return "sbx-" + uuid.uuid4().hex[:16]


# -- fixtures ------------------------------------------------------------------------------------
@pytest.fixture(scope="session")
def sandbox_settings(pytestconfig: pytest.Config) -> Settings:
    """Settings of an in-process sandbox (from --sandbox-* options, ini and SANDBOX_* variables)."""
    return settings_from(pytestconfig)


@pytest.fixture(scope="session")
def sandbox_server(pytestconfig: pytest.Config, sandbox_settings: Settings) -> Iterator[SandboxServer]:
    url = option(pytestconfig, "url")
    server = SandboxServer(url=url) if url else SandboxServer(settings=sandbox_settings)
    try:
        server.start()
    except SandboxStartError as exc:  # one clear line (a bad fixture file...), not the server's traceback
        pytest.fail(str(exc), pytrace=False)
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def sandbox_tenant(request: pytest.FixtureRequest, sandbox_server: SandboxServer) -> str:
    """A fresh tenant for this test (the in-process sandbox is also reset)."""
    tenant = new_tenant()
    if not sandbox_server.external:
        sandbox_server.client().reset()
    request.node.stash[STATE] = SandboxTest(sandbox_server, tenant)
    return tenant


@pytest.fixture
def sandbox(sandbox_server: SandboxServer, sandbox_tenant: str) -> Iterator[SandboxClient]:
    """A SandboxClient bound to this test's tenant: ``sandbox.assert_request_made(...)``. The fault rules and
    rate limits the test installed for its tenant are removed after it."""
    client = sandbox_server.client(sandbox_tenant)
    yield client
    _safe(client.clear_faults, None)
    _safe(client.clear_rate_limits, None)


@pytest.fixture
def sandbox_url(sandbox_server: SandboxServer, sandbox_tenant: str) -> str:
    """Base URL of the sandbox, e.g. ``http://127.0.0.1:54321``: every vendor at its real paths."""
    return sandbox_server.url


@pytest.fixture
def webhook_receiver() -> Iterator[WebhookReceiver]:
    """A local HTTP receiver (127.0.0.1, free port) for webhooks and callbacks: ``webhook_receiver.url``."""
    with WebhookReceiver() as receiver:
        yield receiver


try:
    import pytest_aiohttp  # noqa: F401
    import pytest_asyncio
except ImportError:  # pragma: no cover - pytest-aiohttp not installed: no async fixture
    pytest_asyncio = None

if pytest_asyncio is not None:

    @pytest_asyncio.fixture
    async def sandbox_aiohttp(aiohttp_client: Any, sandbox_settings: Settings) -> Any:
        """A fresh sandbox app under pytest-aiohttp's ``aiohttp_client`` (its TestClient; the app is
        ``client.app``, the base URL ``str(client.make_url(""))``)."""
        from sandbox.app import create_app

        return await aiohttp_client(create_app(sandbox_settings))


# -- hooks ---------------------------------------------------------------------------------------
@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Iterator[None]:
    try:
        result = yield
    except BaseException:
        state = item.stash.get(STATE, None)
        if state is not None:
            failures = _safe(state.failures, [])
            if failures:
                item.add_report_section("call", "campaign-sandbox server errors", format_failures(failures))
        raise
    state = item.stash.get(STATE, None)
    if state is not None:
        failures = _safe(state.failures, [])
        if failures:
            pytest.fail("the sandbox raised an unexpected exception while answering this test's requests:\n"
                        + format_failures(failures), pytrace=False)
    return result


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[pytest.TestReport]:
    report: pytest.TestReport = yield
    state = item.stash.get(STATE, None)
    if state is None or report.when != "call" or not report.failed:
        return report
    entries = _safe(state.scoped.requests, None)
    if entries is None:
        return report
    report.sections.append(("campaign-sandbox requests", requests_table(entries)))
    outbound = _safe(state.scoped.webhooks, None)
    if outbound:
        report.sections.append(("campaign-sandbox outbound calls", webhooks_table(outbound)))
    report.sections.append(("campaign-sandbox inspector", inspector_url(state)))
    har_dir = option(item.config, "har")
    if har_dir and entries:
        path = write_har(state, Path(har_dir), item.nodeid)
        if path is not None:
            report.sections.append(("campaign-sandbox HAR", str(path)))
    return report


def inspector_url(state: SandboxTest) -> str:
    """The web inspector showing this test's requests: filtered to its tenant on a shared (external) sandbox;
    in-process the sandbox holds only this test's requests until the next test resets it."""
    query = f"?tenant={quote(state.tenant)}" if state.server.external else ""
    return f"{state.server.url}/_sandbox/ui{query}"


def write_har(state: SandboxTest, directory: Path, nodeid: str) -> Path | None:
    har = _safe(state.scoped.har, None)
    if har is None:
        return None
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / (re.sub(r"[^A-Za-z0-9_.-]+", "_", nodeid).strip("_") + ".har")
    path.write_text(json.dumps(har, indent=2, ensure_ascii=False), encoding="utf-8")
    return path


def format_failures(failures: list[dict[str, Any]]) -> str:
    parts = []
    for f in failures:
        parts.append(f"request #{f.get('id')} ({f.get('vendor')}/{f.get('operation')}): {f.get('error')}\n"
                     f"{f.get('traceback', '').rstrip()}")
    return "\n\n".join(parts)


def _safe(fn: Any, default: Any) -> Any:
    """Report helpers must never hide the test's own outcome behind a control-API error."""
    try:
        return fn()
    except (SandboxClientError, OSError, ValueError):
        return default
