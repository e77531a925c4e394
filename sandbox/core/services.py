"""``Services``: what the core gives every provider at startup (typed; providers never reach into the app).

Handlers reach the same object as ``call.services``; vendor logic modules (deliver, dispatch, send...) take
it as an argument and import neither aiohttp nor the app keys.
"""

from __future__ import annotations

from dataclasses import dataclass

from sandbox.core.clock import Clock
from sandbox.population.audience.service import AudienceService
from sandbox.records.deliveries import Deliveries
from sandbox.records.engagement import Engagement
from sandbox.records.webhooks import Webhooks
from sandbox.settings import Settings


@dataclass(frozen=True, slots=True)
class Services:
    settings: Settings
    clock: Clock
    """Per-tenant sandbox time: ``clock.time(tenant)``."""
    audience: AudienceService
    """The population (shared base + per-tenant writes): lookups, writes, estimates, recipients."""
    deliveries: Deliveries
    """What would have been sent: ``deliveries.send(tenant=, vendor=, campaign_id=, time=)``, then
    ``deliver(target, channel, content)`` or ``skip(target, channel, reason)`` per recipient."""
    engagement: Engagement
    """Each delivery's lifecycle on the tenant's clock: ``view``, ``funnel``, ``due(vendor, tenant)``."""
    webhooks: Webhooks
    """Outbound calls off the request path: ``webhooks.send(tenant=, vendor=, operation=, url=, ...)``."""
