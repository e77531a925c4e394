"""Messaging-object rules beyond the JSON Schema (spec §12) and the campaign/variation checks (§0, §5.2)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import orjson

from sandbox.providers.braze import errors, learn, timeparse
from sandbox.providers.braze.errors import BrazeFail
from sandbox.providers.braze.workspace import API, Campaign

if TYPE_CHECKING:
    from sandbox.providers.braze.context import Context

CHANNELS = ("apple_push", "android_push", "kindle_push", "web_push", "email", "sms", "webhook", "content_card",
            "whats_app")
"""Messaging object keys of ``messages`` [V-doc post_send_messages.md] (spec §6.1)."""
RESERVED_EXTRA_KEYS = frozenset({"ab", "aps"})
"""``extra`` keys Braze rejects on apple_push [V-doc apple_object.md]."""
FROM_FORMAT = re.compile(r"^[^<>]*<[^<>@\s]+@[^<>@\s]+\.[^<>@\s]+>$")
"""``"Display Name <email@address.com>"`` [V-doc email_object.md]."""
CONTENT_CARD_MAX_SECONDS = 30 * 86_400
"""Content Cards expire within 30 days [V-doc content_cards_object.md]."""
WHATSAPP_MAX_ROWS = 10


def fail(text: str) -> BrazeFail:
    return BrazeFail(text)


def message_objects(body: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """The known messaging objects of ``body["messages"]``, in Braze's channel order."""
    messages = body.get("messages") or {}
    return {key: messages[key] for key in CHANNELS if isinstance(messages.get(key), dict)}


def check_messages(body: Mapping[str, Any], ctx: Context) -> dict[str, dict[str, Any]]:
    objects = message_objects(body)
    if not objects:
        raise fail(errors.NO_MESSAGE)
    if body.get("campaign_id") is not None:
        check_variations(objects, api_campaign(ctx, body["campaign_id"], objects))
    for key, obj in objects.items():
        CHECKS[key](obj, ctx)
    return objects


def api_campaign(ctx: Context, campaign_id: Any, objects: Mapping[str, Mapping[str, Any]]) -> Campaign:
    """The API campaign (learned with the request's message variations when unknown)."""
    variations = {str(obj["message_variation_id"]): key for key, obj in objects.items()
                  if obj.get("message_variation_id") not in (None, "")}
    campaign = learn.campaign(ctx, campaign_id, API, variations=variations)
    if campaign.type != API:
        raise fail(errors.INVALID_CAMPAIGN_ID)
    return campaign


def check_variations(objects: Mapping[str, Mapping[str, Any]], campaign: Campaign) -> None:
    """Each object needs a variation of this campaign and of its own channel (seed 001, spec §5.2)."""
    for key, obj in objects.items():
        variation = obj.get("message_variation_id")
        if variation is None or variation == "":
            raise fail(errors.VARIANT_UNSPECIFIED)
        channel = campaign.channel_of(str(variation))
        if channel is None:
            raise fail(errors.INVALID_VARIANT)
        if channel != key:
            raise fail(errors.MISMATCHED_TYPE)


def _extra(obj: Mapping[str, Any], reserved: frozenset[str] = frozenset()) -> None:
    if "extra" in obj and (not isinstance(obj["extra"], dict) or reserved & obj["extra"].keys()):
        raise fail(errors.INVALID_EXTRA)


def _size(value: Any) -> int:
    return len(value.encode("utf-8")) if isinstance(value, str) else len(orjson.dumps(value))


def check_apple_push(obj: Mapping[str, Any], ctx: Context) -> None:
    if "alert" not in obj and obj.get("content-available") is not True:
        raise fail(errors.missing(("messages", "apple_push", "alert")))
    _extra(obj, RESERVED_EXTRA_KEYS)
    payload = {k: v for k, v in obj.items() if k != "message_variation_id"}
    if _size(payload) > errors.APPLE_MAX_BYTES:
        raise fail(errors.APPLE_TOO_LONG)


