"""Braze times: ISO 8601 (``Z``, ``+00:00``, ``+0000``), the recorded ``2019-02-15 00:00:00 -0500`` and naive
local times (spec §1 "Leniency seen live", §7 schedule object)."""

from __future__ import annotations

import re
from datetime import UTC, datetime

_OFFSET = re.compile(r"\s*([+-]\d{2}):?(\d{2})$")


def parse(value: object) -> datetime | None:
    """A datetime (aware when the text carries a zone, else naive), or None when unparseable."""
    if not isinstance(value, str) or not value.strip() or len(value) > 64:
        return None
    text = value.strip()
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    text = _OFFSET.sub(lambda m: f"+{m[1][1:]}:{m[2]}" if m[1][0] == "+" else f"-{m[1][1:]}:{m[2]}", text)
    try:
        return datetime.fromisoformat(text.replace(" ", "T", 1) if "T" not in text else text)
    except ValueError:
        return None


def utc_epoch(value: datetime) -> float:
    """Epoch seconds; a naive time is read as UTC (Braze's ``time`` is UTC unless sent in local time)."""
    return (value if value.tzinfo else value.replace(tzinfo=UTC)).timestamp()


def iso(epoch: float) -> str:
    """ISO 8601 UTC with seconds, as Braze prints times: ``2020-06-17T19:41:01+00:00``."""
    return datetime.fromtimestamp(epoch, UTC).isoformat(timespec="seconds")
