"""Engagement as Netcore records it: when the sandbox clock passes a delivery's step, the contact gets the
matching system activity (``Email Delivered``, ``Email Opened``, ``Email Clicked``...) with ``campaign_id``
and ``channel`` in the tenant's population writes, so a segment on "opened / clicked campaign X" selects
exactly those contacts. [INF] Netcore's system activity names are not in the API docs read (spec §6.3
documents only custom activities); these follow its panel's wording."""

from __future__ import annotations

from sandbox.core.services import Services

VENDOR = "netcore"
ACTIVITIES = {"delivered": "Delivered", "opened": "Opened", "viewed": "Opened", "clicked": "Clicked",
              "bounced": "Bounced", "unsubscribed": "Unsubscribed", "spam": "Marked Spam", "failed": "Failed"}
CHANNEL_NAMES = {"email": "Email", "sms": "SMS", "push": "App Push", "webpush": "Web Push",
                 "whatsapp": "WhatsApp"}


def settle(services: Services, tenant: str | None) -> int:
    written = 0
    for event in services.engagement.due(VENDOR, tenant):
        delivery = event.delivery
        activity = ACTIVITIES.get(event.status)
        profile = (services.audience.find(delivery.user, tenant=delivery.tenant)
                   if activity and delivery.known and delivery.user else None)
        if profile is None:
            continue
        name = f"{CHANNEL_NAMES.get(delivery.channel, delivery.channel)} {activity}"
        at = services.engagement.population_time(event)
        campaign = int(delivery.campaign_id) if (delivery.campaign_id or "").isdigit() else delivery.campaign_id
        services.audience.add_event(str(profile["identity"]), name, at,
                                    {"campaign_id": campaign, "channel": delivery.channel}, tenant=delivery.tenant)
        written += 1
    return written
