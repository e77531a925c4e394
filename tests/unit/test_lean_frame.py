"""``lean.Heads.frame`` reads a plain request exactly as aiohttp's parser reads the same bytes (method, path, raw
headers, body, where the next request starts), and frames nothing aiohttp might read differently: those
bytes go to aiohttp's parser. Generated requests (names and values over the whole allowed alphabet) are read
by both and compared."""

from __future__ import annotations

import asyncio
import random
import string
from unittest import mock

import pytest
from aiohttp.http_parser import HttpRequestParser

from sandbox.core import lean

BODY = b'{"to":{"Identity":["someone"]}}'


async def aiohttp_reads(data: bytes) -> list[tuple[str, str, tuple[tuple[bytes, bytes], ...], bytes]]:
    """(method, path, raw headers, body) of every request aiohttp's parser reads whole from ``data``."""
    connection = mock.Mock(_reading_paused=False)  # what the parser's payload streams ask of their connection
    parser = HttpRequestParser(connection, asyncio.get_running_loop(), 2**16, max_line_size=8190,
                               max_field_size=8190)
    messages, _, _ = parser.feed_data(data)
    read = []
    for message, payload in messages:
        assert payload.is_eof(), "a framed request is all there"
        read.append((message.method, message.path, message.raw_headers, payload.read_nowait()))
    return read


def request(method: str = "POST", target: str = "/1/send/push.json", lines: list[str] | None = None,
            body: bytes = BODY) -> bytes:
    head = [f"{method} {target} HTTP/1.1", "Host: sandbox", *(lines or [])]
    if body:
        head.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(head) + "\r\n\r\n").encode() + body


def framed(data: bytes, heads: lean.Heads | None = None
           ) -> list[tuple[str, str, tuple[tuple[bytes, bytes], ...], bytes]]:
    """What ``Heads.frame`` reads from ``data``; its text headers must say what its raw ones do."""
    heads = heads or lean.Heads()
    out = []
    while data:
        found = heads.frame(data)
        assert found is not None
        assert list(found.headers.items()) == [(k.decode(), v.decode()) for k, v in found.raw_headers]
        out.append((found.method, found.target, found.raw_headers, found.body))
        data = data[found.end:]
    return out


PLAIN = [
    request(),
    request(lines=["X-CleverTap-Account-Id: A", "X-CleverTap-Passcode: P", "Content-Type: application/json"]),
    request("GET", "/_sandbox/requests?limit=1&x=%20y", body=b""),
    request(lines=["Accept-Encoding: gzip, deflate", "User-Agent: Python/3.11 aiohttp/3.14", "X: inner\ttab",
                   "Y:tight"]),
    request(lines=["Connection: keep-alive", "Set: 1", "Set: 2", "Authorization:Bearer KEY"]),
    request("DELETE", "/x", body=b""),
    request(body=b"\x00\xff binary"),
    request() + request("GET", "/_sandbox/health", body=b"") + request(body=b"{}"),
]


@pytest.mark.parametrize("data", PLAIN, ids=range(len(PLAIN)))
async def test_a_plain_request_is_framed_as_aiohttp_reads_it(data: bytes) -> None:
    assert framed(data) == await aiohttp_reads(data)


