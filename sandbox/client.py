"""SandboxClient: a small synchronous client of the ``/_sandbox`` control API, for tests and scripts.

Standard library only (``urllib``). A client bound to a tenant (``tenant=``) scopes every query, ``clear``
and ``reset`` to that tenant, so parallel tests sharing one sandbox never see each other's requests.
Assertions explain themselves: when nothing matches, the AssertionError lists the closest recorded requests
and what differed (missing key, other value, other operation), the way WireMock reports near misses.

    client = SandboxClient("http://127.0.0.1:8080", tenant="ACCOUNT_ID")
    client.assert_request_made(vendor="<vendor>", operation="send_push", body={"content": {"title": "Hi"}})
"""

from __future__ import annotations

import json
import os
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

__all__ = ["ANY", "Installed", "Match", "SandboxClient", "SandboxClientError"]

SERVER_FIELDS = ("vendor", "operation", "method", "path", "status")
"""Matcher fields the server filters on (``GET /_sandbox/requests?vendor=...``)."""
MAX_SERVER_WAIT = 60.0
"""The server caps one long poll at this many seconds; longer waits poll again."""
TOKEN_ENV = "SANDBOX_CONTROL_TOKEN"
"""The environment variable holding the control token (the server reads the same one)."""
NEAR_MISSES = 3


class _Any:
    """Matches any value (``body={"id": ANY}`` asserts the key is present)."""

    def __eq__(self, other: object) -> bool:
        return True

    def __hash__(self) -> int:
        return 0

    def __repr__(self) -> str:
        return "ANY"


ANY: Any = _Any()


class SandboxClientError(Exception):
    """The control API answered with an error, or could not be reached."""

    def __init__(self, message: str, status: int | None = None, body: Any = None) -> None:
        super().__init__(message)
        self.status = status
        self.body = body


# -- matching -------------------------------------------------------------------------------------
def short(value: Any, limit: int = 60) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def partial_diff(expected: Any, actual: Any, where: str) -> list[str]:
    """What differs between ``expected`` (a partial document) and ``actual``; empty when it matches.

    Objects match when every expected key is present and matches (extra keys are ignored); lists match
    element by element and must have the same length; ``ANY`` matches anything; other values must be equal
    (``1`` does not match ``True``).
    """
    if isinstance(expected, _Any):
        return []
    if isinstance(expected, Mapping):
        if not isinstance(actual, Mapping):
            return [f"{where}: expected an object, got {short(actual)}"]
        out: list[str] = []
        for key, value in expected.items():
            path = f"{where}.{key}" if where else str(key)
            if key not in actual:
                out.append(f"{path}: missing (expected {short(value)})")
            else:
                out.extend(partial_diff(value, actual[key], path))
        return out
    if isinstance(expected, (list, tuple)):
        if not isinstance(actual, list) or len(actual) != len(expected):
            return [f"{where}: expected {short(list(expected))}, got {short(actual)}"]
        return [line for i, (e, a) in enumerate(zip(expected, actual, strict=True))
                for line in partial_diff(e, a, f"{where}[{i}]")]
    if type(expected) is not type(actual) and not (_number(expected) and _number(actual)):
        return [f"{where}: expected {short(expected)}, got {short(actual)}"]
    return [] if expected == actual else [f"{where}: expected {short(expected)}, got {short(actual)}"]


def _number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def leaves(doc: Any) -> int:
    if isinstance(doc, Mapping):
        return sum(leaves(v) for v in doc.values()) or 1
    if isinstance(doc, (list, tuple)):
        return sum(leaves(v) for v in doc) or 1
    return 1


