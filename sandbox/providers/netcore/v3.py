"""Gen-2 ``POST /v3/campaign/create``: one call creates an app-push campaign and sends, schedules or saves it
as a draft (spec §2). ``apikey`` + ``clientid`` travel in the body; the tenant is the clientid."""

from __future__ import annotations

from typing import Any

from sandbox.core.operations import Call, Reply
from sandbox.core.services import Services
from sandbox.providers.netcore import errors, schedule, send
from sandbox.providers.netcore.audience import Audience, check_audience, ids
from sandbox.providers.netcore.campaign import check_apps, push_content
from sandbox.providers.netcore.state import Campaign, NetcoreState, TenantData, state_of

CHANNEL = "apn"
SEND_NOW, SCHEDULE, DRAFT = "send now", "schedule", "draft"
STATUSES = {SEND_NOW: SEND_NOW, "schedule": SCHEDULE, "scheduled": SCHEDULE, "draft": DRAFT}
"""``campaign_status`` values: "send now" [V-doc §2]; "schedule"/"scheduled" and "draft" are [INF §2]."""
DEFAULT_STATUS = DRAFT
"""[INF] without ``campaign_status`` the campaign is saved as a draft (nothing is sent by surprise)."""
AUDIENCE_FIELDS = {"lists": "contact_details.list_ids", "segments": "contact_details.segment_ids",
                   "exclude_lists": "contact_details.suppression_list_ids",
                   "exclude_segments": "contact_details.suppression_segment_ids"}


async def v3_campaign_create(call: Call) -> Reply:
    body: dict[str, Any] = call.body
    if body["channel"] != CHANNEL:
        raise errors.fail(errors.CHANNEL_NOT_SUPPORTED, "channel")
    status = STATUSES.get(str(body.get("campaign_status") or DEFAULT_STATUS).strip().lower())
    if status is None:
        raise errors.invalid("campaign_status")
    state = state_of(call.provider)
    data = state.tenant(call.tenant)
    now = call.now
    due = schedule.due_time(body.get("campaign_schedule_date"), now, "campaign_schedule_date")
    audience = audience_of(body)
    check_audience(call, state, data, call.tenant, audience, AUDIENCE_FIELDS)
    check_apps(call, state, body.get("app_ids") or [], "app_ids")
    if not body.get("inline_template") and body.get("template_id") not in (None, ""):
        send.template(call, state, call.tenant, body["template_id"], CHANNEL, "template_id")
    if status != DRAFT:
        content_of(state, call.tenant, body, call)
        if audience.is_empty():
            raise errors.fail(errors.AUDIENCE_MISSING, "contact_details")
    campaign = _stored(state, call.tenant, data, body)
    if status == DRAFT:
        campaign.state, campaign.due = DRAFT, None
        return Reply(errors.gen1_success(errors.DRAFTED, campaign_id=campaign.id))
    if due > now:
        campaign.state, campaign.due = "scheduled", due
        return Reply(errors.gen1_success(errors.SCHEDULED, campaign_id=campaign.id))
    launch(call.services, state, call.tenant, data, campaign)
    return Reply(errors.gen1_success(errors.CREATED, campaign_id=campaign.id))


def _stored(state: NetcoreState, tenant: str | None, data: TenantData, body: dict[str, Any]) -> Campaign:
    """A new campaign, or the tenant's v3 draft named by ``campaign_id`` [INF §2: why create takes an id]."""
    details = {k: v for k, v in body.items() if k != "apikey"}
    existing = data.campaigns.get(body["campaign_id"]) if isinstance(body.get("campaign_id"), int) else None
    if existing is not None and existing.generation == "v3" and existing.state == DRAFT:
        existing.details, existing.name = details, str(body.get("campaign_name") or "")
        return existing
    campaign = Campaign(state.new_campaign_id(data, tenant, "v3"), "v3", CHANNEL, str(body.get("campaign_name") or ""),
                        DRAFT, details)
    data.campaigns[campaign.id] = campaign
    return campaign


def audience_of(body: dict[str, Any]) -> Audience:
    details = body.get("contact_details") if isinstance(body.get("contact_details"), dict) else {}
    return Audience(lists=ids(details.get("list_ids")), segments=ids(details.get("segment_ids")),
                         exclude_lists=ids(details.get("suppression_list_ids")),
                         exclude_segments=ids(details.get("suppression_segment_ids")),
                         all_users=bool(details.get("is_all_user_campaign")))


def content_of(state: NetcoreState, tenant: str | None, body: dict[str, Any], call: Call | None = None
               ) -> dict[str, str]:
    """``inline_template`` (title, description, landing page, url) or the fixture template ``template_id``."""
    inline = body.get("inline_template")
    if inline:
        content = {"title": inline.get("title"), "body": inline.get("description"),
                   "landing_page": inline.get("landing_page"), "url": inline.get("url")}
        return {k: str(v) for k, v in content.items() if v}
    if body.get("template_id") in (None, ""):
        raise errors.required("template_id")
    return push_content(send.template(call, state, tenant, body["template_id"], CHANNEL, "template_id"))


def launch(services: Services, state: NetcoreState, tenant: str | None, data: TenantData,
           campaign: Campaign) -> int:
    body = campaign.details
    count = send.deliver(services, state, tenant, data, campaign, content_of(state, tenant, body), audience_of(body),
                         capping=bool(body.get("enable_frequency_capping")))
    campaign.state, campaign.due = "sent", None
    return count
