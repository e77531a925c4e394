"""CleverTap handlers: one async function per operation, named as the operation."""

from __future__ import annotations

from typing import Any

from ...operations import Call, Reply
from . import errors

RECIPIENT_KEYS = ("FBID", "GPID", "Email", "Identity", "objectId")
"""Identifier arrays of ``to`` [V-seed 003] (GPID appears in its examples)."""


def recipients(body: dict[str, Any]) -> list[tuple[str, str]]:
    to = body["to"]
    return [(key, value) for key in RECIPIENT_KEYS for value in to.get(key, ())]


def check_recipients(body: dict[str, Any]) -> list[tuple[str, str]]:
    found = recipients(body)
    if not found or len(found) > errors.MAX_RECIPIENTS:
        raise errors.CleverTapFail(errors.RECIPIENTS_INVALID)
    return found


def check_android_channel(content: dict[str, Any]) -> None:
    """A push carrying ``platform_specific.android`` must name a notification channel [V-rec spec §6.6]."""
    android = (content.get("platform_specific") or {}).get("android")
    if isinstance(android, dict) and not android.get("wzrk_cid"):
        raise errors.CleverTapFail(errors.ANDROID_CHANNEL_REQUIRED)


async def _send(call: Call) -> Reply:
    check_recipients(call.body)
    return Reply(errors.SEND_ACCEPTED)


async def send_push(call: Call) -> Reply:
    check_android_channel(call.body["content"])
    return await _send(call)


send_sms = send_email = send_webpush = send_whatsapp = _send
