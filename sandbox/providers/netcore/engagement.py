"""Engagement as Netcore records it: when the sandbox clock passes a delivery's step, the contact gets the
matching system activity (``Email Delivered``, ``Email Opened``, ``Email Clicked``...) with ``campaign_id``
and ``channel`` in the tenant's population writes, so a segment on "opened / clicked campaign X" selects
exactly those contacts. [INF] Netcore's system activity names are not in the API docs read (spec §6.3
documents only custom activities); these follow its panel's wording."""

from __future__ import annotations

from typing import Any

from sandbox.core.services import Services
from sandbox.records.engagement import Event

VENDOR = "netcore"
ACTIVITIES = {"delivered": "Delivered", "opened": "Opened", "viewed": "Opened", "clicked": "Clicked",
              "bounced": "Bounced", "unsubscribed": "Unsubscribed", "spam": "Marked Spam", "failed": "Failed"}
CHANNEL_NAMES = {"email": "Email", "sms": "SMS", "push": "App Push", "webpush": "Web Push",
                 "whatsapp": "WhatsApp"}


def settle(services: Services, tenant: str | None) -> int:
    return services.engagement.write_events(VENDOR, tenant, activity)


def activity(event: Event) -> tuple[str, dict[str, Any]] | None:
    """The system activity a delivery step is, with its properties (None: the step is none)."""
    delivery = event.delivery
    status = ACTIVITIES.get(event.status)
    if status is None:
        return None
    campaign = int(delivery.campaign_id) if (delivery.campaign_id or "").isdigit() else delivery.campaign_id
    return (f"{CHANNEL_NAMES.get(delivery.channel, delivery.channel)} {status}",
            {"campaign_id": campaign, "channel": delivery.channel})
