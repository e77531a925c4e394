"""Shared fixtures: ``api`` talks HTTP to a fresh sandbox app (pytest-aiohttp's ``aiohttp_client``).

With ``--sandbox-url URL`` (or ``SANDBOX_URL``) ``api`` talks to that external sandbox instead (e.g. the
Docker container), resetting it before each test; tests that need other in-process Settings (modules
overriding the ``settings`` fixture) are skipped there.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

import aiohttp
import orjson
import pytest

from sandbox.app import create_app
from sandbox.pytest_plugin import option
from sandbox.settings import Settings

pytest_plugins = ("pytester",)
DEFAULT_SETTINGS = Settings(population_size=300)

CLEVERTAP_HEADERS = {"X-CleverTap-Account-Id": "ACCOUNT_ID", "X-CleverTap-Passcode": "PASSCODE",
                     "Content-Type": "application/json"}


class Api:
    """A thin HTTP client of one sandbox: vendor calls and the control API, answers parsed as JSON."""

    def __init__(self, client: Any) -> None:
        self.client = client

    async def call(self, method: str, path: str, *, json: Any = None, data: bytes | str | None = None,
                   headers: Mapping[str, str] | None = None, params: Mapping[str, str] | None = None
                   ) -> tuple[int, Any, Mapping[str, str]]:
        body = orjson.dumps(json) if json is not None else data
        async with self.client.request(method, path, data=body, headers=dict(headers or {}),
                                       params=params) as resp:
            raw = await resp.read()
            try:
                parsed = orjson.loads(raw) if raw else None
            except orjson.JSONDecodeError:
                parsed = raw.decode("utf-8", "replace")
            return resp.status, parsed, resp.headers

    async def control(self, method: str, path: str, **kwargs: Any) -> Any:
        status, body, _ = await self.call(method, "/_sandbox" + path, **kwargs)
        assert status < 400, (status, body)
        return body

    async def requests(self, **filters: Any) -> list[dict[str, Any]]:
        body = await self.control("GET", "/requests", params={k: str(v) for k, v in filters.items()})
        return body["requests"]


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
