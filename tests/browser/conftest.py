"""The inspector in a real browser: headless Chromium (Debian's ``chromium``) driven by Playwright's Python package.

Chromium is looked up as ``$SANDBOX_CHROMIUM``, ``chromium`` or ``chromium-browser`` on PATH; when it is
missing and the tests run as root on a machine with apt-get, it is installed once (``apt-get install -y
chromium``). Where no browser can be had the tests are skipped with the reason, except in CI (``CI`` or
``SANDBOX_REQUIRE_BROWSER`` set, as ``.ci/run`` does), where that is an error: CI must run them.

Playwright's async API shares the test's event loop with the sandbox, which is served in-process on a real
port (pytest-aiohttp's ``aiohttp_server`` on 127.0.0.1). Screenshots of each view are written to
``$SANDBOX_ARTIFACTS/browser/`` when that is set, else to ``<pytest basetemp>/browser-screenshots/``; each
test's report lists its files (``screenshot`` user properties, also in ``--junitxml``).
"""

from __future__ import annotations

import fcntl
import os
import shutil
import subprocess
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from support.http import DEFAULT_SETTINGS, Api

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
    if os.environ.get("SANDBOX_REQUIRE_BROWSER") or os.environ.get("CI"):
        pytest.fail(message + " (SANDBOX_REQUIRE_BROWSER/CI is set: they must run)", pytrace=False)
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


@pytest.fixture
async def browser(chromium: str) -> AsyncIterator[Any]:
    try:
        from playwright.async_api import async_playwright
    except ImportError:
        unavailable("the playwright package is missing (pip install -e '.[test]')")
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=chromium, headless=True)
        yield browser
        await browser.close()


class Served:
    """A sandbox on a real port: its base URL (for the browser) and an ``Api`` (for the test's own calls)."""

    def __init__(self, url: str, api: Api) -> None:
        self.url = url
        self.api = api


@pytest.fixture
def serve(aiohttp_server: Any, aiohttp_client: Any) -> Callable[..., Awaitable[Served]]:
    async def start(app: Any = None) -> Served:
        server = await aiohttp_server(app if app is not None else create_app(DEFAULT_SETTINGS), host="127.0.0.1")
        return Served(str(server.make_url("")).rstrip("/"), Api(await aiohttp_client(server)))

    return start


@pytest.fixture
async def sandbox_under_test(serve: Callable[..., Awaitable[Served]]) -> Served:
    return await serve()


@pytest.fixture
async def page(browser: Any) -> AsyncIterator[Any]:
    context = await browser.new_context(viewport={"width": 1400, "height": 900})
    context.set_default_timeout(10_000)
    page = await context.new_page()
    yield page
    await context.close()


@pytest.fixture(scope="session")
def artifacts(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = os.environ.get("SANDBOX_ARTIFACTS")
    path = Path(root) / "browser" if root else tmp_path_factory.getbasetemp() / "browser-screenshots"
    path.mkdir(parents=True, exist_ok=True)
    return path


@pytest.fixture
def screenshot(page: Any, artifacts: Path, request: pytest.FixtureRequest) -> Callable[[str], Awaitable[Path]]:
    """``await screenshot("deliveries")`` writes ``<artifacts>/<test name>-deliveries.png`` (the whole page)."""
    async def take(view: str) -> Path:
        path = artifacts / f"{request.node.name}-{view}.png"
        await page.screenshot(path=str(path), full_page=True)
        request.node.user_properties.append(("screenshot", str(path)))
        return path

    return take
