"""``POST /v1/activity/upload``: a JSON array of 1-1000 events (spec §6.3). An event for an unknown user
creates the contact first [V-doc]; events land in the shared population, so segments on events see them."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sandbox.core.operations import Call, Reply
from sandbox.providers.netcore import errors
from sandbox.providers.netcore.state import state_of

IDENTIFIERS = ("identity", "email", "mobile", "anonid", "annonid")
"""Accepted user identifiers, both spellings of the anonymous id (spec §6.3)."""
ANONYMOUS = "anon:"
"""[INF] identity prefix of the anonymous profiles ``anonid`` events are stored on."""


def attributes_of(event: dict[str, Any]) -> dict[str, Any]:
    """The contact an event names: ``identity`` is the panel's primary key (email, mobile or customer id)."""
    found: dict[str, Any] = {}
    if event.get("email"):
        found["EMAIL"] = str(event["email"])
    if event.get("mobile"):
        found["MOBILE"] = str(event["mobile"])
    identity = str(event.get("identity") or "").strip()
    if identity:
        key = "EMAIL" if "@" in identity else "MOBILE" if identity.lstrip("+").isdigit() else "CUSTOMER_ID"
        found.setdefault(key, identity)
    return found


def timestamp(value: str, index: int) -> float:
    """ISO-8601 with or without an offset (none = the panel's time zone, here UTC; spec §6.3)."""
    try:
        when = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise errors.invalid(f"[{index}].timestamp") from None
    return (when if when.tzinfo else when.replace(tzinfo=UTC)).timestamp()


async def activity_upload(call: Call) -> Reply:
    events: list[dict[str, Any]] = call.body
    times = []
    for index, event in enumerate(events):
        if not any(event.get(k) not in (None, "") for k in IDENTIFIERS):
            raise errors.required(f"[{index}].identity")
        times.append(timestamp(str(event["timestamp"]), index))
    state = state_of(call.provider)
    data = state.tenant(call.tenant)
    for event, ts in zip(events, times, strict=True):
        attributes = attributes_of(event)
        anonymous = event.get("anonid") or event.get("annonid")
        identity = state.contact(data, call.tenant, attributes) if attributes else f"{ANONYMOUS}{anonymous}"
        params = event["activity_params"]
        props = params if isinstance(params, dict) else {"items": params}
        state.people.add_event(identity, event["activity_name"], ts, props, tenant=call.tenant)
    return Reply({"status": errors.SUCCESS, "message": errors.ACTIVITY_ACCEPTED})
