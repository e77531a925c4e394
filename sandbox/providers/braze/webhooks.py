"""Braze ``webhook`` messaging objects, really called: once per recipient, to the object's ``url`` with its
``request_method``, ``request_headers`` and ``body`` after the Liquid subset of other messages was rendered
for that recipient (``dispatch.render``) [V-doc messaging/webhook_object.md]. Campaigns and Canvases whose
dashboard messages include a webhook variation fire the same way."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sandbox.core.services import Services

NO_BODY_METHODS = ("GET", "DELETE")
"""[INF] sent without a body."""


def fire(services: Services, tenant: str | None, operation: str, content: Mapping[str, Any], recipient: str,
         delivery_id: int) -> None:
    url = content.get("url")
    method = str(content.get("request_method") or "POST").upper()
    headers = content.get("request_headers") if isinstance(content.get("request_headers"), Mapping) else {}
    body: Any = content.get("body")
    if method in NO_BODY_METHODS or body is None:
        body = None
    elif not isinstance(body, str):
        body = str(body)
    services.webhooks.send(tenant=tenant, vendor="braze", operation=operation, url=str(url or ""), method=method,
                           headers={str(k): str(v) for k, v in (headers or {}).items()}, body=body,
                           label=f"delivery {delivery_id} to {recipient}",
                           refuse=None if url else "the webhook object has no url")
