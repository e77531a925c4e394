"""``POST /v1/activity/upload``: a JSON array of 1-1000 events (spec §6.3). An event for an unknown user
creates the contact first [V-doc]; anonymous events (``anonid``/``annonid``) are kept without a contact."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from ...operations import Call, Reply
from . import errors
from .state import state_of

IDENTIFIERS = ("identity", "email", "mobile", "anonid", "annonid")
"""Accepted user identifiers, both spellings of the anonymous id (spec §6.3)."""


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


async def activity_upload(call: Call) -> Reply:
    events: list[dict[str, Any]] = call.body
    for index, event in enumerate(events):
        if not any(event.get(k) not in (None, "") for k in IDENTIFIERS):
            raise errors.required(f"[{index}].identity")
        try:  # ISO-8601 with or without an offset (none = the panel's time zone, spec §6.3)
            datetime.fromisoformat(str(event["timestamp"]).replace("Z", "+00:00"))
        except ValueError:
            raise errors.invalid(f"[{index}].timestamp") from None
    data = state_of(call.provider).tenant(call.tenant)
    for event in events:
        attributes = attributes_of(event)
        ident = data.upsert(attributes) if attributes else None
        data.events.append({"contact": ident, "anonid": event.get("anonid") or event.get("annonid"),
                            "name": event["activity_name"], "asset_id": event["asset_id"],
                            "timestamp": event["timestamp"], "params": event["activity_params"]})
    return Reply({"status": errors.SUCCESS, "message": errors.ACTIVITY_ACCEPTED})
