"""Schedules on the sandbox clock: ISO-8601 times (``2022-12-14T12:04:43Z``, spec §2, §4.4) or ``"now"``."""

from __future__ import annotations

from datetime import UTC, datetime

from sandbox.providers.netcore import errors

NOW = "now"


def due_time(value: object, now: float, field: str) -> float:
    """Epoch seconds of ``value`` ("now", "" or missing = ``now``); an unreadable time fails on ``field``."""
    if value in (None, "") or (isinstance(value, str) and value.strip().lower() == NOW):
        return now
    if not isinstance(value, str):
        raise errors.invalid(field)
    try:
        when = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        raise errors.fail(errors.SCHEDULE_INVALID, field) from None
    if when.tzinfo is None:
        raise errors.fail(errors.SCHEDULE_INVALID, field)
    return when.timestamp()


def to_iso(ts: float) -> str:
    """``2024-02-20T09:18:15Z``: whole seconds and a Z, as Netcore shows times (spec §4.4)."""
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
