"""Every piece of application state, as typed ``web.AppKey``s: no module globals."""

from __future__ import annotations

from collections import deque
from typing import Any

from aiohttp import web

from sandbox.core.clock import Clock
from sandbox.core.context import Context
from sandbox.core.faults import FaultBook
from sandbox.core.metrics import Metrics
from sandbox.core.provider import Provider
from sandbox.core.ratelimit import RateLimiter
from sandbox.core.services import Services
from sandbox.core.validation import Validators
from sandbox.population.audience.service import AudienceService
from sandbox.records.deliveries import Deliveries
from sandbox.records.engagement import Engagement
from sandbox.records.journal import Journal
from sandbox.records.webhooks import Webhooks
from sandbox.settings import Settings

SETTINGS = web.AppKey("settings", Settings)
JOURNAL = web.AppKey("journal", Journal)
CLOCK = web.AppKey("clock", Clock)
PROVIDERS = web.AppKey("providers", list[Provider])
VALIDATORS = web.AppKey("validators", Validators)
ACCOUNTS = web.AppKey("accounts", dict[str, Any])
FAILURES = web.AppKey("failures", deque[dict[str, Any]])
"""Unexpected server-side exceptions (entry id, operation, traceback), for the pytest plugin to re-raise; the
most recent ``FAILURES_KEPT``."""
FAILURES_KEPT = 1000
AUDIENCE = web.AppKey("audience", AudienceService)
"""The shared fake population: lookups, writes, audience evaluation and estimates."""
DELIVERIES = web.AppKey("deliveries", Deliveries)
"""What would have been sent (``/_sandbox/deliveries``)."""
ENGAGEMENT = web.AppKey("engagement", Engagement)
"""Each delivery's lifecycle (made at startup, once the population is loaded)."""
WEBHOOKS = web.AppKey("webhooks", Webhooks)
"""Outbound calls and their log (``/_sandbox/webhooks``)."""
FAULTS = web.AppKey("faults", FaultBook)
"""Fault-injection rules (``/_sandbox/faults``)."""
LIMITER = web.AppKey("limiter", RateLimiter)
"""Vendor rate-limit counters and per-tenant overrides (``/_sandbox/limits``)."""
METRICS = web.AppKey("metrics", Metrics)
"""Prometheus registry (``/_sandbox/metrics``)."""
CONTEXT = web.AppKey("context", Context)
"""The state above that every vendor request touches, as attributes (``sandbox.core.context``)."""
SERVICES = web.AppKey("services", Services)
"""What providers were given at startup (the same objects as the keys above)."""
CHANGES = web.AppKey("changes", list[int])
"""``[n]``: control-API calls that may have changed state (with the journal's count, when to snapshot)."""
UI_FILES = web.AppKey("ui_files", dict[str, tuple[bytes, str]])
"""The web inspector's page, script and stylesheet (name -> body, content type), read once at startup."""
