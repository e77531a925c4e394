"""The direct path (``sandbox/core/fastpath.py``): whole vendor requests are answered as soon as they are
parsed, everything else by aiohttp, on the same connections and in order; a direct answer is byte for byte
what aiohttp's path gives (bar ``Date``), and journaled the same."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import gzip
import socket
from typing import Any

import orjson
import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient
from support.http import CLEVERTAP_HEADERS, DEFAULT_SETTINGS, Api, raw_exchange, talk

from sandbox.app import create_app
from sandbox.core import fastpath, gate, pipeline

PUSH = {"to": {"Identity": ["someone"]}, "content": {"title": "t", "body": "b"}}
BRAZE = {"Authorization": "Bearer BRAZE-KEY", "Content-Type": "application/json"}
VARIABLE = ("id", "received_at", "duration_ms")
"""Journal fields that differ between two runs of the same request."""
WINDOW_END = ("Date", "X-Ratelimit-Reset")
"""Answer headers that differ between two runs that straddle a second or a rate-limit window's end."""


def wire(method: str, path: str, body: bytes = b"", headers: dict[str, str] | None = None,
         close: bool = False) -> bytes:
    """One HTTP/1.1 request as it goes on the wire."""
    lines = [f"{method} {path} HTTP/1.1", "Host: sandbox"]
    lines += [f"{name}: {value}" for name, value in (headers or {}).items()]
    if body or method == "POST":
        lines.append(f"Content-Length: {len(body)}")
    if close:
        lines.append("Connection: close")
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


def push(marker: str, **changes: Any) -> bytes:
    body = {**PUSH, "content": {"title": marker, "body": "b"}, **changes}
    return wire("POST", "/1/send/push.json", orjson.dumps(body), CLEVERTAP_HEADERS)


def answers(raw: bytes) -> list[tuple[int, dict[str, str], bytes]]:
    """The HTTP/1.1 answers in ``raw``, in order: (status, headers, body)."""
    found = []
    while raw:
        head, _, raw = raw.partition(b"\r\n\r\n")
        status_line, *lines = head.decode().split("\r\n")
        headers = dict(line.split(": ", 1) for line in lines)
        length = int(headers.get("Content-Length", 0))
        found.append((int(status_line.split(" ")[1]), headers, raw[:length]))
        raw = raw[length:]
    return found


@pytest.fixture
async def api(aiohttp_client: Any) -> Api:
    """Always in process (also when the suite runs against an external sandbox): these tests count what the
    server answered on the direct path."""
    return Api(await aiohttp_client(create_app(DEFAULT_SETTINGS)))


def slow_guard(monkeypatch: pytest.MonkeyPatch, seconds: float, *, first_only: bool) -> list[str]:
    """Make the pipeline's gate wait ``seconds`` before the handler (for the first call only, or for every
    call): a handler that suspends, as none of the vendors' does today. Returns the titles of the pushes that
    waited."""
    guard = gate.guard
    waited: list[str] = []

    async def slow(call: Any, entry: Any) -> Any:
        if not (first_only and waited):
            waited.append(call.body["content"]["title"])
            await asyncio.sleep(seconds)
        return await guard(call, entry)

    monkeypatch.setattr(gate, "guard", slow)
    return waited


def direct(client: TestClient) -> int:
    server = client.server.runner.server
    assert isinstance(server, fastpath.FastServer)
    return server.direct


async def test_pipelined_requests_are_answered_in_order_directly_or_by_aiohttp(api: Api) -> None:
    chunked = (b"POST /1/send/push.json HTTP/1.1\r\nHost: sandbox\r\nTransfer-Encoding: chunked\r\n"
               + "".join(f"{k}: {v}\r\n" for k, v in CLEVERTAP_HEADERS.items()).encode() + b"\r\n")
    body = orjson.dumps({**PUSH, "content": {"title": "fourth", "body": "b"}})
    chunked += f"{len(body):x}\r\n".encode() + body + b"\r\n0\r\n\r\n"
    raw = await raw_exchange(api.client, push("first") + wire("GET", "/_sandbox/requests?limit=1") + push("third")
                             + chunked + wire("GET", "/_sandbox/health", close=True))
    found = answers(raw)
    assert [status for status, _, _ in found] == [200] * 5
    seen_by_control = orjson.loads(found[1][2])["requests"]
    assert [orjson.loads(e["raw_body"])["content"]["title"] for e in seen_by_control] == ["first"]
    titles = [orjson.loads(e["raw_body"])["content"]["title"] for e in await api.requests(path="/1/send/push.json")]
    assert sorted(titles) == ["first", "fourth", "third"]
    # the first came alone; from the control call on, aiohttp answers what was sent with it, in order
    assert direct(api.client) == 1


