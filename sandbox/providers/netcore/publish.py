"""``POST /apiv2?activity=upload_contact_and_publish``: the gen-2 email campaign in one call (spec §3).

A JSON body (not a form, unlike the other apiv2 calls) with ``campaign_name``, ``subject_line``,
``sender_email_id``, ``sender_name``, ``replyto``, ``schedule_date`` ("now" or ISO [INF]), ``templateid``
or ``source_file`` (a hosted HTML template, not fetched), ``target_lists`` and ``suppression_list``
(comma-separated id strings), ``tags``, ``notify_me``. Answered apiv2-style [INF §3].
"""

from __future__ import annotations

from typing import Any

import orjson

from sandbox.core.operations import Call, Reply
from sandbox.core.services import Services
from sandbox.providers.netcore import errors, schedule, send
from sandbox.providers.netcore.audience import Audience, check_audience
from sandbox.providers.netcore.state import Campaign, NetcoreState, TenantData, state_of

CHANNEL = "email"
GENERATION = "apiv2"
REQUIRED = ("campaign_name", "subject_line", "sender_email_id", "target_lists")
"""[INF §3: the parameter table is cut off; these are what every documented variant sends]."""
HOSTED = "[hosted template {url}]"
"""[INF] The sandbox does not fetch ``source_file``: the delivery body names it."""


def split(value: Any) -> list[str]:
    """``"151,152"`` -> ["151", "152"] (ids and tags are comma-separated strings, spec §3)."""
    return [part.strip() for part in str(value or "").split(",") if part.strip()]


async def upload_contact_and_publish(call: Call) -> Reply:
    try:
        body = orjson.loads(call.raw)
    except orjson.JSONDecodeError:
        raise errors.fail(errors.INVALID_JSON) from None
    if not isinstance(body, dict):
        raise errors.fail(errors.INVALID_JSON)
    for name in REQUIRED:
        if not isinstance(body.get(name), str | int) or body.get(name) == "":
            raise errors.required(name)
    state = state_of(call.provider)
    data = state.tenant(call.tenant)
    audience = audience_of(body)
    check_audience(call, state, data, call.tenant, audience,
                   {"lists": "target_lists", "exclude_lists": "suppression_list"})
    content_of(state, call.tenant, body, call)
    now = call.now
    due = schedule.due_time(body.get("schedule_date"), now, "schedule_date")
    campaign = Campaign(state.new_campaign_id(data, call.tenant, GENERATION), GENERATION, CHANNEL,
                        str(body["campaign_name"]), "scheduled", body, due)
    data.campaigns[campaign.id] = campaign
    if due <= now:
        launch(call.services, state, call.tenant, data, campaign)
    return Reply({"requestid": state.request_id(call.tenant), "result": errors.APIV2_SUCCESS})


def audience_of(body: dict[str, Any]) -> Audience:
    return Audience(lists=split(body.get("target_lists")), exclude_lists=split(body.get("suppression_list")))


def content_of(state: NetcoreState, tenant: str | None, body: dict[str, Any], call: Call | None = None
               ) -> dict[str, str]:
    if body.get("templateid") not in (None, ""):
        html = send.template(call, state, tenant, body["templateid"], CHANNEL, "templateid")["body"]
    elif body.get("source_file"):
        html = HOSTED.format(url=body["source_file"])
    else:
        raise errors.required("templateid")
    email = {"subject": body["subject_line"], "body": html, "sender_name": body.get("sender_name"),
             "sender_email": body["sender_email_id"], "reply_to": body.get("replyto")}
    return {k: str(v) for k, v in email.items() if v}


def launch(services: Services, state: NetcoreState, tenant: str | None, data: TenantData,
           campaign: Campaign) -> int:
    body = campaign.details
    count = send.deliver(services, state, tenant, data, campaign, content_of(state, tenant, body), audience_of(body),
                         extra={"tags": split(body.get("tags"))})
    campaign.state, campaign.due = "sent", None
    return count