@dataclass(frozen=True)
class Match:
    """A request matcher: exact ``vendor``/``operation``/``method``/``path``/``status``, partial ``body``,
    ``headers`` (names case-insensitive) and ``query``."""

    vendor: str | None = None
    operation: str | None = None
    method: str | None = None
    path: str | None = None
    status: int | None = None
    body: Any = None
    headers: Mapping[str, Any] | None = None
    query: Mapping[str, Any] | None = None
    extra: Mapping[str, Any] = field(default_factory=dict)
    """Other server-side filters passed through as query parameters (e.g. ``{"body.to.Identity": "x"}``)."""

    @classmethod
    def of(cls, spec: Match | Mapping[str, Any]) -> Match:
        if isinstance(spec, Match):
            return spec
        known = {k: v for k, v in spec.items() if k in cls.__dataclass_fields__ and k != "extra"}
        return cls(**known, extra={k: v for k, v in spec.items() if k not in known})

    def server_params(self) -> dict[str, Any]:
        params = {name: getattr(self, name) for name in SERVER_FIELDS if getattr(self, name) is not None}
        params.update(self.extra)
        return params

    def diff(self, entry: Mapping[str, Any]) -> list[str]:
        """Why ``entry`` does not match (empty when it does)."""
        out = []
        for name in SERVER_FIELDS:
            wanted = getattr(self, name)
            got = entry.get(name)
            if wanted is None:
                continue
            if name == "method" and str(got).upper() == str(wanted).upper():
                continue
            if wanted != got:
                out.append(f"{name}: expected {short(wanted)}, got {short(got)}")
        if self.body is not None:
            out.extend(partial_diff(self.body, entry.get("body"), "body"))
        if self.headers:
            received = {str(k).lower(): v for k, v in (entry.get("headers") or {}).items()}
            for name, value in self.headers.items():
                if name.lower() not in received:
                    out.append(f"headers.{name}: missing (expected {short(value)})")
                elif not isinstance(value, _Any) and str(value) != received[name.lower()]:
                    out.append(f"headers.{name}: expected {short(value)}, got {short(received[name.lower()])}")
        if self.query:
            received_query = entry.get("query") or {}
            for name, value in self.query.items():
                if name not in received_query:
                    out.append(f"query.{name}: missing (expected {short(value)})")
                elif not isinstance(value, _Any) and _query_text(value) != received_query[name]:
                    out.append(f"query.{name}: expected {short(value)}, got {short(received_query[name])}")
        return out

    def matches(self, entry: Mapping[str, Any]) -> bool:
        return not self.diff(entry) and all(_extra_matches(entry, k, v) for k, v in self.extra.items())

    def score(self, entry: Mapping[str, Any]) -> tuple[int, ...]:
        """Higher is closer: operation, vendor, path, method equality, then matching body/header/query keys."""
        differences = self.diff(entry)
        fields_equal = [getattr(self, name) is None or not any(d.startswith(name + ":") for d in differences)
                        for name in ("operation", "vendor", "path", "method")]
        wanted = sum(leaves(doc) for doc in (self.body, self.headers, self.query) if doc)
        # A key present with another value is closer than a missing key.
        penalty = sum(2 if d.endswith(")") and ": missing (" in d else 1 for d in differences
                      if d.startswith(("body", "headers.", "query.")))
        return (*map(int, fields_equal), 2 * wanted - penalty, int(entry.get("id") or 0))

    def describe(self) -> str:
        parts = [f"{name}={getattr(self, name)!r}" for name in (*SERVER_FIELDS, "body", "headers", "query")
                 if getattr(self, name) is not None]
        parts += [f"{k}={v!r}" for k, v in self.extra.items()]
        return ", ".join(parts) or "(any request)"


def _query_text(value: Any) -> Any:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (list, tuple)):
        return [_query_text(v) for v in value]
    return str(value)


def _extra_matches(entry: Mapping[str, Any], key: str, wanted: Any) -> bool:
    """Client-side check of pass-through filters the server already applied (``body.a.b``, ``tenant``...)."""
    if key == "tenant":
        return entry.get("tenant") == wanted
    return True


def entry_line(entry: Mapping[str, Any]) -> str:
    what = f"{entry.get('vendor') or '-'}/{entry.get('operation') or '-'}"
    return f"#{entry.get('id')} {entry.get('method')} {entry.get('path')}  {what} -> {entry.get('status')}"