async def test_a_body_sent_after_its_headers_is_answered_and_the_connection_stays_direct(api: Api) -> None:
    head, body = push("split").split(b"\r\n\r\n", 1)
    raw, _ = await talk(api.client.port, (0, head + b"\r\n\r\n"), (0.2, body),
                        (0.2, push("after", to={"Identity": []})), (0.2, wire("GET", "/_sandbox/health", close=True)))
    assert [status for status, _, _ in answers(raw)] == [200, 400, 200]
    assert direct(api.client) == 1  # the split one was aiohttp's; the one after it came whole


async def test_a_burst_after_a_split_body_is_answered_whole(aiohttp_client: Any) -> None:
    """aiohttp's parser counts a request taken before its body came as still in flight, and holds a burst's
    last requests back; its own body reads let it go on, and so must the direct path."""
    client = await aiohttp_client(create_app(dataclasses.replace(DEFAULT_SETTINGS, request_timeout=3.0)))
    head, body = push("split").split(b"\r\n\r\n", 1)
    burst = b"".join(push(f"p{i}") for i in range(40)) + wire("GET", "/_sandbox/health", close=True)
    raw, how = await talk(client.port, (0, head + b"\r\n\r\n"), (0.2, body), (0.2, burst))
    assert len(answers(raw)) == 42, how


async def test_a_handler_that_waits_holds_the_requests_behind_it(api: Api, monkeypatch: pytest.MonkeyPatch
                                                                 ) -> None:
    waited = slow_guard(monkeypatch, 0.3, first_only=True)
    raw = await raw_exchange(api.client, push("slow") + push("invalid", to={"Identity": []})
                             + wire("GET", "/_sandbox/health", close=True))
    assert waited == ["slow"]
    assert [status for status, _, _ in answers(raw)] == [200, 400, 200]
    assert direct(api.client) == 2


async def test_an_idle_direct_connection_is_closed_after_the_request_timeout(aiohttp_client: Any) -> None:
    client = await aiohttp_client(create_app(dataclasses.replace(DEFAULT_SETTINGS, request_timeout=0.5)))
    [(status, headers, _)] = answers(await raw_exchange(client, push("idle")))  # no Connection: close
    assert status == 200 and "Connection" not in headers
    assert direct(client) == 1


async def test_plain_requests_read_here_are_answered_and_journaled_as_aiohttps_parser_reads_them(api: Api
                                                                                                   ) -> None:
    """A plain request is read from the connection's bytes (``lean``); the same push with a padded header is
    not plain and goes through aiohttp's parser: same answer, same journal entry; and the plain one after it
    is answered in order too."""
    plain = push("same")
    padded = plain.replace(b"Host: sandbox", b"Host:  sandbox  ", 1)
    raw = await raw_exchange(api.client, plain + padded + plain + wire("GET", "/_sandbox/health", close=True))
    found = answers(raw)
    assert [status for status, _, _ in found] == [200] * 4
    assert found[0][2] == found[1][2] == found[2][2]
    entries = [{k: v for k, v in e.items() if k not in VARIABLE} for e in await api.requests()]
    assert len(entries) == 3 and entries[0] == entries[1] == entries[2]
    assert entries[0]["headers"]["Host"] == "sandbox"
    assert direct(api.client) == 3


@pytest.mark.parametrize("change", [(b"Host: sandbox\r\n", b""),
                                    (b"Content-Length: ", b"Content-Length: 1" + b"0" * 5000),
                                    (b"Host: sandbox\r\n", b"Host: sandbox\r\nHost: other\r\n")],
                         ids=["no Host", "a 5000-digit length", "two Hosts"])
async def test_a_request_aiohttps_parser_refuses_is_refused_as_before(api: Api, change: tuple[bytes, bytes]) -> None:
    """Not plain, so aiohttp's parser reads it, and answers its 400 (after the plain push before it)."""
    raw = await raw_exchange(api.client, push("first") + push("refused").replace(*change, 1))
    assert [status for status, _, _ in answers(raw)] == [200, 400]


EXCHANGES = [
    ("POST", "/1/send/push.json", orjson.dumps(PUSH), CLEVERTAP_HEADERS),
    ("POST", "/1/send/push.json", b'{"to": ', CLEVERTAP_HEADERS),
    ("POST", "/1/send/push.json", orjson.dumps(PUSH), {**CLEVERTAP_HEADERS, "X-CleverTap-Passcode": "WRONG"}),
    ("POST", "/1/send/sms.json", gzip.compress(orjson.dumps({"to": {"Identity": ["x"]}, "content": {"body": "b"}})),
     {**CLEVERTAP_HEADERS, "Content-Encoding": "gzip"}),
    ("GET", "/1/profile.json?identity=nobody&x=%20y", b"", CLEVERTAP_HEADERS),
    ("POST", "/users/track", orjson.dumps({"attributes": [{"external_id": "u1", "first_name": "A"}]}), BRAZE),
    ("GET", "/campaigns/list?page=0", b"", BRAZE),
    ("POST", "/messages/send", orjson.dumps({"messages": {}}), {}),
    ("POST", "/apiv2", b"type=contact&activity=add&apikey=KEY&data=%7B%7D",
     {"Content-Type": "application/x-www-form-urlencoded"}),
]


