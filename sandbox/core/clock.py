"""The sandbox clock, per tenant: wall time plus offsets the control API moves, so schedules run on demand.

A tenant's time is wall time + the shared offset (moved by ``POST /_sandbox/clock`` without ``tenant``) +
that tenant's own offset (moved with ``?tenant=T``). Moving one tenant's clock never changes another's.
"""

from __future__ import annotations

import math
import time
from datetime import UTC, datetime
from typing import Any

LATEST = datetime(3000, 1, 1, tzinfo=UTC)
"""The clock never moves past this: far enough for any test, and every date a handler derives from it (plus
TTLs, windows, schedules years ahead) stays inside what ``datetime`` and JSON encoders handle."""


class ClockError(ValueError):
    """A move the clock refuses (backwards, not finite, past ``LATEST``); nothing changed."""


class Clock:
    """``time(tenant)`` / ``now(tenant)``: wall time plus the shared and the tenant's offsets."""

    __slots__ = ("_offsets", "_shared")

    def __init__(self) -> None:
        self._shared = 0.0
        self._offsets: dict[str, float] = {}

    def time(self, tenant: str | None = None) -> float:
        return time.time() + self._shared + (self._offsets.get(tenant, 0.0) if tenant else 0.0)

    def now(self, tenant: str | None = None) -> datetime:
        return datetime.fromtimestamp(self.time(tenant), UTC)

    def offset(self, tenant: str | None = None) -> float:
        """How far this tenant's clock is ahead of wall time, in seconds."""
        return self._shared + (self._offsets.get(tenant, 0.0) if tenant else 0.0)

    def advance(self, seconds: float, tenant: str | None = None) -> datetime:
        """Move forward by ``seconds``: one tenant, or (None) every tenant."""
        if isinstance(seconds, bool) or not isinstance(seconds, (int, float)) or not math.isfinite(seconds):
            raise ClockError("advance_seconds must be a finite number of seconds")
        if seconds < 0:
            raise ClockError("the clock only moves forward")
        latest = max([self.time(None), *(self.time(t) for t in self._offsets)]) if tenant is None \
            else self.time(tenant)
        if latest + seconds >= LATEST.timestamp():
            raise ClockError(f"the clock cannot move past {iso(LATEST.timestamp())}")
        if tenant is None:
            self._shared += seconds
        else:
            self._offsets[tenant] = self._offsets.get(tenant, 0.0) + seconds
        return self.now(tenant)

    def set(self, when: datetime, tenant: str | None = None) -> datetime:
        """Move forward to ``when``: one tenant, or (None) the shared clock, every tenant by the same amount."""
        if when.tzinfo is None:
            raise ClockError("now must carry a time zone (e.g. a trailing Z)")
        if when >= LATEST:
            raise ClockError(f"the clock cannot move past {iso(LATEST.timestamp())}")
        return self.advance(when.timestamp() - self.time(tenant), tenant)

    def reset(self, tenant: str | None = None) -> None:
        """Back to wall time: one tenant's own offset, or (None) everything."""
        if tenant is None:
            self._shared = 0.0
            self._offsets.clear()
        else:
            self._offsets.pop(tenant, None)

    def export_state(self) -> dict[str, Any]:
        return {"shared": self._shared, "tenants": dict(self._offsets)}

    def import_state(self, data: dict[str, Any]) -> None:
        self._shared = float(data.get("shared", 0.0))
        self._offsets = {str(k): float(v) for k, v in data.get("tenants", {}).items()}


_second: tuple[float, str] = (math.nan, "")
"""(the whole second last formatted, its text up to the seconds): one datetime per second, not per call."""


def iso(ts: float) -> str:
    """ISO 8601 UTC with milliseconds and a Z, e.g. 2026-11-26T08:16:00.123Z: the same text as
    ``datetime.fromtimestamp(ts, UTC).isoformat(timespec="milliseconds")`` (microseconds rounded half-even as
    ``fromtimestamp`` does, then truncated), with the seconds' text reused within a second (every request)."""
    global _second
    frac, whole = math.modf(ts)
    micros = round(frac * 1e6)
    if micros >= 1_000_000:
        whole, micros = whole + 1, micros - 1_000_000
    elif micros < 0:
        whole, micros = whole - 1, micros + 1_000_000
    second = _second
    if second[0] != whole:
        second = _second = (whole, datetime.fromtimestamp(whole, UTC).isoformat()[:-6])
    return f"{second[1]}.{micros // 1000:03d}Z"
