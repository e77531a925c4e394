"""The /_sandbox control API: ours, JSON in and out, errors as {"error": {kind, message, details}}."""

from __future__ import annotations

from aiohttp import web

from sandbox.control import (
    admin,
    audience,
    deliveries,
    failures,
    faults,
    limits,
    metrics,
    requests,
    ui,
    vendors,
    webhooks,
)

PREFIX = "/_sandbox"


def setup(app: web.Application) -> None:
    for module in (admin, requests, deliveries, failures, audience, vendors, faults, limits, metrics, webhooks):
        module.add_routes(app.router, PREFIX)
    ui.setup(app, PREFIX)
