"""Vendor rate limits: fixed windows and concurrency caps, counted per tenant on the tenant's sandbox clock.

A vendor says which limit applies to a call (``Provider.rate_limit`` -> ``Applied``) and lists its documented
limits (``Provider.rate_limits``); this module only counts. Windows are fixed and aligned on the epoch (the
next top of the hour / minute / day), so a test reaches the next window by advancing the sandbox clock
instead of sleeping. Enforcement is off by default (``--rate-limits``); ``POST /_sandbox/limits`` turns it
on for one tenant (or all) and may lower any limit so a test reaches it in a few requests. Counting (for
headers such as remaining requests) happens either way. Every operation here is O(1).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

WINDOW_SLOTS = 10_000
"""Past windows are pruned when this many counters exist."""


@dataclass(frozen=True, slots=True)
class Limit:
    """One documented limit: ``requests`` per ``seconds``-long window, or in flight at once (``seconds`` None)."""

    group: str
    requests: int
    seconds: int | None = None

    def describe(self) -> dict[str, Any]:
        if self.seconds is None:
            return {"concurrent": self.requests}
        return {"requests": self.requests, "seconds": self.seconds}


@dataclass(frozen=True, slots=True)
class Applied:
    """The limit a vendor applies to one call. ``bucket`` is the counter within the tenant (e.g. one API of
    a per-API cap); ``enforced`` False = counted for headers but never answered with 429."""

    limit: Limit
    bucket: str
    enforced: bool = True


@dataclass(slots=True)
class Usage:
    """The counters after one call: what a vendor reports in its headers and its 429."""

    group: str
    limit: int
    remaining: int
    reset: int | None
    """Epoch seconds (sandbox clock) when the window resets; None for a concurrency cap."""
    retry_after: int | None
    exceeded: bool

    def details(self) -> dict[str, Any]:
        return {"group": self.group, "limit": self.limit, "remaining": self.remaining, "reset": self.reset,
                "retry_after": self.retry_after}


USAGE = "rate_limit_usage"
"""``Call.extras`` key holding this call's ``Usage`` (read by the vendor's headers hook)."""


class Overrides:
    """Per tenant (None = every tenant): enforcement on/off and lowered limits per vendor and name."""

    __slots__ = ("enabled", "limits")

    def __init__(self) -> None:
        self.enabled: bool | None = None
        self.limits: dict[str, dict[str, int]] = {}

    def describe(self) -> dict[str, Any]:
        return {"enabled": self.enabled, "limits": self.limits}


class RateLimiter:
    def __init__(self, enabled: bool = False) -> None:
        self.enabled = enabled
        """``--rate-limits``: enforce every tenant's limits."""
        self._windows: Counter[tuple[str | None, str, str, int]] = Counter()
        self._in_flight: Counter[tuple[str | None, str, str]] = Counter()
        self._overrides: dict[str | None, Overrides] = {}
        self.rejected: Counter[tuple[str, str]] = Counter()
        """(vendor, group) -> requests answered 429 by a limit (metrics)."""

    # -- configuration -----------------------------------------------------------------------------
    def configure(self, tenant: str | None, *, enabled: bool | None = None, vendor: str | None = None,
                  limits: Mapping[str, int] | None = None) -> Overrides:
        overrides = self._overrides.setdefault(tenant, Overrides())
        if enabled is not None:
            overrides.enabled = enabled
        if vendor is not None and limits:
            overrides.limits.setdefault(vendor, {}).update(limits)
        return overrides

    def overrides(self) -> dict[str | None, Overrides]:
        return dict(self._overrides)

    def reset(self, tenant: str | None) -> None:
        """Drop a tenant's overrides and counters (all tenants' when None)."""
        if tenant is None:
            self._overrides.clear()
            self._windows.clear()
            self._in_flight.clear()
            return
        self._overrides.pop(tenant, None)
        self._windows = Counter({k: v for k, v in self._windows.items() if k[0] != tenant})

    def enforced_for(self, tenant: str | None) -> bool:
        if not self._overrides:
            return self.enabled
        for scope in (tenant, None):
            overrides = self._overrides.get(scope)
            if overrides is not None and overrides.enabled is not None:
                return overrides.enabled
        return self.enabled

    def requests_for(self, tenant: str | None, vendor: str, applied: Applied) -> int:
        """The limit in force: a tenant's override of the bucket or group, else every tenant's, else the vendor's."""
        for scope in (tenant, None):
            overrides = self._overrides.get(scope)
            if overrides is None:
                continue
            table = overrides.limits.get(vendor)
            if table:
                for name in (applied.bucket, applied.limit.group):
                    if name in table:
                        return table[name]
        return applied.limit.requests

    # -- counting ----------------------------------------------------------------------------------
    def hit(self, tenant: str | None, vendor: str, applied: Applied, now: float) -> Usage | None:
        """Count one request in its window (a window limit), or as in flight (an enforced concurrency cap: the
        caller must ``leave`` it when the answer is ready unless it was exceeded). None: nothing counted (a
        concurrency cap that is not enforced reports nothing)."""
        limit = applied.limit
        enforce = applied.enforced and self.enforced_for(tenant)
        if limit.seconds is None:
            if not enforce:
                return None
            allowed = self.requests_for(tenant, vendor, applied)
            key = (tenant, vendor, applied.bucket)
            exceeded = self._in_flight[key] >= allowed
            if not exceeded:
                self._in_flight[key] += 1
            return Usage(limit.group, allowed, max(allowed - self._in_flight[key], 0), None, None, exceeded)
        allowed = self.requests_for(tenant, vendor, applied) if self._overrides else limit.requests
        start = int(now) - int(now) % limit.seconds
        reset = start + limit.seconds
        slot = (tenant, vendor, applied.bucket, start)
        used = self._windows[slot]
        exceeded = enforce and used >= allowed
        if not exceeded:
            used = self._windows[slot] = used + 1
        if len(self._windows) > WINDOW_SLOTS:
            self._prune(now)
        return Usage(limit.group, allowed, max(allowed - used, 0), reset, max(reset - int(now), 1) if exceeded
                     else None, exceeded)

    def leave(self, tenant: str | None, vendor: str, applied: Applied) -> None:
        key = (tenant, vendor, applied.bucket)
        if self._in_flight[key] <= 1:
            self._in_flight.pop(key, None)
        else:
            self._in_flight[key] -= 1

    def _prune(self, now: float) -> None:
        """Keep the windows that may still be current (a day is the longest documented window)."""
        self._windows = Counter({k: v for k, v in self._windows.items() if k[3] + 86_400 > now})
