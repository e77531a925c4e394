"""Skipped users in tests: pick population users by why a channel cannot reach them, read the skipped log."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

DEVICES = {"push": ("android", "ios"), "webpush": ("web",)}
ADDRESS = {"email": "email", "sms": "phone", "whatsapp": "phone"}


async def population(api: Any, tenant: str | None = None) -> list[dict[str, Any]]:
    params = {"limit": "100000", **({"tenant": tenant} if tenant else {})}
    return (await api.control("GET", "/profiles", params=params))["profiles"]


def state(profile: Mapping[str, Any], channel: str) -> str:
    return ((profile.get("reachability") or {}).get(channel) or {}).get("state", "subscribed")


def has_destination(profile: Mapping[str, Any], channel: str, platforms: Iterable[str] | None = None) -> bool:
    if channel in DEVICES:
        wanted = set(platforms or DEVICES[channel])
        return any(d.get("platform") in wanted for d in profile.get("devices") or ())
    entry = (profile.get("reachability") or {}).get(channel) or {}
    return bool(profile.get(ADDRESS[channel])) and not entry.get("invalid") and not entry.get("dnd")


def why(profile: Mapping[str, Any], channel: str, platforms: Iterable[str] | None = None) -> str | None:
    """The population's reason ``channel`` cannot reach ``profile`` (as the sandbox records it), None if it can."""
    if state(profile, channel) == "unsubscribed":
        return "unsubscribed"
    return None if has_destination(profile, channel, platforms) else "no_channel"


def pick(profiles: list[dict[str, Any]], channel: str, platforms: Iterable[str] | None = None) -> dict[str, str]:
    """One identity per outcome on ``channel``: ``reachable``, ``unsubscribed`` (with a destination) and
    ``no_channel`` (subscribed, no destination)."""
    found: dict[str, str] = {}
    for profile in profiles:
        reason = why(profile, channel, platforms)
        outcome = reason or "reachable"
        if reason == "unsubscribed" and not has_destination(profile, channel, platforms):
            continue
        found.setdefault(outcome, profile["identity"])
    assert set(found) == {"reachable", "unsubscribed", "no_channel"}, found
    return found


async def skipped(api: Any, **filters: Any) -> dict[str, Any]:
    return await api.control("GET", "/deliveries/skipped", params={k: str(v) for k, v in filters.items()})


def reasons_by_user(answer: Mapping[str, Any]) -> dict[str, str]:
    return {s["user"]: s["reason"] for s in answer["skipped"] if s["user"] is not None}
