"""Property: whatever the body, headers, encoding or path, every route (vendor and /_sandbox) answers JSON,
never a 5xx, and every vendor request is journaled with the answer it got."""

from __future__ import annotations

import asyncio
import gzip
import zlib
from collections.abc import Iterator
from typing import Any

import orjson
import pytest
from aiohttp.test_utils import TestClient, TestServer
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from sandbox.app import create_app
from sandbox.core import keys
from sandbox.settings import Settings

json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**63), 2**63 - 1) | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4),
    max_leaves=20)
header_names = st.sampled_from(["X-CleverTap-Account-Id", "X-CleverTap-Passcode", "Authorization", "api-key",
                                "Content-Type", "X-Anything"])
header_values = st.text(st.characters(min_codepoint=33, max_codepoint=126), max_size=30)


STREAMS = {"/_sandbox/ui/live"}
"""Control routes that answer an endless stream (the inspector's server-sent events): never "an answer"."""


class Live:
    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.client = TestClient(TestServer(create_app(Settings(population_size=300, webhooks="off"))), loop=self.loop)
        self.loop.run_until_complete(self.client.start_server())
        routes = self.loop.run_until_complete(self._json("GET", "/_sandbox/routes"))
        self.routes = [(r["method"], r["path"]) for r in routes["routes"]]
        app = self.client.server.app
        assert app is not None
        self.journal = app[keys.JOURNAL]
        self.control = sorted({(r.method, r.resource.canonical) for r in app.router.routes()
                               if r.resource is not None and r.resource.canonical.startswith("/_sandbox")
                               and r.method != "HEAD" and r.resource.canonical not in STREAMS})

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


def deep(depth: int, kind: str) -> bytes:
    """A JSON value nested ``depth`` levels (arrays, objects, or both alternating)."""
    if kind == "array":
        return b"[" * depth + b"1" + b"]" * depth
    if kind == "object":
        return b'{"a":' * depth + b"1" + b"}" * depth
    return b'{"a":[' * (depth // 2) + b"1" + b"]}" * (depth // 2)


NOT_JSON = {"/_sandbox/metrics"}
"""Control routes whose successful answer is another format (Prometheus text); their errors are JSON."""
UI_PREFIX = "/_sandbox/ui"
"""The web inspector: its page and files answer HTML, CSS and JavaScript (its data comes from the JSON API)."""
HUGE_NUMBERS = [b"1e23", b"1e308", b"-1e308", b"1e400", b"123456789012345678901234567890", b"-0", b"1E-400",
                b"18446744073709551616", b"9223372036854775808"]
NUMBER_FIELDS = ["page_size", "page_no", "sample", "advance_seconds", "limit", "value", "ttl", "schedule_time",
                 "respect_frequency_caps", "operator", "count"]
CONTENT_TYPES = ["application/json", "application/x-www-form-urlencoded", "text/plain", "multipart/form-data",
                 "application/json; charset=latin-1", "application/octet-stream", "", "*/*;;;"]
CODINGS = ["identity", "gzip", "x-gzip", "deflate", "raw-deflate", "broken-gzip", "br", "zstd", "gzip, gzip",
           "compress"]


def encode(body: bytes, coding: str) -> tuple[bytes, str]:
    if coding == "gzip, gzip":
        return gzip.compress(gzip.compress(body)), coding
    if coding in ("gzip", "x-gzip"):
        return gzip.compress(body), coding
    if coding == "deflate":
        return zlib.compress(body), coding
    if coding == "raw-deflate":
        squeeze = zlib.compressobj(wbits=-zlib.MAX_WBITS)
        return squeeze.compress(body) + squeeze.flush(), "deflate"
    if coding == "broken-gzip":
        return gzip.compress(body)[:-6] + b"garbage", "gzip"
    return body, coding


@st.composite
def hostile_bodies(draw: st.DrawFn) -> bytes:
    choice = draw(st.sampled_from(["deep", "deep-inside", "number", "numbers-in-fields", "odd-text", "json"]))
    if choice == "deep":
        return deep(draw(st.integers(60, 1100)), draw(st.sampled_from(["array", "object", "mixed"])))
    if choice == "deep-inside":
        inner = deep(draw(st.integers(60, 1100)), draw(st.sampled_from(["array", "object", "mixed"])))
        field = draw(st.sampled_from(["to", "where", "audience", "tree", "content", "recipients", "data"]))
        return b'{"' + field.encode() + b'":' + inner + b"}"
    if choice == "number":
        return draw(st.sampled_from(HUGE_NUMBERS))
    if choice == "numbers-in-fields":
        fields = draw(st.lists(st.sampled_from(NUMBER_FIELDS), min_size=1, max_size=4, unique=True))
        values = [draw(st.sampled_from([*HUGE_NUMBERS, b'"all"', b"null", b"[1]", b'["equals"]', b"{}"]))
                  for _ in fields]
        return b"{" + b",".join(b'"%s":%s' % (f.encode(), v) for f, v in zip(fields, values, strict=True)) + b"}"
    if choice == "odd-text":
        text = draw(st.text(max_size=30))
        return text.encode(draw(st.sampled_from(["utf-8", "utf-16", "utf-32"])), "surrogatepass")
    return orjson.dumps(draw(json_values), option=orjson.OPT_NON_STR_KEYS)


@hsettings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                   HealthCheck.too_slow])
@given(data=st.data())
def test_hostile_bodies_on_every_route_never_5xx_always_json_always_journaled(live: Live, data: st.DataObject) -> None:
    method, path = data.draw(st.sampled_from(live.routes + live.control))
    path = fill(path, data.draw(st.sampled_from(["1", "x", "%C2%B2", "9" * 30, "-1", "clevertap", "braze"])))
    body, coding = encode(data.draw(hostile_bodies()), data.draw(st.sampled_from(CODINGS)))
    headers = {**data.draw(st.dictionaries(header_names, header_values, max_size=3)),
               "Content-Type": data.draw(st.sampled_from(CONTENT_TYPES))}
    if coding != "identity":
        headers["Content-Encoding"] = coding
    before = live.journal._next_id
    status, content_type, raw = live.call(method, path, headers, body)
    assert status < 500, (method, path, headers, body[:200], raw[:300])
    if status < 400 and (path in NOT_JSON or path.startswith(UI_PREFIX)):
        return
    assert content_type.startswith("application/json"), (method, path, content_type, raw[:300])
    answer = orjson.loads(raw)
    if path.startswith("/_sandbox"):
        if status >= 400:
            assert set(answer) == {"error"} and {"kind", "message", "details"} <= set(answer["error"]), answer
        return
    entry = live.journal.get(before)
    assert entry is not None and entry.method == method and entry.status == status, (method, path)
    assert orjson.loads(entry.response_bytes) == answer
    rendered = live.call("GET", f"/_sandbox/requests/{before}", {}, b"")
    assert rendered[0] == 200, rendered
    har = live.call("GET", f"/_sandbox/requests.har?after={before - 1}&limit=1", {}, b"")
    assert har[0] == 200 and len(orjson.loads(har[2])["log"]["entries"]) == 1, har
