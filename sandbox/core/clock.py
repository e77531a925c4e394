"""The sandbox clock: wall time by default, movable by the control API so schedules run on demand."""

from __future__ import annotations

import time
from datetime import UTC, datetime


class Clock:
    """``now()`` is wall time plus an offset that ``advance``/``set`` change (never goes backwards)."""

    __slots__ = ("_offset",)

    def __init__(self) -> None:
        self._offset = 0.0

    def time(self) -> float:
        return time.time() + self._offset

    def now(self) -> datetime:
        return datetime.fromtimestamp(self.time(), UTC)

    def advance(self, seconds: float) -> datetime:
        if seconds < 0:
            raise ValueError("the clock only moves forward")
        self._offset += seconds
        return self.now()

    def set(self, when: datetime) -> datetime:
        target = when.timestamp()
        current = self.time()
        if target < current:
            raise ValueError("the clock only moves forward")
        self._offset += target - current
        return self.now()

    def reset(self) -> None:
        self._offset = 0.0


def iso(ts: float) -> str:
    """ISO 8601 UTC with milliseconds and a Z, e.g. 2026-11-26T08:16:00.123Z."""
    return datetime.fromtimestamp(ts, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
