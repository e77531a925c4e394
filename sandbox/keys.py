"""Every piece of application state, as typed ``web.AppKey``s: no module globals."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from aiohttp import web

if TYPE_CHECKING:
    from .clock import Clock
    from .journal import Journal
    from .provider import Provider
    from .settings import Settings
    from .validation import Validators

SETTINGS = web.AppKey("settings", "Settings")
JOURNAL = web.AppKey("journal", "Journal")
CLOCK = web.AppKey("clock", "Clock")
PROVIDERS = web.AppKey("providers", "list[Provider]")
VALIDATORS = web.AppKey("validators", "Validators")
ACCOUNTS = web.AppKey("accounts", "dict[str, Any]")
FAILURES = web.AppKey("failures", "list[dict[str, Any]]")
"""Unexpected server-side exceptions (entry id, operation, traceback), for the pytest plugin to re-raise."""
SERVICES = web.AppKey("services", "dict[str, Any]")
"""Shared vendor-neutral services (population index, store, deliveries...) by name."""

__all__ = ["ACCOUNTS", "CLOCK", "FAILURES", "JOURNAL", "PROVIDERS", "SERVICES", "SETTINGS", "VALIDATORS",
           "Any", "Clock", "Journal", "Provider", "Settings", "Validators"]
