"""Engagement as Braze records it: when the sandbox clock passes a delivery's open/click (or view,
conversion...) step, the user gets the matching Braze Currents message-engagement event
(``users.messages.email.Open``, ``users.messages.pushnotification.Open``...) with ``campaign_id``,
``canvas_id``, ``message_variation_id`` and ``send_id``, in the tenant's population writes, so segments on
"opened / clicked campaign X" (an event filter on those properties) select exactly those users."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sandbox.records.engagement import Event

if TYPE_CHECKING:
    from sandbox.providers.braze import Braze

VENDOR = "braze"
EVENTS: dict[tuple[str, str], str] = {
    ("email", "delivered"): "users.messages.email.Delivery", ("email", "opened"): "users.messages.email.Open",
    ("email", "clicked"): "users.messages.email.Click", ("email", "bounced"): "users.messages.email.Bounce",
    ("email", "unsubscribed"): "users.messages.email.Unsubscribe",
    ("email", "spam"): "users.messages.email.MarkAsSpam",
    ("push", "clicked"): "users.messages.pushnotification.Open",
    ("push", "failed"): "users.messages.pushnotification.Bounce",
    ("webpush", "clicked"): "users.messages.pushnotification.Open",
    ("sms", "delivered"): "users.messages.sms.Delivery", ("sms", "clicked"): "users.messages.sms.ShortLinkClick",
    ("sms", "failed"): "users.messages.sms.DeliveryFailure",
    ("whatsapp", "delivered"): "users.messages.whatsapp.Delivery",
    ("whatsapp", "viewed"): "users.messages.whatsapp.Read",
    ("content_card", "viewed"): "users.messages.contentcard.Impression",
    ("content_card", "clicked"): "users.messages.contentcard.Click",
}
"""(channel, lifecycle status) -> Braze Currents event name [V-doc Currents message engagement glossary]."""


def settle(provider: Braze, tenant: str | None) -> int:
    return provider.services.engagement.write_events(VENDOR, tenant, currents_event)


def currents_event(event: Event) -> tuple[str, dict[str, Any]] | None:
    """The Currents event a delivery step is, with its properties (None: the step is none)."""
    delivery = event.delivery
    name = EVENTS.get((delivery.channel, event.status))
    if name is None:
        return None
    extra = delivery.extra
    props = {"campaign_id": None if extra.get("canvas_id") else delivery.campaign_id,
             "canvas_id": extra.get("canvas_id"), "message_variation_id": extra.get("message_variation_id"),
             "send_id": extra.get("send_id"), "dispatch_id": extra.get("dispatch_id")}
    return name, {k: v for k, v in props.items() if v}
