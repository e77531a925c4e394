"""Engagement as CleverTap records it, and the campaign report's funnel.

When the sandbox clock passes a delivery's ``viewed``/``opened`` or ``clicked`` step, the user gets the
system event ``Notification Viewed`` / ``Notification Clicked`` with ``Campaign id`` and ``Channel`` (the
properties the packaged population's own notification events carry), in that tenant's population writes:
a segment "clicked campaign X" (``event_name: "Notification Clicked"`` with ``event_properties`` on
``Campaign id``) then selects exactly those users.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sandbox.core.services import Services

if TYPE_CHECKING:
    from sandbox.providers.clevertap import CleverTap

VENDOR = "clevertap"
EVENTS = {"viewed": "Notification Viewed", "opened": "Notification Viewed", "clicked": "Notification Clicked"}
"""Lifecycle status -> CleverTap system event [V-doc developer.clevertap.com system events]."""
SHOWN = ("sent", "delivered", "viewed", "opened", "clicked", "converted", "bounced", "failed", "unsubscribed", "spam")


def settle(provider: CleverTap, tenant: str | None) -> int:
    """Write the events of every step the clock has passed since the last move; returns how many."""
    services = provider.services
    written = 0
    for event in services.engagement.due(VENDOR, tenant):
        name = EVENTS.get(event.status)
        delivery = event.delivery
        if name is None or not delivery.known or delivery.user is None:
            continue
        campaign: Any = int(delivery.campaign_id) if (delivery.campaign_id or "").isdigit() else delivery.campaign_id
        services.audience.add_event(delivery.user, name, services.engagement.population_time(event),
                                    {"Campaign id": campaign, "Channel": delivery.channel}, tenant=delivery.tenant)
        written += 1
    return written


def funnel(services: Services, tenant: str | None, campaign_id: int) -> dict[str, Any]:
    """The report's engagement counts: each status's deliveries so far (as ``/_sandbox/deliveries`` shows)."""
    sent = services.deliveries.query({"vendor": VENDOR, "tenant": tenant, "campaign_id": str(campaign_id)})
    counts = services.engagement.funnel(sent)
    return {**{k: counts.get(k, 0) for k in SHOWN if k in counts or k in ("delivered", "clicked")}, "funnel": counts}
