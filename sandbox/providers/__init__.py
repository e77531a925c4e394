"""The vendor registry: one line per vendor. Core code never imports a vendor by name elsewhere."""

from __future__ import annotations

from sandbox.core.provider import Provider
from sandbox.providers.braze import Braze
from sandbox.providers.clevertap import CleverTap
from sandbox.providers.netcore import Netcore

PROVIDER_CLASSES: tuple[type[Provider], ...] = (
    CleverTap,
    Braze,
    Netcore,
)
