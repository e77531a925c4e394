"""Helpers for engagement and webhook tests: a local receiver, the clock, deliveries and outbound calls."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sandbox.receiver import WebhookReceiver

DAY = 86_400


@contextmanager
def receiver() -> Iterator[WebhookReceiver]:
    with WebhookReceiver() as running:
        yield running


async def advance(api: Any, seconds: float, tenant: str | None = None) -> None:
    await api.control("POST", "/clock", json={"advance_seconds": seconds},
                      params={"tenant": tenant} if tenant else None)


async def deliveries(api: Any, **filters: Any) -> dict[str, Any]:
    return await api.control("GET", "/deliveries", params={k: str(v) for k, v in filters.items()})


async def outbound(api: Any, count: int = 1, wait: float = 5.0, **filters: Any) -> list[dict[str, Any]]:
    """Outbound attempts (long poll until ``count`` are logged or ``wait`` seconds pass)."""
    params = {**{k: str(v) for k, v in filters.items()}, "wait": str(wait), "count": str(count)}
    return (await api.control("GET", "/webhooks", params=params))["webhooks"]


async def received(api: Any, hook: WebhookReceiver, count: int = 1, **filters: Any) -> list[Any]:
    """What ``hook`` received once ``count`` outbound calls are logged (waiting without blocking the loop)."""
    await outbound(api, count=count, **filters)
    return hook.wait(count)
