"""What a population holds (``population show``, the inspector's audience view), counted with the audience
engine's columns: a million users count in a moment, and a tenant's view is counted part by part."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from typing import Any

import numpy as np

from sandbox.population.audience.evaluate import count_reach
from sandbox.population.audience.index import PLATFORM_CODES, Column, Index
from sandbox.population.generator import CHANNELS

TOP = 10


def summary(index: Index) -> dict[str, Any]:
    """Counts over every live row of ``index``."""
    return summary_of([(index, index.alive)])


def summary_of(parts: Iterable[tuple[Index, np.ndarray]]) -> dict[str, Any]:
    """Counts over the rows in ``live`` of each (index, live) part: users, users and devices per platform,
    reachable users per channel (the audience engine's rules), customer types, countries and top events."""
    totals: dict[str, Counter[Any]] = {key: Counter() for key in (
        "profiles", "users_per_platform", "devices_per_platform", "customer_types", "countries", "events")}
    reachable: dict[str, Counter[str]] = {channel: Counter() for channel in CHANNELS}
    for index, live in parts:
        live = live & index.alive
        totals["profiles"]["n"] += int(np.count_nonzero(live))
        devices = index.devices()
        on_live = live[devices.rows]
        for name, code in PLATFORM_CODES.items():
            on = on_live & (devices.platform == code)
            if on.any():
                users = np.zeros(index.n, dtype=bool)
                users[devices.rows[on]] = True
                totals["devices_per_platform"][name] += int(np.count_nonzero(on))
                totals["users_per_platform"][name] += int(np.count_nonzero(users))
        totals["customer_types"].update(_values(index.column("customer_type"), live))
        totals["countries"].update(_values(index.column("country"), live))
        for name, table in index.events().items():
            totals["events"][name] += int(np.count_nonzero(live[table.rows]))
        for channel in CHANNELS:
            reachable[channel].update(count_reach(live, index, channel=channel))
    events = [(name, count) for name, count in totals["events"].most_common() if count]
    return {
        "profiles": totals["profiles"]["n"],
        "users_per_platform": dict(sorted(totals["users_per_platform"].items())),
        "devices_per_platform": dict(sorted(totals["devices_per_platform"].items())),
        "reachable": {channel: dict(counts) for channel, counts in reachable.items()},
        "customer_types": dict(totals["customer_types"].most_common()),
        "countries": dict(totals["countries"].most_common(TOP)),
        "events_total": sum(count for _, count in events),
        "top_events": [list(pair) for pair in events[:TOP]],
    }


def _values(column: Column, live: np.ndarray) -> Counter[str]:
    counts = np.bincount(column.codes[live[column.rows]], minlength=len(column.uniq))
    return Counter({str(value): int(count) for value, count in zip(column.uniq, counts.tolist(), strict=True)
                    if count})
