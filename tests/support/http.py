"""Talking HTTP to a sandbox in tests: the ``Api`` helper, the default in-process settings and vendor headers."""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import Callable, Mapping
from typing import Any

import orjson

from sandbox.settings import Settings

DEFAULT_SETTINGS = Settings(population_size=300, webhooks="off")
"""Tests make no outbound calls unless they ask for them (tests/engagement/ point webhooks at 127.0.0.1)."""

CLEVERTAP_HEADERS = {"X-CleverTap-Account-Id": "ACCOUNT_ID", "X-CleverTap-Passcode": "PASSCODE",
                     "Content-Type": "application/json"}


def clevertap_headers(account: str = "ACCOUNT_ID") -> dict[str, str]:
    """CleverTap's headers for ``account`` (its tenant)."""
    return {**CLEVERTAP_HEADERS, "X-CleverTap-Account-Id": account}


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
        """Every matching journal entry, following the ``next`` cursor page by page."""
        params = {k: str(v) for k, v in filters.items()}
        found: list[dict[str, Any]] = []
        while True:
            body = await self.control("GET", "/requests", params=params)
            found += body["requests"]
            if body.get("next") is None or "limit" in filters:
                return found
            params["after"] = str(body["next"])

    async def user(self, predicate: Callable[[dict[str, Any]], bool]) -> dict[str, Any]:
        """The first generated profile (of the first 500) that ``predicate`` accepts: tests name the traits
        they need instead of relying on what one seed happens to give one user."""
        profiles = (await self.control("GET", "/profiles", params={"limit": "500"}))["profiles"]
        found = next((p for p in profiles if predicate(p)), None)
        assert found is not None, "no generated profile has the traits this test needs"
        return found


async def talk(port: int, *steps: tuple[float, bytes], timeout: float = 20) -> tuple[bytes, str]:
    """On one raw connection to ``port``, send each step's bytes (as they go on the wire) after its pause in
    seconds, then read until the server closes: (what was read, "closed", or "timeout" if it did not)."""
    def exchange() -> tuple[bytes, str]:
        with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
            for pause, data in steps:
                if pause:
                    time.sleep(pause)
                sock.sendall(data)
            got = b""
            try:
                while chunk := sock.recv(65536):
                    got += chunk
            except TimeoutError:
                return got, "timeout"
            return got, "closed"

    return await asyncio.get_running_loop().run_in_executor(None, exchange)


async def raw_exchange(client: Any, request: bytes) -> bytes:
    """Send ``request`` on a raw socket to ``client``'s server and read whatever comes back until the server
    closes (which it must, within 20 s)."""
    answer, ended = await talk(client.port, (0, request))
    assert ended == "closed", f"the server kept the connection open; it answered {answer[:200]!r}"
    return answer
