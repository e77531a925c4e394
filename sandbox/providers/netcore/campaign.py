"""Gen-1 handlers, the seed's flow: ``POST /campaign/create`` stores, ``POST /campaign/execute`` sends.

Spec §0-§1 and §9 (the execute field names after ``frequency_capping`` are cut off in Netcore's docs; the
sandbox accepts ``list_id`` / ``segment_id`` / ``data_source_id`` and ``personalization`` / ``payload``).
"""

from __future__ import annotations

from typing import Any

from sandbox.core.operations import Call, Reply
from sandbox.providers.netcore import errors, panel, send
from sandbox.providers.netcore.audience import Audience, check_audience, ids
from sandbox.providers.netcore.state import Campaign, NetcoreState, state_of

CHANNEL = "apn"
"""The only gen-1 campaign type documented (spec §1, §5)."""
CREATED, EXECUTED = "created", "executed"


async def campaign_create(call: Call) -> Reply:
    body: dict[str, Any] = call.body
    if body["type"] != CHANNEL:
        raise errors.fail(errors.CHANNEL_NOT_SUPPORTED, "type")
    if not body.get("app_ids") and not body.get("app_id"):
        raise errors.required("app_ids")
    state = state_of(call.provider)
    check_apps(call, state, body.get("app_ids") or body.get("app_id"), "app_ids")
    if body.get("template_id") not in (None, ""):
        send.template(call, state, call.tenant, body["template_id"], CHANNEL, "template_id")
    data = state.tenant(call.tenant)
    campaign = Campaign(state.new_campaign_id(data, call.tenant, "gen1"), "gen1", CHANNEL, str(body.get("name") or ""),
                        CREATED, dict(body))
    data.campaigns[campaign.id] = campaign
    return Reply(errors.gen1_success(errors.CREATED, campaign_id=campaign.id))


async def campaign_execute(call: Call) -> Reply:
    body: dict[str, Any] = call.body
    state = state_of(call.provider)
    data = state.tenant(call.tenant)
    campaign = data.campaigns.get(int(body["campaign_id"]))
    if campaign is None or campaign.generation != "gen1":
        raise errors.fail(errors.CAMPAIGN_NOT_FOUND, "campaign_id")
    if campaign.state == EXECUTED:
        raise errors.fail(errors.CAMPAIGN_ALREADY_EXECUTED, "campaign_id")
    if body["type"] != campaign.channel:
        raise errors.fail(errors.CHANNEL_NOT_SUPPORTED, "type")
    audience = audience_of(body)
    check_audience(call, state, data, call.tenant, audience, {"lists": "list_id", "segments": "segment_id"})
    found = send.template(call, state, call.tenant, campaign.details.get("template_id"), CHANNEL, "template_id")
    values = body.get("personalization") or body.get("payload") or {}
    send.deliver(call.services, state, call.tenant, data, campaign, push_content(found), audience, values=values,
                 capping=bool(body.get("frequency_capping")), extra={"data_source": body["data_source"]})
    campaign.state = EXECUTED
    return Reply(errors.gen1_success(errors.EXECUTED, campaign_id=campaign.id))


def check_apps(call: Call, state: NetcoreState, app_ids: Any, field: str) -> None:
    """Every app id names an app of the account (``account.json`` ``app_ids``; learned in learn mode)."""
    for app_id in app_ids if isinstance(app_ids, list) else [app_ids]:
        name = app_id.strip() if isinstance(app_id, str) else ""
        if name:
            panel.resolve(call, state.panel.app_ids, call.tenant, name, lambda a=name: panel.learned_app(a),
                          lambda: errors.fail(errors.APP_NOT_FOUND, field), numeric=False)


def audience_of(body: dict[str, Any]) -> Audience:
    source = body["data_source"]
    chosen = ids(body.get(f"{source}_id")) or ids(body.get(f"{source}_ids")) or ids(
        body.get("data_source_id"))
    if not chosen:
        raise errors.required(f"{source}_id")
    return Audience(lists=chosen) if source == "list" else Audience(segments=chosen)


def push_content(template: dict[str, Any]) -> dict[str, str]:
    """An app push's content from a template: title, body and, when set, the landing page."""
    return {k: str(template[k]) for k in ("title", "body", "landing_page", "url") if template.get(k)}
