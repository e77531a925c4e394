"""CleverTap Message Identity API handlers (``send/*.json``): one async function per operation."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from sandbox.core.operations import Call, Reply
from sandbox.providers.clevertap import errors
from sandbox.providers.clevertap.account import PROVIDER_CHANNELS

if TYPE_CHECKING:
    from sandbox.providers.clevertap import CleverTap

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


def check_references(call: Call[CleverTap], channel: str) -> None:
    """Dashboard objects a send names: the Android channel (push), the provider nickname (sms, email,
    whatsapp) and ``campaign_id``, a dashboard API campaign of this channel (seed 000) [INF: text and code].
    Unknown ones are learned (strict: rejected); a known campaign of another channel is rejected in both, before
    anything is learned."""
    refs = call.provider.references(call)
    if "campaign_id" in call.body:
        campaign_id = int(call.body["campaign_id"])
        found = refs.campaign(campaign_id, channel)
        if found.channel != channel:
            raise errors.CleverTapFail((errors.FIELD_INVALID_CODE, errors.CAMPAIGN_ID_OTHER_CHANNEL.format(
                id=campaign_id, channel=found.channel)))
    if channel == "push":
        android = (call.body["content"].get("platform_specific") or {}).get("android")
        if isinstance(android, dict) and isinstance(android.get("wzrk_cid"), str):
            refs.channel(android["wzrk_cid"])
    nick = call.body.get("provider_nick_name")
    if nick is not None and channel in PROVIDER_CHANNELS:
        refs.provider(channel, nick)


def _sender(channel: str) -> Callable[[Call[CleverTap]], Awaitable[Reply]]:
    async def send(call: Call[CleverTap]) -> Reply:
        if channel == "push":
            check_android_channel(call.body["content"])
        addressed = check_recipients(call.body)
        check_references(call, channel)
        call.provider.deliver_send(call, channel, addressed)
        return Reply(errors.SEND_ACCEPTED)

    send.__name__ = send.__qualname__ = f"send_{channel}"
    return send


send_push = _sender("push")
send_webpush = _sender("webpush")
send_email = _sender("email")
send_sms = _sender("sms")
send_whatsapp = _sender("whatsapp")