NOT_PLAIN = {
    "chunked": request(lines=["Transfer-Encoding: chunked"], body=b"") + b"2\r\n{}\r\n0\r\n\r\n",
    "expect": request(lines=["Expect: 100-continue"]),
    "upgrade": request(lines=["Upgrade: websocket", "Connection: Upgrade"]),
    "connection close": request(lines=["Connection: close"]),
    "HTTP/1.0": request().replace(b"HTTP/1.1", b"HTTP/1.0", 1),
    "absolute form": request(target="http://sandbox/1/send/push.json"),
    "lower-case method": request(method="post"),
    "folded line": request(lines=["X-Long: a", " continued"]),
    "padded value": request(lines=["X-Padded: value "]),
    "two spaces before a value": request(lines=["X-Padded:  value"]),
    "empty value": request(lines=["X-Empty:"]),
    "space before the colon": request(lines=["X-Name : value"]),
    "non-ASCII value": request(lines=["X-Name: caf\u00e9"]),
    "control byte": request(lines=["X-Name: a\x01b"]),
    "bare LF": request().replace(b"\r\nHost", b"\nHost", 1),
    "two Content-Lengths": request(lines=[f"Content-Length: {len(BODY)}"]),
    "signed Content-Length": request(body=b"").replace(b"\r\n\r\n", b"\r\nContent-Length: +2\r\n\r\n{}", 1),
    "body not all there": request()[:-3],
    "headers not all there": request()[:20],
    "head too long": request(lines=[f"X-Long: {'a' * lean.MAX_HEAD}"]),
    "tab before a value": request(lines=["X-Name:\tvalue"]),
    "a Content-Length of 5000 digits": request(body=b"").replace(b"\r\n\r\n", b"\r\nContent-Length: " + b"1" * 5000
                                                                 + b"\r\n\r\n", 1),
    "no Host": request().replace(b"Host: sandbox\r\n", b"", 1),
    "two Hosts": request(lines=["host: other"]),
    "two Content-Types": request(lines=["Content-Type: a/b", "content-type: a/b"]),
    "two User-Agents": request(lines=["User-Agent: a", "User-Agent: a"]),
    "Sec-WebSocket-Key1": request(lines=["Sec-WebSocket-Key1: x"]),
}


@pytest.mark.parametrize("data", NOT_PLAIN.values(), ids=NOT_PLAIN.keys())
def test_what_is_not_plain_is_left_to_aiohttp(data: bytes) -> None:
    assert lean.Heads().frame(data) is None


async def test_a_head_seen_before_is_read_again_with_its_own_length_and_body() -> None:
    """Heads are kept by their bytes but the ``Content-Length`` value: the next request with the same head and
    another body reads as aiohttp reads it, and a value that is not a length there is not framed."""
    heads = lean.Heads()
    first, second = request(body=b'{"a":1}'), request(body=b'{"a":[1,2,3]}')
    assert framed(first, heads) == await aiohttp_reads(first)
    assert framed(second, heads) == await aiohttp_reads(second)
    assert framed(second + first, heads) == await aiohttp_reads(second + first)
    assert heads.frame(second.replace(b"Content-Length: 13", b"Content-Length: 1x", 1)) is None
    assert heads.frame(second.replace(b"Content-Length: 13", b"Content-Length:  13", 1)) is None
    assert heads.frame(second[:-1]) is None
    assert heads.frame(second.replace(b"Content-Length: 13", b"Content-Length: " + b"9" * 5000, 1)) is None


TCHAR = string.ascii_letters + string.digits + "!#$%&'*+-.^_`|~"
VCHAR = "".join(chr(c) for c in range(0x21, 0x7F))


async def test_generated_plain_requests_are_framed_as_aiohttp_reads_them() -> None:
    """Each read twice (the second time from the kept head), and once with another body."""
    rng = random.Random(15)
    heads = lean.Heads()
    for _ in range(300):
        lines = []
        for _ in range(rng.randint(0, 12)):
            name = "".join(rng.choices(TCHAR, k=rng.randint(1, 12)))
            if name.lower() in ("content-length", "transfer-encoding", "connection", "upgrade", "expect", "host"):
                continue
            inner = "".join(rng.choices(VCHAR + " \t", k=rng.randint(0, 20)))
            value = rng.choice(VCHAR) + (inner + rng.choice(VCHAR) if inner else "")
            lines.append(f"{name}:{rng.choice(['', ' '])}{value}")
        target = "/" + "".join(rng.choices(VCHAR.replace("#", ""), k=rng.randint(0, 30)))
        body = rng.randbytes(rng.randint(0, 64))
        method = rng.choice(["GET", "POST", "PUT", "DELETE", "PATCH"])
        data = request(method, target, lines, body)
        assert framed(data, heads) == framed(data, heads) == await aiohttp_reads(data), data
        other = request(method, target, lines, rng.randbytes(rng.randint(1, 64)))
        assert framed(other, heads) == await aiohttp_reads(other), other
