"""Outbound webhooks: HTTP calls the sandbox really makes (to user-configured targets only), and their log.

Providers call ``Webhooks.send(...)``; it returns at once and an asyncio task makes the call, so a slow,
failing or unreachable receiver never holds up a request or changes anything else. Each attempt becomes
one ``OutboundEntry`` (direction, target URL, request, the receiver's answer or the error, attempt number)
in a bounded log served by ``GET /_sandbox/webhooks`` with the journal's filters and long poll.
A connection error, a timeout, a 429 or a 5xx is retried with exponential backoff (``RETRIES`` more times,
``BACKOFF_SECONDS`` doubling) unless the caller passes the vendor's own policy; ``--webhooks off`` turns
every call into a logged skip.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

import aiohttp
import orjson

from sandbox.core.clock import Clock, iso
from sandbox.records.journal import ENTRY_OVERHEAD, Filters, Journal, parse_json

RETRIES = 3
"""Attempts after the first when the receiver fails (connection error, timeout, 429, 5xx) [INF: the vendors
retry for hours; the sandbox keeps the same shape on a test's time scale]."""
BACKOFF_SECONDS = 0.25
"""Wait before the first retry; doubled before each further one."""
TIMEOUT_SECONDS = 10.0
"""Whole-call timeout per attempt."""
MAX_CONCURRENT = 16
"""Calls in flight at once (a campaign to many recipients queues the rest)."""
SWITCH = {"on": True, "true": True, "1": True, "yes": True, "off": False, "false": False, "0": False, "no": False}


def enabled(value: str) -> bool:
    """``--webhooks on|off``; anything else stops startup with one line."""
    found = SWITCH.get(str(value).strip().lower())
    if found is None:
        raise ValueError(f"--webhooks / SANDBOX_WEBHOOKS must be on or off, got {value!r}")
    return found


class OutboundEntry:
    """One attempt of one outbound call. Field names follow the journal's, so its filters apply."""

    __slots__ = ("_body", "attempt", "duration_ms", "error", "headers", "id", "label", "method", "operation", "path",
                 "raw_body", "response_bytes", "response_headers", "sent", "status", "tenant", "url", "vendor")

    def __init__(self, id: int, *, tenant: str | None, vendor: str, operation: str, label: str, method: str,
                 url: str, headers: Mapping[str, str], raw_body: bytes, attempt: int, sent: float) -> None:
        self.id = id
        self.tenant = tenant
        self.vendor = vendor
        self.operation = operation
        self.label = label
        self.method = method
        self.url = url
        self.path = urlsplit(url).path
        self.headers = dict(headers)
        self.raw_body = raw_body
        self.attempt = attempt
        self.sent = sent
        self.status = 0
        self.response_bytes = b""
        self.response_headers: dict[str, str] = {}
        self.error: str | None = None
        self.duration_ms = 0.0
        self._body: Any = None

    @property
    def body(self) -> Any:
        if self._body is None and self.raw_body:
            self._body = parse_json(self.raw_body)
        return self._body

    def parse_body(self) -> Any:
        """What the journal's body filters read."""
        return self.body

    @property
    def size(self) -> int:
        """What this attempt weighs in the log's byte budget (see ``Journal.append``)."""
        return len(self.raw_body) + len(self.response_bytes) + len(self.url) + ENTRY_OVERHEAD

    def as_dict(self) -> dict[str, Any]:
        return {"id": self.id, "direction": "outbound", "sent_at": iso(self.sent), "tenant": self.tenant,
                "vendor": self.vendor, "operation": self.operation, "label": self.label, "method": self.method,
                "url": self.url, "path": self.path, "headers": self.headers, "body": self.body,
                "raw_body": self.raw_body.decode("utf-8", "replace"), "attempt": self.attempt,
                "status": self.status, "response": parse_json(self.response_bytes),
                "response_text": self.response_bytes.decode("utf-8", "replace")[:2000],
                "error": self.error, "duration_ms": round(self.duration_ms, 3)}


class OutboundFilters(Filters):
    """The journal's filters plus the target ``url``, the ``attempt`` and the ``label``."""

    FIELDS = (*Filters.FIELDS, "url", "attempt", "label")


class OutboundLog(Journal):
    """Bounded log of outbound attempts (the journal's storage, filters and long poll)."""

    def add(self, **fields: Any) -> OutboundEntry:
        entry = OutboundEntry(self._next_id, **fields)
        self._next_id += 1
        return entry


class Webhooks:
    """Makes outbound calls off the request path; owns the aiohttp ClientSession (``start``/``close``)."""

    def __init__(self, switch: str, clock: Clock, limit: int = 100_000) -> None:
        self.enabled = enabled(switch)
        self.clock = clock
        self.log = OutboundLog(limit)
        self.session: aiohttp.ClientSession | None = None
        self.tasks: set[asyncio.Task[None]] = set()
        self._slots: asyncio.Semaphore | None = None

    async def start(self) -> None:
        self.session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=TIMEOUT_SECONDS))
        self._slots = asyncio.Semaphore(MAX_CONCURRENT)

    async def close(self) -> None:
        for task in list(self.tasks):
            task.cancel()
        if self.tasks:
            await asyncio.gather(*self.tasks, return_exceptions=True)
        if self.session is not None:
            await self.session.close()
            self.session = None

    def send(self, *, tenant: str | None, vendor: str, operation: str, url: str, method: str = "POST",
             headers: Mapping[str, str] | None = None, body: Any = None, label: str = "",
             retries: int = RETRIES, backoff: float = BACKOFF_SECONDS, timeout: float = TIMEOUT_SECONDS,
             refuse: str | None = None) -> None:
        """Call ``url`` soon (never now): ``body`` as given when bytes/str, else as JSON. ``refuse``: log the
        call as not made, for that reason (e.g. a target the account data does not name)."""
        raw = body if isinstance(body, bytes) else body.encode() if isinstance(body, str) \
            else b"" if body is None else orjson.dumps(body)
        sent_headers = {str(k): str(v) for k, v in (headers or {}).items()}
        if body is not None and not isinstance(body, (bytes, str)) \
                and not any(k.lower() == "content-type" for k in sent_headers):
            sent_headers["Content-Type"] = "application/json"
        fields = {"tenant": tenant, "vendor": vendor, "operation": operation, "label": label,
                  "method": str(method).upper(), "url": str(url), "headers": sent_headers, "raw_body": raw}
        reason = f"not called: {refuse}" if refuse else self._refusal(str(url))
        if reason is not None:
            entry = self.log.add(**fields, attempt=0, sent=self.clock.time(tenant))
            entry.error = reason
            self.log.append(entry)
            return
        task = asyncio.get_running_loop().create_task(self._deliver(fields, retries, backoff, timeout))
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    def _refusal(self, url: str) -> str | None:
        if not self.enabled:
            return "not called: outbound webhooks are off (--webhooks off)"
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            return f"not called: {url[:200]!r} is not an http(s) URL"
        if self.session is None:
            return "not called: the sandbox is not serving"
        return None

    async def _deliver(self, fields: dict[str, Any], retries: int, backoff: float, timeout: float) -> None:
        assert self.session is not None and self._slots is not None
        for attempt in range(1, retries + 2):
            entry = self.log.add(**fields, attempt=attempt, sent=self.clock.time(fields["tenant"]))
            started = time.perf_counter()
            async with self._slots:
                try:
                    async with self.session.request(entry.method, entry.url, headers=entry.headers,
                                                    data=entry.raw_body or None, allow_redirects=False,
                                                    timeout=aiohttp.ClientTimeout(total=timeout)) as resp:
                        entry.status = resp.status
                        entry.response_headers = dict(resp.headers)
                        entry.response_bytes = await resp.content.read(64 * 1024)
                except (aiohttp.ClientError, TimeoutError, OSError, ValueError) as exc:
                    entry.error = f"{type(exc).__name__}: {exc}"[:500] if str(exc) else type(exc).__name__
            entry.duration_ms = (time.perf_counter() - started) * 1000
            self.log.append(entry)
            if entry.error is None and entry.status != 429 and entry.status < 500:
                return
            if attempt <= retries:
                await asyncio.sleep(backoff * 2 ** (attempt - 1))

    def reset(self, tenant: str | None) -> None:
        self.log.clear(tenant)