async def exchange_all(client: TestClient) -> tuple[list[Any], list[dict[str, Any]]]:
    results = []
    for method, path, body, headers in EXCHANGES:
        async with client.request(method, path, data=body, headers=headers) as resp:
            kept = {k: v for k, v in resp.headers.items() if k not in WINDOW_END}
            results.append((resp.status, kept, await resp.read()))
    async with client.get("/_sandbox/requests", params={"limit": "100"}) as resp:
        entries = [{k: v for k, v in e.items() if k not in VARIABLE} for e in (await resp.json())["requests"]]
    for entry in entries:
        entry["headers"].pop("Host")
        entry["response_headers"].pop("X-Ratelimit-Reset", None)
    return results, entries


async def test_direct_answers_and_journal_entries_are_the_ones_aiohttps_path_gives(
        aiohttp_client: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    fast = await aiohttp_client(create_app(DEFAULT_SETTINGS))
    monkeypatch.setenv(fastpath.FAST_PATH_ENV, "0")
    plain = await aiohttp_client(create_app(DEFAULT_SETTINGS))
    assert not isinstance(plain.server.runner.server, fastpath.FastServer)
    fast_results, fast_entries = await exchange_all(fast)
    plain_results, plain_entries = await exchange_all(plain)
    assert fast_results == plain_results
    assert fast_entries == plain_entries
    assert direct(fast) >= len(EXCHANGES) - 1  # a connection's first request may go aiohttp's way


@pytest.mark.parametrize("first", ["direct", "aiohttp"])
async def test_a_hundred_pipelined_requests_are_all_answered_in_order(api: Api, first: str) -> None:
    """More than aiohttp queues at once (its parser pauses and resumes), whoever answers the first."""
    lead = push("0") if first == "direct" else wire("GET", "/_sandbox/health")
    bodiless = wire("GET", "/1/profile.json?identity=nobody", headers=CLEVERTAP_HEADERS)
    raw = await raw_exchange(api.client, lead + bodiless * 99
                             + wire("GET", "/_sandbox/health", close=True))
    statuses = [status for status, _, _ in answers(raw)]
    profile_status = answers(await raw_exchange(api.client, bodiless[:-2] + b"Connection: close\r\n\r\n"))[0][0]
    assert statuses == [200] + [profile_status] * 99 + [200]


async def test_an_exception_past_the_pipeline_is_a_plain_500_and_a_closed_connection(
        api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    async def broken(*args: Any) -> Any:
        raise RuntimeError("a bug outside the pipeline's own handling")

    monkeypatch.setattr(pipeline, "answer", broken)
    raw, how = await talk(api.client.port, (0, push("first") + push("second")))
    [(status, headers, body)] = answers(raw)
    assert (status, headers["Connection"], how) == (500, "close", "closed")
    assert body.startswith(b"500 Internal Server Error")


async def test_a_waiting_handler_is_answered_before_a_graceful_shutdown_ends(
        aiohttp_client: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    slow_guard(monkeypatch, 0.5, first_only=False)
    client = await aiohttp_client(create_app(DEFAULT_SETTINGS))
    exchange = asyncio.ensure_future(talk(client.port, (0, push("waits"))))
    await asyncio.sleep(0.2)
    await client.server.runner.cleanup()
    raw, _ = await exchange
    assert [status for status, _, _ in answers(raw)] == [200]


async def test_answers_to_a_client_that_does_not_read_them_are_not_piled_up(api: Api) -> None:
    """Past the transport's high-water mark aiohttp answers (its writer waits for the client to read), so
    its queue fills and it stops reading: one connection's unread answers stay bounded."""
    sock = socket.create_connection((api.client.host, api.client.port))
    sock.setblocking(False)
    request = wire("GET", "/campaigns/list?page=0", headers={"Authorization": "Bearer BRAZE-KEY"})
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 2
    try:
        while loop.time() < deadline:
            with contextlib.suppress(BlockingIOError):
                sock.send(request * 50)
            await asyncio.sleep(0.01)
        [connection] = api.client.server.runner.server.connections
        assert connection.transport.get_write_buffer_size() < 1 << 20
    finally:
        sock.close()


def test_on_uvloop_a_waiting_handler_holds_the_requests_behind_it(monkeypatch: pytest.MonkeyPatch) -> None:
    """uvloop (``serve``'s loop) hands a connection its first bytes before aiohttp's task has started."""
    uvloop = pytest.importorskip("uvloop")
    slow_guard(monkeypatch, 0.3, first_only=True)

    async def exchange() -> bytes:
        runner = web.AppRunner(create_app(DEFAULT_SETTINGS))
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        try:
            raw, _ = await talk(runner.addresses[0][1], (0, push("slow") + push("invalid", to={"Identity": []})
                                                         + wire("GET", "/_sandbox/health", close=True)))
            return raw
        finally:
            await runner.cleanup()

    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        raw = runner.run(exchange())
    assert [status for status, _, _ in answers(raw)] == [200, 400, 200]
