"""The vendor registry: one line per vendor. Core code never imports a vendor by name elsewhere."""

from __future__ import annotations

from ..provider import Provider
from .braze import Braze
from .clevertap import CleverTap
from .netcore import Netcore

PROVIDER_CLASSES: tuple[type[Provider], ...] = (
    CleverTap,
    Braze,
    Netcore,
)