def requests_table(entries: Sequence[Mapping[str, Any]], limit: int = 50) -> str:
    """A short table of requests: id, method, path, vendor/operation, status, tenant; under each rejected one
    (4xx/5xx) the vendor's answer, so a failure report says why."""
    if not entries:
        return "(no requests)"
    rows = [("#", "METHOD", "PATH", "VENDOR/OPERATION", "STATUS", "TENANT")]
    for e in entries[:limit]:
        rows.append((str(e.get("id")), str(e.get("method")), str(e.get("path")),
                     f"{e.get('vendor') or '-'}/{e.get('operation') or '-'}", str(e.get("status")),
                     str(e.get("tenant") or "-")))
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    lines = []
    for row, entry in zip(rows, [None, *entries[:limit]], strict=True):
        lines.append("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip())
        if entry is not None and int(entry.get("status") or 0) >= 400:
            lines.append("    answer: " + short(entry.get("response"), 200))
            if entry.get("hint"):
                lines.append("    hint: " + str(entry["hint"]))
    if len(entries) > limit:
        lines.append(f"... and {len(entries) - limit} more")
    return "\n".join(lines)


def webhooks_table(entries: Sequence[Mapping[str, Any]], limit: int = 50) -> str:
    """A short table of outbound calls: id, method, URL, vendor/operation, attempt, answer or error."""
    if not entries:
        return "(no outbound calls)"
    rows = [("#", "METHOD", "URL", "VENDOR/OPERATION", "ATTEMPT", "ANSWER")]
    for e in entries[:limit]:
        url = str(e.get("url"))
        rows.append((str(e.get("id")), str(e.get("method")), url if len(url) <= 80 else url[:77] + "...",
                     f"{e.get('vendor') or '-'}/{e.get('operation') or '-'}", str(e.get("attempt")),
                     str(e.get("status")) if not e.get("error") else short(e.get("error"), 80)))
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    lines = ["  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip() for row in rows]
    if len(entries) > limit:
        lines.append(f"... and {len(entries) - limit} more")
    return "\n".join(lines)


# -- the client -----------------------------------------------------------------------------------
class SandboxClient:
    """Synchronous client of one sandbox's control API, optionally bound to one tenant."""

    def __init__(self, base_url: str | None = None, *, tenant: str | None = None, timeout: float = 30.0,
                 token: str | None = None) -> None:
        base_url = base_url or os.environ.get("SANDBOX_URL") or "http://127.0.0.1:8080"
        self.base_url = base_url.rstrip("/")
        self.tenant = tenant
        self.timeout = timeout
        self.token = token or os.environ.get(TOKEN_ENV) or None
        """The control token (``--control-token`` of the server); default: ``SANDBOX_CONTROL_TOKEN``."""

    def __repr__(self) -> str:
        return f"SandboxClient({self.base_url!r}, tenant={self.tenant!r})"

    def for_tenant(self, tenant: str | None) -> SandboxClient:
        """The same sandbox, bound to another tenant (None: every tenant)."""
        return SandboxClient(self.base_url, tenant=tenant, timeout=self.timeout, token=self.token)

    def unscoped(self) -> SandboxClient:
        return self.for_tenant(None)

    # -- HTTP -------------------------------------------------------------------------------------
    def call(self, method: str, path: str, *, params: Mapping[str, Any] | None = None, json_body: Any = None,
             timeout: float | None = None, raw: bool = False) -> Any:
        """One control API call; the JSON answer (or the raw bytes). Raises SandboxClientError on 4xx/5xx."""
        url = self.base_url + path
        query = encode_params(params or {})
        if query:
            url += "?" + query
        data = None if json_body is None else json.dumps(json_body).encode()
        request = urllib.request.Request(url, data=data, method=method)
        if self.token:
            request.add_header("Authorization", f"Bearer {self.token}")
        if data is not None:
            request.add_header("Content-Type", "application/json")
        try:
            with urllib.request.urlopen(request, timeout=timeout or self.timeout) as resp:
                payload = resp.read()
        except urllib.error.HTTPError as exc:
            body = exc.read()
            try:
                parsed: Any = json.loads(body)
            except ValueError:
                parsed = body.decode("utf-8", "replace")
            raise SandboxClientError(f"{method} {path} -> {exc.code}: {parsed}", exc.code, parsed) from None
        except (urllib.error.URLError, OSError) as exc:
            reason = getattr(exc, "reason", exc)
            raise SandboxClientError(f"cannot reach the sandbox at {self.base_url}: {reason}") from None
        if raw:
            return payload
        return json.loads(payload) if payload else None

    def _scoped(self, params: Mapping[str, Any]) -> dict[str, Any]:
        out = {k: v for k, v in params.items() if v is not None}
        if self.tenant is not None:
            out.setdefault("tenant", self.tenant)
        return out

    # -- journal ----------------------------------------------------------------------------------
    def requests(self, *, body: Any = None, headers: Mapping[str, Any] | None = None,
                 query: Mapping[str, Any] | None = None, **filters: Any) -> list[dict[str, Any]]:
        """Recorded requests, oldest first. Exact filters (vendor, operation, method, path, status, after,
        limit, ``body.<dotted.path>``...) run on the server; ``body``/``headers``/``query`` match partially."""
        match = Match.of({**filters, "body": body, "headers": headers, "query": query})
        server = dict(match.server_params())
        found = self._pages(self._scoped(server), every="limit" not in server)
        return [e for e in found if match.matches(e)]

    def _pages(self, params: Mapping[str, Any], *, every: bool = True) -> list[dict[str, Any]]:
        """``GET /_sandbox/requests`` answers one page and a ``next`` cursor: follow it (unless ``every`` is off)."""
        params = dict(params)
        found: list[dict[str, Any]] = []
        while True:
            answer = self.call("GET", "/_sandbox/requests", params=params)
            found += answer["requests"]
            if not every or answer.get("next") is None:
                return found
            params["after"] = answer["next"]

    def last_request(self, **filters: Any) -> dict[str, Any] | None:
        found = self.requests(**filters)
        return found[-1] if found else None

    def request(self, entry_id: int) -> dict[str, Any]:
        return self.call("GET", f"/_sandbox/requests/{entry_id}")

    def har(self, *, mask: bool = True, **filters: Any) -> dict[str, Any]:
        """The recorded requests as a HAR 1.2 document (credentials masked unless ``mask=False``)."""
        params = self._scoped(filters)
        if not mask:
            params["mask"] = "0"
        return self.call("GET", "/_sandbox/requests.har", params=params)

    def clear(self) -> int:
        """Forget the recorded requests (this tenant's, when bound); the number cleared."""
        return self.call("DELETE", "/_sandbox/requests", params=self._scoped({}))["cleared"]

    def reset(self, tenant: str | None = None) -> dict[str, Any]:
        """Reset state (journal, deliveries, vendor state) of ``tenant``, the bound tenant, or everything."""
        tenant = tenant or self.tenant
        return self.call("POST", "/_sandbox/reset", params={"tenant": tenant} if tenant else {})

    def wait_for_request(self, timeout: float = 5.0, count: int = 1, **filters: Any) -> list[dict[str, Any]]:
        """Block until ``count`` matching requests were recorded (server-side long poll); return them.

        Raises AssertionError with the closest recorded requests when ``timeout`` seconds pass first.
        """
        match = Match.of(filters)
        params = self._scoped(match.server_params())
        deadline = time.monotonic() + timeout
        seen = -1
        while True:
            remaining = deadline - time.monotonic()
            wait = max(0.0, min(remaining, MAX_SERVER_WAIT))
            wanted = max(seen + 1, count)
            answer = self.call("GET", "/_sandbox/requests",
                               params={"limit": min(max(wanted, 100), 1000), **params, "wait": f"{wait:.3f}",
                                       "count": wanted}, timeout=wait + self.timeout)
            entries = answer["requests"]
            found = [e for e in entries if match.matches(e)]
            if len(found) >= count:
                return found
            if time.monotonic() >= deadline:
                raise AssertionError(self._near_miss_message(
                    f"Timed out after {timeout:g}s waiting for {count} request(s) matching {match.describe()}; "
                    f"{len(found)} arrived.", match, exclude=found))
            seen = len(entries)

    # -- other state ------------------------------------------------------------------------------
    def deliveries(self, **filters: Any) -> list[dict[str, Any]]:
        """What would have been sent (filters: vendor, campaign_id, user, channel, platform)."""
        return self.call("GET", "/_sandbox/deliveries", params=self._scoped(filters))["deliveries"]

    def delivery_funnel(self, **filters: Any) -> dict[str, int]:
        """How many matching deliveries reached each lifecycle status so far (``{"sent": N, "delivered": M...}``)."""
        return self.call("GET", "/_sandbox/deliveries", params=self._scoped({**filters, "limit": 1}))["funnel"]

    def skipped(self, **filters: Any) -> list[dict[str, Any]]:
        """Users sends left out, each with its ``reason`` (``unsubscribed``, ``no_channel``, ``control_group``,
        ``frequency_capped``...) and vendor ``detail`` (filters: vendor, campaign_id, user, channel, platform,
        reason). Past a run's first 500 a record has ``user: None`` and ``count`` users."""
        return self.call("GET", "/_sandbox/deliveries/skipped", params=self._scoped(filters))["skipped"]

    def skipped_counts(self, **filters: Any) -> dict[str, int]:
        """Users skipped per reason, e.g. ``{"unsubscribed": 12, "control_group": 30}`` (same filters)."""
        return self.call("GET", "/_sandbox/deliveries/skipped", params=self._scoped({**filters, "limit": 1}))["counts"]

    def wait_for_delivery(self, status: str = "delivered", timeout: float = 5.0, count: int = 1,
                          **filters: Any) -> list[dict[str, Any]]:
        """Block until ``count`` deliveries matching ``filters`` (vendor, campaign_id, user, channel...) have
        reached ``status`` (their history contains it); advance the clock first for steps hours away.
        Raises AssertionError with the funnel so far when ``timeout`` seconds pass first."""
        deadline = time.monotonic() + timeout
        while True:
            found = self.deliveries(status=status, **filters)
            if len(found) >= count:
                return found
            if time.monotonic() >= deadline:
                funnel = self.delivery_funnel(**filters)
                described = ", ".join(f"{k}={v!r}" for k, v in filters.items()) or "(any delivery)"
                raise AssertionError(
                    f"Timed out after {timeout:g}s waiting for {count} delivery(ies) with {described} to reach "
                    f"{status!r}; {len(found)} did. Funnel so far: {funnel}. Steps happen on the sandbox clock: "
                    "advance it (sandbox.advance_clock(seconds)) past the step's time.")
            time.sleep(min(0.1, max(0.0, deadline - time.monotonic())))

    def webhooks(self, **filters: Any) -> list[dict[str, Any]]:
        """Outbound calls the sandbox made (one entry per attempt; filters: vendor, operation, method, url,
        status, attempt, label, ``body.<dotted.path>``...)."""
        return self.call("GET", "/_sandbox/webhooks", params=self._scoped(filters))["webhooks"]

    def assert_webhook_sent(self, url: str | None = None, *, vendor: str | None = None, method: str | None = None,
                            body: Any = None, headers: Mapping[str, Any] | None = None, count: int = 1,
                            timeout: float = 5.0, answered: bool = True, **filters: Any) -> list[dict[str, Any]]:
        """Wait until ``count`` outbound calls to ``url`` (exact) matching ``vendor``/``method``, partial
        ``body``/``headers`` and server ``filters`` were made; with ``answered`` only calls the receiver
        answered 2xx count. Raises AssertionError listing the closest calls."""
        match = Match.of({"vendor": vendor, "method": method, "body": body, "headers": headers})
        params = self._scoped({**match.server_params(), "url": url, **filters})
        deadline = time.monotonic() + timeout
        while True:
            remaining = max(0.0, deadline - time.monotonic())
            wait = min(remaining, MAX_SERVER_WAIT)
            entries = self.call("GET", "/_sandbox/webhooks",
                                params={**params, "wait": f"{wait:.3f}", "count": count},
                                timeout=wait + self.timeout)["webhooks"]
            found = [e for e in entries if match.matches(e) and (not answered or 200 <= e["status"] < 300)]
            if len(found) >= count:
                return found
            if time.monotonic() >= deadline:
                everything = self.webhooks()
                lines = [f"Expected {count} outbound call(s) to {url or '(any URL)'} matching {match.describe()}"
                         f"{' answered 2xx' if answered else ''}; {len(found)} made in {timeout:g}s."]
                lines.append(webhooks_table(everything) if everything else
                             "No outbound calls were made: is the webhook/callback configured, and --webhooks on?")
                for e in sorted(everything, key=lambda e: (e.get("url") == url, match.score(e)),
                                reverse=True)[:NEAR_MISSES]:
                    why = match.diff(e) + ([f"url: expected {url}, got {e.get('url')}"]
                                           if url is not None and e.get("url") != url else [])
                    lines.append(f"  #{e.get('id')}: " + ("; ".join(why) or e.get("error") or
                                                           f"answered {e.get('status')}"))
                raise AssertionError("\n".join(lines))
            if wait <= 0:
                time.sleep(0.05)

    def profiles(self, identity: str | None = None, **params: Any) -> Any:
        """``GET /_sandbox/profiles`` (query parameters as given), or one profile by identity; a bound
        client sees its tenant's writes."""
        if identity is not None:
            return self.call("GET", "/_sandbox/profiles/" + urllib.parse.quote(identity, safe=""),
                             params=self._scoped(params))
        return self.call("GET", "/_sandbox/profiles", params=self._scoped(params))

    def add(self, vendor: str, collection: str, item: Any) -> list[Any]:
        """Add dashboard data at run time (a campaign, segment, template, channel... or a list of them) for the
        bound tenant (unbound: every tenant): ``POST /_sandbox/vendors/<vendor>/<collection>``."""
        return self.call("POST", f"/_sandbox/vendors/{vendor}/{collection}", params=self._scoped({}),
                         json_body=item)["added"]

    def data(self, vendor: str, collection: str) -> list[Any]:
        """What ``collection`` holds for the bound tenant: fixtures, run-time additions and objects learned
        from requests (``"provisioned": true``)."""
        return self.call("GET", f"/_sandbox/vendors/{vendor}/{collection}", params=self._scoped({}))["items"]

    def remove(self, vendor: str, collection: str, item_id: Any) -> None:
        """Drop a run-time addition or a learned object of the bound tenant (unbound: an every-tenant one)."""
        self.call("DELETE", f"/_sandbox/vendors/{vendor}/{collection}/{urllib.parse.quote(str(item_id), safe='')}",
                  params=self._scoped({}))

    def estimate(self, body: Mapping[str, Any] | None = None, **fields: Any) -> Any:
        """``POST /_sandbox/audience/estimate`` with ``body`` (and/or keyword fields) as the JSON body; a
        bound client estimates over its tenant's view of the population."""
        return self.call("POST", "/_sandbox/audience/estimate", json_body=self._scoped({**(body or {}), **fields}))

    def advance_clock(self, seconds: float) -> str:
        """Move the sandbox clock forward and run what came due: the bound tenant's clock only, or every
        tenant's when unbound. The new time (ISO 8601)."""
        return self.call("POST", "/_sandbox/clock", params=self._scoped({}),
                         json_body={"advance_seconds": seconds})["now"]

    def set_clock(self, when: str) -> str:
        """Move the clock forward to ``when`` (ISO 8601 with a zone); bound tenant only, or every tenant."""
        return self.call("POST", "/_sandbox/clock", params=self._scoped({}), json_body={"now": when})["now"]

    def now(self) -> str:
        """The sandbox time of the bound tenant (unbound: the shared clock)."""
        return self.call("GET", "/_sandbox/clock", params=self._scoped({}))["now"]

    def health(self) -> dict[str, Any]:
        return self.call("GET", "/_sandbox/health")

    def failures(self, **filters: Any) -> list[dict[str, Any]]:
        """Unexpected server-side exceptions (with tracebacks) recorded while answering requests."""
        return self.call("GET", "/_sandbox/failures", params=self._scoped(filters))["failures"]

    # -- faults and rate limits -------------------------------------------------------------------
    def fault(self, vendor: str | None = None, operation: str | None = None, **rule: Any) -> Installed:
        """Install a fault rule for the bound tenant (every tenant when unbound); see docs/faults.md.

        ``with sandbox.fault("<vendor>", "<operation>", status=503, times=2) as rule: ...`` removes it after
        the block (``rule["hits"]`` is refreshed then); without ``with`` it stays until removed or reset.
        """
        spec = {"vendor": vendor, "operation": operation, **rule}
        created = self.call("POST", "/_sandbox/faults", params=self._scoped({}),
                            json_body={k: v for k, v in spec.items() if v is not None})
        return Installed(created, lambda: self._remove_fault(created["id"]))

    def _remove_fault(self, rule_id: str) -> dict[str, Any]:
        try:
            return self.call("DELETE", f"/_sandbox/faults/{rule_id}")["rule"]
        except SandboxClientError as exc:
            if exc.status == 404:  # already gone (reset, or removed by the test)
                return {}
            raise

    def faults(self) -> list[dict[str, Any]]:
        """Installed fault rules with their ``matched`` and ``hits`` counts (the bound tenant's and global)."""
        return self.call("GET", "/_sandbox/faults", params=self._scoped({}))["faults"]

    def clear_faults(self) -> int:
        """Remove the bound tenant's fault rules (every rule when unbound); how many went."""
        return self.call("DELETE", "/_sandbox/faults", params=self._scoped({}))["deleted"]

    def rate_limit(self, vendor: str | None = None, *, enabled: bool = True, **limits: int) -> Installed:
        """Enforce the vendors' rate limits for the bound tenant, lowering ``limits`` (by limit or operation
        name): ``sandbox.rate_limit("<vendor>", users_track=2)``. As a context manager, undone after."""
        body: dict[str, Any] = {"enabled": enabled}
        if vendor is not None:
            body.update({"vendor": vendor, "limits": limits})
        state = self.call("POST", "/_sandbox/limits", params=self._scoped({}), json_body=body)
        return Installed(state, self.clear_rate_limits)

    def rate_limits(self) -> dict[str, Any]:
        """The vendors' documented limits, whether they are enforced, and the overrides."""
        return self.call("GET", "/_sandbox/limits", params=self._scoped({}))

    def clear_rate_limits(self) -> dict[str, Any]:
        """Drop the bound tenant's rate-limit overrides and counters (everyone's when unbound)."""
        return self.call("DELETE", "/_sandbox/limits", params=self._scoped({}))

    def metrics(self) -> str:
        """``GET /_sandbox/metrics``: Prometheus text."""
        return self.call("GET", "/_sandbox/metrics", raw=True).decode()

    # -- assertions -------------------------------------------------------------------------------
    def assert_request_made(self, vendor: str | None = None, operation: str | None = None,
                            count: int | None = None, *, body: Any = None, headers: Mapping[str, Any] | None = None,
                            query: Mapping[str, Any] | None = None, **filters: Any) -> list[dict[str, Any]]:
        """At least one matching request (exactly ``count`` when given); returns the matching ones."""
        match = Match.of({**filters, "vendor": vendor, "operation": operation, "body": body, "headers": headers,
                          "query": query})
        entries = self._all()
        found = [e for e in entries if match.matches(e)]
        if count is None and found:
            return found
        if count is not None and len(found) == count:
            return found
        if found:
            lines = [f"Expected exactly {count} request(s) matching {match.describe()}, found {len(found)}:"]
            lines += ["  " + entry_line(e) for e in found]
            raise AssertionError("\n".join(lines))
        wanted = "at least one request" if count is None else f"exactly {count} request(s)"
        raise AssertionError(self._near_miss_message(
            f"Expected {wanted} matching {match.describe()}, found none.", match, entries=entries))

    def assert_no_request(self, vendor: str | None = None, operation: str | None = None, **matcher: Any) -> None:
        match = Match.of({**matcher, "vendor": vendor, "operation": operation})
        found = [e for e in self._all() if match.matches(e)]
        if found:
            lines = [f"Expected no request matching {match.describe()}, found {len(found)}:"]
            lines += ["  " + entry_line(e) for e in found]
            raise AssertionError("\n".join(lines))

    def assert_requests_in_order(self, matchers: Iterable[Match | Mapping[str, Any]]) -> list[dict[str, Any]]:
        """The matchers match recorded requests in this order (other requests may come in between)."""
        wanted = [Match.of(m) for m in matchers]
        entries = self._all()
        picked: list[dict[str, Any]] = []
        position = 0
        for step, match in enumerate(wanted, 1):
            hit = next((i for i in range(position, len(entries)) if match.matches(entries[i])), None)
            if hit is None:
                earlier = [e for e in entries[:position] if match.matches(e)]
                lines = [f"Expected requests in order; step {step} of {len(wanted)} ({match.describe()}) "
                         f"has no match after the previous step."]
                if picked:
                    lines.append("Matched so far:")
                    lines += [f"  {n}. {entry_line(e)}" for n, e in enumerate(picked, 1)]
                if earlier:
                    lines.append("It matches earlier requests (wrong order): "
                                 + ", ".join(f"#{e['id']}" for e in earlier))
                lines.append("Recorded requests:")
                lines += ["  " + entry_line(e) for e in entries] or ["  (none)"]
                if entries[position:]:
                    lines = [self._near_miss_message("\n".join(lines), match, entries=entries[position:])]
                raise AssertionError("\n".join(lines))
            picked.append(entries[hit])
            position = hit + 1
        return picked

    def assert_all_requests_accepted(self) -> None:
        """Fails listing every request the sandbox rejected (4xx/5xx) or did not know (unknown path)."""
        rejected = [e for e in self._all() if int(e.get("status") or 0) >= 400 or not e.get("operation")]
        if not rejected:
            return
        lines = [f"{len(rejected)} request(s) were rejected by the sandbox:"]
        for e in rejected:
            lines.append("  " + entry_line(e))
            lines.append("      response: " + short(e.get("response"), 200))
            if e.get("hint"):
                lines.append("      hint: " + str(e["hint"]))
        raise AssertionError("\n".join(lines))

    def assert_delivered(self, user: str | None = None, channel: str | None = None,
                         campaign_id: str | int | None = None, count: int | None = None,
                         **filters: Any) -> list[dict[str, Any]]:
        """Deliveries (what would have been sent) exist for ``user``/``channel``/``campaign_id``."""
        wanted = {k: v for k, v in {**filters, "user": user, "channel": channel,
                                    "campaign_id": None if campaign_id is None else str(campaign_id)}.items()
                  if v is not None}
        found = self.deliveries(**wanted)
        if (count is None and found) or (count is not None and len(found) == count):
            return found
        described = ", ".join(f"{k}={v!r}" for k, v in wanted.items()) or "(any delivery)"
        expected = "at least one delivery" if count is None else f"exactly {count} deliveries"
        lines = [f"Expected {expected} with {described}, found {len(found)}."]
        everything = self.deliveries()
        if everything:
            lines.append(f"Recorded deliveries ({len(everything)}):")
            for d in everything[:20]:
                lines.append(f"  #{d.get('id')} {d.get('vendor')} campaign={d.get('campaign_id')} "
                             f"user={d.get('user')} channel={d.get('channel')} platform={d.get('platform')}")
        else:
            lines.append("No deliveries were recorded" + (f" for tenant {self.tenant!r}." if self.tenant else "."))
        skipped = self.skipped(**{k: v for k, v in wanted.items() if k != "platform"})
        if skipped:
            lines.append(f"Skipped ({len(skipped)}):")
            for s in skipped[:20]:
                who = s.get("user") if s.get("user") is not None else f"{s.get('count')} more users"
                lines.append(f"  {s.get('vendor')} campaign={s.get('campaign_id')} user={who} "
                             f"channel={s.get('channel')}: {s.get('reason')}" + (f" ({s['detail']})" if s.get("detail")
                                                                                else ""))
        raise AssertionError("\n".join(lines))

    # -- helpers ----------------------------------------------------------------------------------
    def _all(self) -> list[dict[str, Any]]:
        return self._pages(self._scoped({}))

    def _near_miss_message(self, headline: str, match: Match, *, entries: list[dict[str, Any]] | None = None,
                           exclude: Sequence[Mapping[str, Any]] = ()) -> str:
        if entries is None:
            entries = self._all()
        skip = {e.get("id") for e in exclude}
        candidates = [e for e in entries if e.get("id") not in skip]
        scope = f" for tenant {self.tenant!r}" if self.tenant else ""
        lines = [headline]
        if not entries:
            lines.append(f"No requests were recorded{scope} at {self.base_url}: is the code under test pointed "
                         "at the sandbox, with this test's credentials?")
            return "\n".join(lines)
        closest = sorted(candidates, key=match.score, reverse=True)[:NEAR_MISSES]
        lines.append(f"{len(entries)} request(s) recorded{scope}; closest:")
        for e in closest:
            lines.append("  " + entry_line(e))
            lines += ["      " + d for d in match.diff(e)] or ["      (matches)"]
        return "\n".join(lines)


class Installed(dict[str, Any]):
    """What the server answered when a fault rule or rate limit was installed; a context manager that
    undoes it on exit (and then holds the final state, e.g. a rule's ``hits``)."""

    def __init__(self, state: Mapping[str, Any], undo: Any) -> None:
        super().__init__(state)
        self._undo = undo

    def remove(self) -> None:
        final = self._undo()
        if isinstance(final, Mapping) and final:
            self.update(final)

    def __enter__(self) -> Installed:
        return self

    def __exit__(self, *exc: object) -> None:
        self.remove()


def encode_params(params: Mapping[str, Any]) -> str:
    pairs = []
    for key, value in params.items():
        if value is None:
            continue
        if isinstance(value, bool):
            value = "true" if value else "false"
        pairs.append((key, str(value)))
    return urllib.parse.urlencode(pairs)
