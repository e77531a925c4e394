"""The inspector in a real browser: headless Chromium (Debian's ``chromium``) driven by Playwright's Python package.

Chromium is looked up as ``$SANDBOX_CHROMIUM``, ``chromium`` or ``chromium-browser`` on PATH; when it is
missing and the tests run as root on a machine with apt-get, it is installed once (``apt-get install -y
chromium``). Where no browser can be had the tests are skipped with the reason, except under CI (``CI`` set,
as ``.ci/run`` does), where that is an error: CI must run them.

The sandbox runs in-process on a real port (aiohttp ``TestServer`` on 127.0.0.1, its own loop in a thread),
one per test session and worker, reset before each test. Screenshots of each view are written to
``$SANDBOX_ARTIFACTS/browser/`` when that is set, else to ``<pytest basetemp>/browser-screenshots/``; each
test's report lists its files (``screenshot`` user properties, also in ``--junitxml``).
"""

from __future__ import annotations

import asyncio
import fcntl
import os
import shutil
import subprocess
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer
from support.browser import Sandbox
from support.http import DEFAULT_SETTINGS

from sandbox.app import create_app

INSTALL_LOCK = Path("/tmp/campaign-sandbox-chromium.lock")


def find_chromium() -> str | None:
    for candidate in (os.environ.get("SANDBOX_CHROMIUM"), shutil.which("chromium"), shutil.which("chromium-browser")):
        if candidate and Path(candidate).exists():
            return candidate
    return None


def install_chromium() -> str:
    """apt-get install chromium (root only; once, whichever worker gets the lock first). Returns what happened."""
    if os.geteuid() != 0 or shutil.which("apt-get") is None:
        return "not root, or no apt-get: install Debian's chromium package by hand"
    with INSTALL_LOCK.open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if find_chromium():
            return "installed"
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        for command in (["apt-get", "update", "-q"], ["apt-get", "install", "-y", "-q", "chromium"]):
            done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=1200, check=False)
            if done.returncode != 0:
                return f"{' '.join(command)} failed: {done.stderr.strip()[-500:]}"
    return "installed"


def unavailable(reason: str) -> None:
    message = f"BROWSER TESTS NOT RUN: {reason}"
    if os.environ.get("CI"):
        pytest.fail(message + " (CI must run the browser tests)", pytrace=False)
    pytest.skip(message)


@pytest.fixture(scope="session")
def chromium() -> str:
    found = find_chromium()
    if found is None:
        outcome = install_chromium()
        found = find_chromium()
        if found is None:
            unavailable(f"no chromium on PATH ({outcome})")
    assert found is not None
    return found


@pytest.fixture(scope="session")
def browser(chromium: str) -> Iterator[Any]:
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        unavailable("the playwright package is missing (pip install -e '.[test]')")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, headless=True)
        yield browser
        browser.close()


class Served:
    """An app served on 127.0.0.1 by its own event loop in a thread (the browser and the test share none)."""

    def __init__(self, app: web.Application) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, name="sandbox-under-test", daemon=True)
        self.thread.start()
        self.server = TestServer(app, host="127.0.0.1", port=0)
        asyncio.run_coroutine_threadsafe(self.server.start_server(), self.loop).result(120)
        self.url = str(self.server.make_url("")).rstrip("/")

    def close(self) -> None:
        asyncio.run_coroutine_threadsafe(self.server.close(), self.loop).result(30)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(30)


@pytest.fixture(scope="session")
def serve() -> Iterator[Callable[[web.Application], Sandbox]]:
    """Serve an app for the rest of the session: ``serve(create_app(settings))`` -> a Sandbox at its URL."""
    started: list[Served] = []

    def start(app: web.Application) -> Sandbox:
        started.append(Served(app))
        return Sandbox(started[-1].url)

    yield start
    for served in started:
        served.close()


@pytest.fixture(scope="session")
def shared_sandbox(serve: Callable[[web.Application], Sandbox]) -> Sandbox:
    return serve(create_app(DEFAULT_SETTINGS))


@pytest.fixture
def live_sandbox(shared_sandbox: Sandbox) -> Sandbox:
    shared_sandbox.control("POST", "/reset")
    return shared_sandbox


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    context.set_default_timeout(10_000)
    page = context.new_page()
    yield page
    context.close()


@pytest.fixture(scope="session")
def artifacts(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = os.environ.get("SANDBOX_ARTIFACTS")
    path = Path(root) / "browser" if root else tmp_path_factory.getbasetemp() / "browser-screenshots"
    path.mkdir(parents=True, exist_ok=True)
    return path


@pytest.fixture
def screenshot(page: Any, artifacts: Path, request: pytest.FixtureRequest) -> Callable[[str], Path]:
    """``screenshot("deliveries")`` writes ``<artifacts>/<test name>-deliveries.png`` (the whole page)."""
    def take(view: str) -> Path:
        path = artifacts / f"{request.node.name}-{view}.png"
        page.screenshot(path=str(path), full_page=True)
        request.node.user_properties.append(("screenshot", str(path)))
        return path

    return take
