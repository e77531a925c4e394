"""Netcore v4 ``callback_details``, really called when an operation completes (spec §4.3, §4.7, §4.9).

``{"endpoint", "method", "header", "body"}``: the sandbox calls ``endpoint`` with ``method`` (default POST),
the ``header`` entries (an array of ``{"Name": "value"}`` objects, or of ``{"key", "value"}`` pairs, or one
object) and ``body`` (array or object, sent as JSON) with every ``{{name}}`` in its strings replaced by the
campaign's value: ``campaign_id``, ``campaign_name``, ``channel``, ``campaign_state``, ``status``,
``description``, ``message``, ``operation``. Create and update call it once the campaign is stored (state
draft, scheduled or sent), delete once it is gone, and a scheduled campaign's callback is called again when
the sandbox clock sends it ("status updates on campaign creation" [V-doc create page]; the rest [INF]).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from sandbox.core.services import Services
from sandbox.providers.netcore import errors
from sandbox.providers.netcore.state import Campaign

PLACEHOLDER = re.compile(r"\{\{\s*([A-Za-z0-9_.]+)\s*\}\}")
SENT_DESCRIPTION = "Campaign sent."
"""[INF] ``description`` of the status update a scheduled campaign's launch sends."""


def headers_of(raw: Any) -> dict[str, str]:
    items = raw if isinstance(raw, list) else [raw] if isinstance(raw, Mapping) else []
    out: dict[str, str] = {}
    for item in items:
        if not isinstance(item, Mapping):
            continue
        if set(item) >= {"key", "value"}:
            out[str(item["key"])] = str(item["value"])
        else:
            out.update({str(k): str(v) for k, v in item.items()})
    return out


def substitute(node: Any, values: Mapping[str, Any]) -> Any:
    if isinstance(node, str):
        return PLACEHOLDER.sub(lambda m: str(values.get(m[1], m[0])), node)
    if isinstance(node, Mapping):
        return {k: substitute(v, values) for k, v in node.items()}
    if isinstance(node, list):
        return [substitute(v, values) for v in node]
    return node


def fire(services: Services, tenant: str | None, campaign: Campaign, operation: str, description: str,
         callback: Any = None) -> None:
    """Call ``callback`` (default: the campaign's own ``callback_details``) for ``campaign``."""
    details = callback if callback is not None else campaign.details.get("callback_details")
    values = {"campaign_id": campaign.id, "campaign_name": campaign.name, "channel": campaign.channel,
              "campaign_state": campaign.state, "status": errors.SUCCESS, "description": description,
              "message": description, "operation": operation}
    call_back(services, tenant, details, operation, values, f"campaign {campaign.id}")


def call_back(services: Services, tenant: str | None, details: Any, operation: str, values: Mapping[str, Any],
              label: str) -> None:
    """Call one ``callback_details`` with ``values`` substituted into its body."""
    if not isinstance(details, Mapping):
        return
    endpoint = details.get("endpoint")
    services.webhooks.send(tenant=tenant, vendor="netcore", operation=operation, url=str(endpoint or ""),
                           method=str(details.get("method") or "POST"), headers=headers_of(details.get("header")),
                           body=substitute(details.get("body", {}), values), label=label,
                           refuse=None if endpoint else "callback_details has no endpoint")
