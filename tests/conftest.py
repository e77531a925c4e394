"""Shared fixtures: ``api`` talks HTTP to a fresh sandbox app (pytest-aiohttp's ``aiohttp_client``).

With ``--sandbox-url URL`` (or ``SANDBOX_URL``) ``api`` talks to that external sandbox instead (e.g. the
Docker container), resetting it before each test; tests that need other in-process Settings (modules
overriding the ``settings`` fixture) are skipped there.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import aiohttp
import pytest
from support.http import DEFAULT_SETTINGS, Api

from sandbox.app import create_app
from sandbox.pytest_plugin import option
from sandbox.settings import Settings

pytest_plugins = ("pytester",)

@pytest.fixture
def settings() -> Settings:
    """Override in a test module to start the app with other settings."""
    return DEFAULT_SETTINGS


@pytest.fixture
def external_url(pytestconfig: pytest.Config) -> str | None:
    """The external sandbox under test (``--sandbox-url`` / ``SANDBOX_URL``), or None for in-process."""
    return option(pytestconfig, "url")


@pytest.fixture
async def api(aiohttp_client: Any, external_url: str | None, settings: Settings) -> Any:
    if external_url is None:
        yield Api(await aiohttp_client(create_app(settings)))
        return
    if settings != DEFAULT_SETTINGS:
        changed = ", ".join(f"{f.name}={getattr(settings, f.name)!r}" for f in dataclasses.fields(settings)
                            if getattr(settings, f.name) != getattr(DEFAULT_SETTINGS, f.name))
        pytest.skip(f"needs an in-process sandbox with {changed}; the external sandbox at {external_url} "
                    "runs with its own settings")
    async with aiohttp.ClientSession(base_url=external_url.rstrip("/") + "/") as session:
        external = Api(session)
        await external.control("POST", "/reset")
        yield external
