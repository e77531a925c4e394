"""The request journal: every request that reaches a vendor route, with the answer it got.

Entries are compact ``__slots__`` objects holding raw bytes; their JSON views are parsed lazily when the
control API reads them, so appending is O(1) and cheap. The journal is bounded: the oldest entries are
evicted first and counted.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Callable, Iterator, Mapping
from typing import Any, Self

from sandbox.core import safejson
from sandbox.core.clock import iso

_MISSING = object()
CACHED_VIEW_BYTES = 64 * 1024
"""Parsed views of larger bodies are not kept on the entry (the journal's byte budget counts raw bytes)."""
ENTRY_OVERHEAD = 400
"""Bytes an entry costs beyond its bodies and headers (the object, its fields, the parsed views' share)."""


class Entry:
    __slots__ = ("_body", "_response", "duration_ms", "fault", "form", "header_block", "hint", "id", "method",
                 "notes", "operation", "path", "query", "raw_body", "received", "response_bytes", "response_headers",
                 "status", "tenant", "vendor")

    def __init__(self, id: int, received: float, method: str, path: str, query: str,
                 raw_headers: tuple[tuple[bytes, bytes], ...], raw_body: bytes) -> None:
        self.id = id
        self.received = received
        self.method = method
        self.path = path
        self.query = query
        # One bytes object instead of 2n+1 small ones: a journal of 100k entries stays compact for the GC.
        self.header_block = b"\n".join(map(b"\0".join, raw_headers))
        self.raw_body = raw_body
        self.form = False
        self.tenant: str | None = None
        self.vendor: str | None = None
        self.operation: str | None = None
        self.status = 0
        self.response_bytes = b""
        self.response_headers: tuple[tuple[str, str], ...] = ()
        """The answer's headers as the pipeline set them (``Content-Type``, a vendor's rate-limit headers...)."""
        self.duration_ms = 0.0
        self.notes: tuple[str, ...] = ()
        """What the sandbox did beyond the vendor's answer (e.g. "provisioned clevertap channel 'x'")."""
        self.hint: str | None = None
        """For a rejection the user can fix with account data: the fixture file / control-API collection."""
        self.fault: dict[str, Any] | None = None
        """``{"rule", "effect"}`` when a fault rule answered this request (``sandbox.core.faults``)."""
        self._body: Any = _MISSING
        self._response: Any = _MISSING

    @property
    def body(self) -> Any:
        """The body parsed as JSON (a dict for form bodies), or None when it is neither."""
        if self._body is not _MISSING:
            return self._body
        body = self.parse_body()
        if len(self.raw_body) <= CACHED_VIEW_BYTES:
            self._body = body
        return body

    def parse_body(self) -> Any:
        """``body`` without keeping it: scans over the whole journal (filters) leave no parsed trees behind for
        the garbage collector to walk."""
        if self._body is not _MISSING:
            return self._body
        if self.form:
            return query_dict(self.raw_body.decode("utf-8", "replace"))
        return safejson.loads_or_none(self.raw_body)

    @property
    def headers(self) -> tuple[tuple[str, str], ...]:
        if not self.header_block:
            return ()
        pairs = (line.split(b"\0", 1) for line in self.header_block.split(b"\n"))
        return tuple((k.decode("latin-1"), v.decode("latin-1")) for k, v in pairs)

    @property
    def response(self) -> Any:
        if self._response is not _MISSING:
            return self._response
        response = safejson.loads_or_none(self.response_bytes, RESPONSE_DEPTH)
        if len(self.response_bytes) <= CACHED_VIEW_BYTES:
            self._response = response
        return response

    @property
    def size(self) -> int:
        """What this entry weighs in the journal's byte budget."""
        return len(self.raw_body) + len(self.response_bytes) + len(self.header_block) + len(self.path) \
            + len(self.query) + ENTRY_OVERHEAD

    @property
    def received_at(self) -> str | None:
        try:
            return iso(self.received)
        except (OverflowError, ValueError, OSError):  # a clock moved beyond what a date can show
            return None

    def as_dict(self, keep: bool = True) -> dict[str, Any]:
        """The entry as JSON; ``keep=False`` parses the body and answer without keeping them on the entry
        (exports of the whole journal)."""
        return {
            "id": self.id,
            "received_at": self.received_at,
            "tenant": self.tenant,
            "vendor": self.vendor,
            "operation": self.operation,
            "method": self.method,
            "path": self.path,
            "query": query_dict(self.query),
            "headers": dict(self.headers),
            "body": self.body if keep else self.parse_body(),
            "raw_body": self.raw_body.decode("utf-8", "replace"),
            "status": self.status,
            "response": self.response if keep or self._response is not _MISSING
            else safejson.loads_or_none(self.response_bytes, RESPONSE_DEPTH),
            "response_headers": dict(self.response_headers),
            "duration_ms": round(self.duration_ms, 3),
            "notes": list(self.notes),
            "hint": self.hint,
            "fault": self.fault,
        }


RESPONSE_DEPTH = 2 * safejson.MAX_DEPTH
"""Answers may wrap an echoed body a few levels deeper than the deepest body accepted."""


def parse_json(raw: bytes) -> Any:
    """The JSON view of stored bytes: None when empty, not JSON, or nested too deep to render safely."""
    return safejson.loads_or_none(raw, RESPONSE_DEPTH)


def query_dict(query: str) -> dict[str, str | list[str]]:
    from urllib.parse import parse_qsl

    out: dict[str, str | list[str]] = {}
    for key, value in parse_qsl(query, keep_blank_values=True):
        if key in out:
            prior = out[key]
            out[key] = [*prior, value] if isinstance(prior, list) else [prior, value]
        else:
            out[key] = value
    return out


class Filters:
    """Entry filters from query parameters: exact fields, ``after`` id, and ``body.<dotted.path>=value``."""

    FIELDS = ("vendor", "operation", "tenant", "method", "path", "status")

    __slots__ = ("after", "body", "exact")

    def __init__(self, exact: Mapping[str, str], body: Mapping[str, str], after: int = 0) -> None:
        self.exact = dict(exact)
        self.body = dict(body)
        self.after = after

    @classmethod
    def from_query(cls, query: Mapping[str, str]) -> Self:
        exact = {k: v for k, v in query.items() if k in cls.FIELDS}
        body = {k[5:]: v for k, v in query.items() if k.startswith("body.")}
        after = int(query.get("after", 0) or 0)
        return cls(exact, body, after)

    def __call__(self, entry: Entry) -> bool:
        if entry.id <= self.after:
            return False
        for key, wanted in self.exact.items():
            value = getattr(entry, key)
            if key == "method":
                if str(value).upper() != wanted.upper():
                    return False
            elif ("" if value is None else str(value)) != wanted:
                return False
        if not self.body:
            return True
        body = entry.parse_body()
        return all(_dotted_matches(body, path, wanted) for path, wanted in self.body.items())


def _integer(text: str) -> bool:
    """``text`` is an integer ``int()`` reads (ASCII digits: ``"²".isdigit()`` is true, ``int("²")`` fails)."""
    digits = text[1:] if text.startswith("-") else text
    return digits.isascii() and digits.isdigit()


def dotted(doc: Any, path: str, default: Any = None) -> Any:
    """The value at ``a.b.0.c`` in a parsed JSON document (list indexes may be negative), else ``default``."""
    node = doc
    for part in path.split("."):
        if isinstance(node, dict) and part in node:
            node = node[part]
        elif isinstance(node, list) and _integer(part) and -len(node) <= int(part) < len(node):
            node = node[int(part)]
        else:
            return default
    return node


def _dotted_matches(doc: Any, path: str, wanted: str) -> bool:
    node = dotted(doc, path, _MISSING)
    if node is _MISSING:
        return False
    return _scalar_text(node) == wanted or (isinstance(node, list) and wanted in map(_scalar_text, node))


def _scalar_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    if isinstance(value, (dict, list)):
        return safejson.dumps(value).decode()
    return str(value)


class Journal:
    """Bounded, append-only log of entries with increasing ids; waiters are woken on each append.

    Bounded twice: at most ``limit`` entries and ``max_bytes`` of bodies and headers; the oldest entries are
    evicted first and counted in ``evicted``."""

    def __init__(self, limit: int = 100_000, max_bytes: int = 256 * 1024 * 1024) -> None:
        self.limit = limit
        self.max_bytes = max_bytes
        self._entries: deque[Entry] = deque()
        self._next_id = 1
        self.evicted = 0
        self.bytes = 0
        self.closing = False
        """Set at shutdown: long polls answer with what they have instead of waiting on."""
        self.clears = 0
        """How many times ``clear`` removed entries (live views reload their list when it changes)."""
        self._waiters: set[asyncio.Future[None]] = set()

    def open(self, received: float, method: str, path: str, query: str,
             raw_headers: tuple[tuple[bytes, bytes], ...], raw_body: bytes) -> Entry:
        """Create the entry for a request that just arrived; it is appended when its answer is known."""
        entry = Entry(self._next_id, received, method, path, query, raw_headers, raw_body)
        self._next_id += 1
        return entry

    def append(self, entry: Entry) -> None:
        size = entry.size
        entries = self._entries
        while entries and (len(entries) >= self.limit or self.bytes + size > self.max_bytes):
            self.bytes -= entries.popleft().size
            self.evicted += 1
        entries.append(entry)
        self.bytes += size
        if self._waiters:
            self.wake()

    def wake(self) -> None:
        """Resolve every waiter (each append does; so does shutdown, to end long-lived live views)."""
        for waiter in self._waiters:
            if not waiter.done():
                waiter.set_result(None)
        self._waiters.clear()

    def next_append(self) -> asyncio.Future[None]:
        """A future resolved at the next append: live views wait on it, so an append costs O(1) per view."""
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiters.add(waiter)
        return waiter

    def __len__(self) -> int:
        return len(self._entries)

    @property
    def opened(self) -> int:
        """How many requests were ever received (ids handed out): grows with every vendor call."""
        return self._next_id - 1

    def __iter__(self) -> Iterator[Entry]:
        return iter(self._entries)

    def get(self, entry_id: int) -> Entry | None:
        for entry in reversed(self._entries):
            if entry.id == entry_id:
                return entry
            if entry.id < entry_id:
                break
        return None

    def since(self, after: int) -> list[Entry]:
        """Entries with an id above ``after``, oldest first; walks back from the newest, so O(new entries)."""
        found: list[Entry] = []
        for entry in reversed(self._entries):
            if entry.id <= after:
                break
            found.append(entry)
        found.reverse()
        return found

    def select(self, match: Callable[[Entry], bool]) -> list[Entry]:
        return [e for e in self._entries if match(e)]

    async def select_async(self, match: Callable[[Entry], bool]) -> list[Entry]:
        """``select`` that hands the event loop back every few milliseconds (long journals, body filters)."""
        budget = LoopBudget()
        found: list[Entry] = []
        for number, entry in enumerate(list(self._entries)):
            if match(entry):
                found.append(entry)
            if number % 64 == 0:
                await budget.spend()
        return found

    def clear(self, tenant: str | None = None) -> int:
        before = len(self._entries)
        if tenant is None:
            self._entries.clear()
        else:
            self._entries = deque(e for e in self._entries if e.tenant != tenant)
        self.bytes = sum(e.size for e in self._entries)
        removed = before - len(self._entries)
        if removed:
            self.clears += 1
            self.wake()
        return removed

    async def wait(self, match: Callable[[Entry], bool], count: int, timeout: float) -> list[Entry]:
        """Wait until ``count`` entries match (or ``timeout`` seconds pass); return the matching ones."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            found = await self.select_async(match)
            remaining = deadline - loop.time()
            if len(found) >= count or remaining <= 0 or self.closing:
                return found
            waiter: asyncio.Future[None] = loop.create_future()
            self._waiters.add(waiter)
            try:
                await asyncio.wait_for(waiter, remaining)
            except TimeoutError:
                pass
            finally:
                self._waiters.discard(waiter)

    def wake_all(self) -> None:
        """Answer every long poll now with what it has, and every later one at once (shutdown)."""
        self.closing = True
        self.wake()


class LoopBudget:
    """Long loops in a handler call ``await budget.spend()`` often; it yields to the event loop once
    ``slice_seconds`` passed since the last yield, so other requests (health checks) wait at most about that."""

    __slots__ = ("last", "slice_seconds")

    def __init__(self, slice_seconds: float = 0.015) -> None:
        self.slice_seconds = slice_seconds
        self.last = time.perf_counter()

    async def spend(self) -> None:
        now = time.perf_counter()
        if now - self.last >= self.slice_seconds:
            await asyncio.sleep(0)
            self.last = time.perf_counter()


DEFAULT_PAGE = 100
"""Entries ``GET /_sandbox/requests`` answers without a ``limit``."""
MAX_PAGE = 1_000
"""The largest ``limit`` honoured: bigger pages would hold the event loop (and the answer) too long."""


PAGE_BYTES = 8 * 1024 * 1024
"""A page also ends once its entries hold this many bytes (large bodies): answers stay small and quick."""


def page(entries: list[Entry], limit: int | None) -> tuple[list[Entry], int | None]:
    """(the first ``limit`` entries, oldest first, fewer when they hold more than ``PAGE_BYTES``; the cursor to
    page on with ``after=``, None on the last page)."""
    size = min(limit or DEFAULT_PAGE, MAX_PAGE)
    shown: list[Entry] = []
    held = 0
    for entry in entries[:size]:
        held += entry.size
        if shown and held > PAGE_BYTES:
            break
        shown.append(entry)
    return shown, (shown[-1].id if len(entries) > len(shown) else None)
