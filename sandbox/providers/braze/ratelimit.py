"""Rate-limit windows per key and endpoint group (spec §4): counted for the headers, not enforced yet."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class Limit:
    group: str
    requests: int
    seconds: int


DEFAULT = Limit("default", 250_000, 3600)
"""250,000 / hour per workspace, shared by every endpoint not listed [V-doc api_limits.md] §4."""
BROADCAST = Limit("broadcast", 250, 60)
"""messages/campaigns/canvas sends targeting a segment or connected audience: 250 / minute [V-doc] §4."""
SEND_IDS = Limit("sends_id_create", 100, 86_400)
"""/sends/id/create: 100 / day [V-doc] §4."""
USERS_TRACK = Limit("users_track", 3000, 3)
"""/users/track: 3,000 / 3 s [V-doc] §4."""
USERS_EXPORT = Limit("users_export_ids", 250, 60)
"""/users/export/ids: 250 / min [V-doc] §4."""
USERS_IDENTITY = Limit("users_identity", 20_000, 60)
"""/users/delete, /users/alias/new, /users/identify: 20,000 / min shared [V-doc] §4."""
DATA_SERIES = Limit("campaigns_data_series", 50_000, 60)
"""/campaigns/data_series: 50,000 / min [V-doc] §4."""

BY_OPERATION: dict[str, Limit] = {
    "sends_id_create": SEND_IDS,
    "users_track": USERS_TRACK,
    "users_export_ids": USERS_EXPORT,
    "users_delete": USERS_IDENTITY,
    "users_alias_new": USERS_IDENTITY,
    "users_identify": USERS_IDENTITY,
    "campaigns_data_series": DATA_SERIES,
}
LONGEST = max(limit.seconds for limit in (DEFAULT, SEND_IDS))
BROADCASTABLE = frozenset({"messages_send", "campaigns_trigger_send", "canvas_trigger_send"})


def limit_for(operation: str, body: Any) -> Limit:
    if operation in BROADCASTABLE and isinstance(body, dict) and body.get("broadcast") is True:
        return BROADCAST
    return BY_OPERATION.get(operation, DEFAULT)


class Windows:
    """Fixed windows aligned on the epoch (next top of the hour / minute / day), counted per key."""

    def __init__(self) -> None:
        self._counts: Counter[tuple[str, str, int]] = Counter()

    def hit(self, key: str, limit: Limit, now: float) -> tuple[int, int, int]:
        """Count one request; return (limit, remaining, reset epoch seconds)."""
        start = int(now) - int(now) % limit.seconds
        slot = (key, limit.group, start)
        self._counts[slot] += 1
        if len(self._counts) > 10_000:
            self._counts = Counter({k: v for k, v in self._counts.items() if k[2] + LONGEST > now})
        return limit.requests, max(limit.requests - self._counts[slot], 0), start + limit.seconds

    def reset(self) -> None:
        self._counts.clear()
