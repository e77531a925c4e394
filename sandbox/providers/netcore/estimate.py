"""``POST /_sandbox/audience/estimate`` for Netcore: any generation's audience JSON, read by that generation's
parser (gen-1 ``campaign``, ``v3``, ``v4``) and turned into the neutral tree by ``audience``."""

from __future__ import annotations

from typing import Any

from sandbox.core.provider import AudienceQuery
from sandbox.providers.netcore import campaign, v3, v4
from sandbox.providers.netcore.audience import CHANNELS, check_audience, resolver, tree_of
from sandbox.providers.netcore.state import NetcoreState


def translate(state: NetcoreState, tenant: str | None, spec: Any) -> AudienceQuery:
    """Any generation's audience JSON: v4 ``audience_details``, v3 ``contact_details`` or gen-1
    ``{"data_source", "list_id"|"segment_id"}``; an optional ``channel``/``type`` (``apn``, ``email``) inside
    picks the channel to estimate for."""
    if not isinstance(spec, dict):
        raise ValueError("expected an object: v4 audience_details, v3 contact_details or gen-1 data_source")
    if "data_source" in spec:
        if spec["data_source"] not in ("list", "segment"):
            raise ValueError("data_source must be list or segment")
        audience = campaign.audience_of(spec)
    elif {"include_list", "exclude_list"} & spec.keys():
        audience = v4.audience_of({"audience_details": spec})
    else:
        audience = v3.audience_of({"contact_details": spec})
    data = state.tenant(tenant)
    check_audience(None, state, data, tenant, audience, {})
    channel = spec.get("channel") or spec.get("type")
    if channel is not None and (not isinstance(channel, str) or channel not in CHANNELS):
        raise ValueError(f"unknown channel {channel!r}: use apn or email")
    state.heal(data, tenant)
    return AudienceQuery(tree_of(audience), channel=CHANNELS.get(channel) if channel else None,
                         resolve_member=resolver(state, data, tenant))