def check_android_push(obj: Mapping[str, Any], ctx: Context) -> None:
    where = ("messages", "android_push")
    if obj.get("send_to_sync") is True:
        if "alert" in obj or "title" in obj:
            raise fail(errors.bad_value((*where, "send_to_sync")))
    else:
        for name in ("alert", "title"):
            if name not in obj:
                raise fail(errors.missing((*where, name)))
    _extra(obj)
    extra = _size(obj["extra"]) if "extra" in obj else 0
    if _size(obj.get("alert", "")) + extra > errors.ANDROID_MAX_BYTES:
        raise fail(errors.ANDROID_TOO_LONG)


def check_email(obj: Mapping[str, Any], ctx: Context) -> None:
    if "body" not in obj and "email_template_id" not in obj:
        raise fail(errors.missing(("messages", "email", "body")))
    if not FROM_FORMAT.match(obj["from"]):
        raise fail(errors.invalid(("messages", "email", "from")))


def _subscription_group(obj: Mapping[str, Any], key: str, ctx: Context) -> None:
    group = learn.subscription_group(ctx, obj["subscription_group_id"], key)
    if group["channel"] != key:
        raise fail(errors.SUBSCRIPTION_GROUP_INVALID)


def check_sms(obj: Mapping[str, Any], ctx: Context) -> None:
    _subscription_group(obj, "sms", ctx)


def check_content_card(obj: Mapping[str, Any], ctx: Context) -> None:
    where = ("messages", "content_card")
    expiries = [name for name in ("time_to_live", "expire_at") if name in obj]
    if len(expiries) != 1:
        raise fail(errors.exactly_one([(*where, "time_to_live"), (*where, "expire_at")], len(expiries)))
    if "time_to_live" in obj and obj["time_to_live"] > CONTENT_CARD_MAX_SECONDS:
        raise fail(errors.bad_value((*where, "time_to_live")))
    if "expire_at" in obj:
        when = timeparse.parse(obj["expire_at"])
        if when is None or not ctx.now < timeparse.utc_epoch(when) <= ctx.now + CONTENT_CARD_MAX_SECONDS:
            raise fail(errors.bad_value((*where, "expire_at")))
    if obj["type"] in ("CAPTIONED_IMAGE", "BANNER") and "image_url" not in obj:
        raise fail(errors.missing((*where, "image_url")))


def check_whats_app(obj: Mapping[str, Any], ctx: Context) -> None:
    _subscription_group(obj, "whats_app", ctx)
    where = ("messages", "whats_app", "message")
    message = obj["message"]
    if obj["message_type"] == "template_message":
        for name in ("template_name", "template_language_code"):
            if not isinstance(message.get(name), str) or not message[name]:
                raise fail(errors.missing((*where, name)))
        for name in ("header_variables", "button_variables"):
            if name in message and (not isinstance(message[name], list) or len(message[name]) > 1):
                raise fail(errors.bad_value((*where, name)))
    if obj["message_type"] == "list_response_message":
        sections = message.get("sections")
        if not isinstance(sections, list) or not sections or not all(isinstance(s, dict) for s in sections):
            raise fail(errors.missing((*where, "sections")))
        rows = sum(len(s.get("rows") or []) for s in sections)
        if rows > WHATSAPP_MAX_ROWS:
            raise fail(errors.bad_value((*where, "sections")))


def _no_rules(obj: Mapping[str, Any], ctx: Context) -> None:
    """kindle_push, web_push and webhook: the schema covers their rules (spec §12)."""


CHECKS = {
    "apple_push": check_apple_push, "android_push": check_android_push, "kindle_push": _no_rules,
    "web_push": _no_rules, "email": check_email, "sms": check_sms, "webhook": _no_rules,
    "content_card": check_content_card, "whats_app": check_whats_app,
}
