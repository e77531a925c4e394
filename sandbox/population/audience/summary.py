"""``campaign-sandbox population show``: what a population holds, counted with the audience engine."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from typing import Any

from sandbox.population.audience.evaluate import estimate
from sandbox.population.audience.index import Index
from sandbox.population.generator import CHANNELS, Profile


def summary(profiles: Iterable[Profile]) -> dict[str, Any]:
    """Counts for ``population show``: users, devices and users per platform, reachable users per channel
    (same rules as the audience engine), customer types and the top events."""
    profiles = list(profiles)
    index = Index.build(profiles)
    everyone = {"everyone": True}
    platform_users: Counter[str] = Counter()
    devices: Counter[str] = Counter()
    events: Counter[str] = Counter()
    tiers: Counter[str] = Counter()
    for p in profiles:
        platforms = {d.get("platform") for d in p.get("devices") or ()}
        platform_users.update(str(x) for x in platforms)
        devices.update(str(d.get("platform")) for d in p.get("devices") or ())
        events.update(str(e.get("name")) for e in p.get("events") or ())
        tiers[str(p.get("customer_type"))] += 1
    reachable = {channel: estimate(everyone, index, channel=channel) for channel in CHANNELS}
    return {
        "profiles": len(profiles),
        "users_per_platform": dict(sorted(platform_users.items())),
        "devices_per_platform": dict(sorted(devices.items())),
        "reachable": reachable,
        "customer_types": dict(tiers.most_common()),
        "events_total": sum(events.values()),
        "top_events": events.most_common(10),
    }
