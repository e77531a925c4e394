"""Property: whatever the body, headers or path, every vendor route answers JSON and never a 5xx."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import orjson
import pytest
from aiohttp.test_utils import TestClient, TestServer
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from sandbox.app import create_app
from sandbox.settings import Settings

json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**63), 2**63 - 1) | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4),
    max_leaves=20)
header_names = st.sampled_from(["X-CleverTap-Account-Id", "X-CleverTap-Passcode", "Authorization", "api-key",
                                "Content-Type", "X-Anything"])
header_values = st.text(st.characters(min_codepoint=33, max_codepoint=126), max_size=30)


class Live:
    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.client = TestClient(TestServer(create_app(Settings(population_size=300, webhooks="off"))), loop=self.loop)
        self.loop.run_until_complete(self.client.start_server())
        routes = self.loop.run_until_complete(self._json("GET", "/_sandbox/routes"))
        self.routes = [(r["method"], r["path"]) for r in routes["routes"]]

    async def _json(self, method: str, path: str) -> Any:
        async with self.client.request(method, path) as resp:
            return await resp.json()

    def call(self, method: str, path: str, headers: dict[str, str], body: bytes) -> tuple[int, str, bytes]:
        async def go() -> tuple[int, str, bytes]:
            async with self.client.request(method, path, headers=headers, data=body) as resp:
                return resp.status, resp.headers.get("Content-Type", ""), await resp.read()
        return self.loop.run_until_complete(go())

    def close(self) -> None:
        self.loop.run_until_complete(self.client.close())
        self.loop.close()


@pytest.fixture(scope="module")
def live() -> Iterator[Live]:
    server = Live()
    yield server
    server.close()


def fill(path: str, value: str) -> str:
    import re
    return re.sub(r"\{[^}]+\}", lambda _: value or "x", path)


@hsettings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_no_body_or_header_gets_a_5xx_or_non_json(live: Live, data: st.DataObject) -> None:
    method, path = data.draw(st.sampled_from(live.routes))
    if data.draw(st.booleans()):
        method = data.draw(st.sampled_from(["GET", "POST", "PUT", "DELETE", "PATCH"]))
    path = fill(path, data.draw(st.text(st.characters(min_codepoint=48, max_codepoint=122, exclude_characters="\\/"),
                                         max_size=8)))
    headers = data.draw(st.dictionaries(header_names, header_values, max_size=4))
    if data.draw(st.booleans()):
        body = orjson.dumps(data.draw(json_values), option=orjson.OPT_NON_STR_KEYS)
    else:
        body = data.draw(st.binary(max_size=64))
    status, content_type, raw = live.call(method, path, headers, body)
    assert status < 500, (method, path, headers, body, raw)
    assert content_type.startswith("application/json"), (method, path, content_type, raw)
    orjson.loads(raw)


@hsettings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(path=st.text(st.characters(min_codepoint=33, max_codepoint=126, exclude_characters="?#%/"), max_size=40))
def test_unknown_paths_answer_json(live: Live, path: str) -> None:
    status, content_type, raw = live.call("GET", "/" + path, {}, b"")
    assert status < 500 and content_type.startswith("application/json")
    orjson.loads(raw)
