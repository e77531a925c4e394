"""Gen-3 ``POST /v4/campaign/{create,update,get,list,test,delete}``: email campaigns (spec §4).

Lifecycle (spec §4.8, [INF] where noted): ``draft`` is stored; ``active`` with ``schedule_time`` "now" (or a
past time) is sent at once and becomes ``sent``; ``active`` with a future time becomes ``scheduled`` and is
sent when the sandbox clock reaches it (``POST /_sandbox/clock``). Drafts and scheduled campaigns can be
updated (``campaign_state: "draft"`` takes a scheduled one back); sent ones cannot [INF].
"""

from __future__ import annotations

import copy
from typing import Any

from sandbox.core.errors import FieldError, ValidationFailed
from sandbox.core.operations import Call, Reply
from sandbox.core.services import Services
from sandbox.providers.netcore import errors, panel, people, schedule, send, webhooks
from sandbox.providers.netcore.audience import Audience, check_audience, ids
from sandbox.providers.netcore.state import Campaign, NetcoreState, TenantData, state_of
from sandbox.records.deliveries import Target

CHANNEL = "email"
"""The v4 campaign pages are email only (spec §4)."""
DRAFT, ACTIVE, SCHEDULED, SENT = "draft", "active", "scheduled", "sent"
EDITABLE = (DRAFT, SCHEDULED)
DEFAULT_STATE = DRAFT
"""[INF] without ``campaign_state`` a campaign is a draft (3P: "use draft for testing", spec §4.8)."""


# -- create / update --------------------------------------------------------------------------------
async def v4_campaign_create(call: Call) -> Reply:
    state, data, now = _context(call)
    entries: list[dict[str, Any]] = call.body["campaign_details"]
    names = _names(data)
    for index, entry in enumerate(entries):
        _check(call, state, data, entry, f"campaign_details[{index}]", names)
        names.add(entry["campaign_name"])
    results = []
    for entry in entries:
        details = copy.deepcopy(entry)
        campaign = Campaign(state.new_campaign_id(data, call.tenant, "v4"), "v4", CHANNEL, entry["campaign_name"],
                            DRAFT, {k: v for k, v in details.items() if k != "channel"})
        data.campaigns[campaign.id] = campaign
        _apply_state(call.services, state, call.tenant, data, campaign, entry.get("campaign_state", DEFAULT_STATE), now)
        webhooks.fire(call.services, call.tenant, campaign, "v4_campaign_create", errors.V4_CREATED)
        results.append(_result(campaign.id, errors.V4_CREATED))
    return _answer(results, errors.V4_CREATED)


async def v4_campaign_update(call: Call) -> Reply:
    state, data, now = _context(call)
    entries: list[dict[str, Any]] = call.body["campaign_details"]
    changes = []
    for index, entry in enumerate(entries):
        where = f"campaign_details[{index}]"
        campaign = _campaign(call, state, data, entry["campaign_id"], f"{where}.campaign_id", entry)
        if campaign.state not in EDITABLE:
            raise errors.fail(errors.CAMPAIGN_NOT_EDITABLE, f"{where}.campaign_id")
        merged = {**campaign.details, **{k: copy.deepcopy(v) for k, v in entry.items() if k != "channel"}}
        merged["campaign_state"] = entry.get("campaign_state", ACTIVE if campaign.state == SCHEDULED else DRAFT)
        _check(call, state, data, {**merged, "channel": entry["channel"]}, where, _names(data, but=campaign.id))
        changes.append((campaign, merged))
    results = []
    for campaign, merged in changes:
        campaign.details, campaign.name = merged, merged["campaign_name"]
        _apply_state(call.services, state, call.tenant, data, campaign, merged["campaign_state"], now)
        webhooks.fire(call.services, call.tenant, campaign, "v4_campaign_update", errors.V4_UPDATED)
        results.append(_result(campaign.id, errors.V4_UPDATED))
    return _answer(results, errors.V4_UPDATED)


def _check(call: Call, state: NetcoreState, data: TenantData, entry: dict[str, Any], where: str,
           names: set[str]) -> None:
    if entry["channel"] != CHANNEL:
        raise errors.fail(errors.CHANNEL_NOT_SUPPORTED, f"{where}.channel")
    if entry["campaign_name"] in names:
        raise errors.fail(errors.CAMPAIGN_NAME_TAKEN, f"{where}.campaign_name")
    schedule.due_time(entry.get("schedule_time"), 0.0, f"{where}.schedule_time")
    audience = audience_of(entry)
    check_audience(call, state, data, call.tenant, audience, audience_fields(where))
    content = entry.get("content_details") or {}
    if content.get("template_id") not in (None, ""):
        send.template(call, state, call.tenant, content["template_id"], CHANNEL,
                      f"{where}.content_details.template_id")
    if entry.get("campaign_state", DEFAULT_STATE) == ACTIVE:
        if content.get("template_id") in (None, ""):
            raise errors.required(f"{where}.content_details.template_id")
        if audience.is_empty():
            raise errors.fail(errors.AUDIENCE_MISSING, f"{where}.audience_details")


def _apply_state(services: Services, state: NetcoreState, tenant: str | None, data: TenantData,
                 campaign: Campaign, wanted: str, now: float) -> None:
    if wanted != ACTIVE:
        _set(campaign, DRAFT, None)
        return
    due = schedule.due_time(campaign.details.get("schedule_time"), now, "schedule_time")
    if due > now:
        _set(campaign, SCHEDULED, due)
    else:
        campaign.details["schedule_time"] = schedule.to_iso(now)
        launch(services, state, tenant, data, campaign)


def _set(campaign: Campaign, new_state: str, due: float | None) -> None:
    campaign.state, campaign.due = new_state, due
    campaign.details["campaign_state"] = new_state


def launch(services: Services, state: NetcoreState, tenant: str | None, data: TenantData,
           campaign: Campaign) -> int:
    """Send now: ``running`` while deliveries are recorded, then ``sent`` [INF §4.8]."""
    _set(campaign, "running", None)
    details = campaign.details
    capping = bool((details.get("frequency_capping") or {}).get("enable_frequency_capping"))
    count = send.deliver(services, state, tenant, data, campaign, content_of(state, tenant, details),
                         audience_of(details), capping=capping)
    _set(campaign, SENT, None)
    return count


# -- get / list ---------------------------------------------------------------------------------------
async def v4_campaign_get(call: Call) -> Reply:
    state, data, _ = _context(call)
    channels = set(call.body["channel"])
    wanted = call.body.get("campaign_ids") or []
    found = [_campaign(call, state, data, cid, f"campaign_ids[{i}]") for i, cid in enumerate(wanted)] or _all(data)
    details = [view(c) for c in found if c.channel in channels]
    return Reply(errors.v4_body({"campaign_details": details}, errors.V4_FETCHED))


MAX_PAGE_NUMBER = 2**31 - 1
"""[INF] The largest page_size/page_no accepted (larger ones get the invalid-field 400; the sandbox would
otherwise echo a number JSON cannot carry). Netcore's own bound is not documented."""


async def v4_campaign_list(call: Call) -> Reply:
    _, data, _ = _context(call)
    body = call.body
    channels, states, wanted = body.get("channel"), body.get("campaign_states"), body.get("campaign_ids")
    found = [c for c in _all(data) if (not channels or c.channel in channels)
             and (not states or c.state in states) and (not wanted or c.id in wanted)]
    size, page = int(body["page_size"]), int(body["page_no"])  # JSON Schema integers include 5.0
    for name, value in (("page_size", size), ("page_no", page)):
        if value > MAX_PAGE_NUMBER:
            raise ValidationFailed([FieldError((name,), "maximum", f"{name} is invalid", expected=MAX_PAGE_NUMBER)])
    shown = found[(page - 1) * size: page * size]
    return Reply(errors.v4_body({"campaign_details": [view(c) for c in shown], "page_no": page,
                                 "page_size": size, "total_count": len(found)}, errors.V4_LISTED))


# -- test / delete ------------------------------------------------------------------------------------
async def v4_campaign_test(call: Call) -> Reply:
    state, data, _ = _context(call)
    planned = []
    for index, entry in enumerate(call.body["test_campaign_details"]):
        where = f"test_campaign_details[{index}]"
        if entry["channel"] != CHANNEL:
            raise errors.fail(errors.CHANNEL_NOT_SUPPORTED, f"{where}.channel")
        campaign = _campaign(call, state, data, entry["campaign_id"], f"{where}.campaign_id")
        content = content_of(state, call.tenant, campaign.details, f"{where}.campaign_id", call, campaign)
        planned.append((campaign, content, entry["test_user_details"]["email_ids"]))
    for campaign, content, emails in planned:
        targets = [target(state, email, call.tenant) for email in emails]
        send.record(call.services, call.tenant, data, campaign, content, targets, values={}, capping=False,
                    extra={"generation": "v4", "test": True})
    return Reply(errors.v4_body({"status": errors.SUCCESS, "description": errors.V4_TESTED}, errors.V4_TESTED))


async def v4_campaign_delete(call: Call) -> Reply:
    state, data, _ = _context(call)
    entries = call.body["campaign_details"]
    found = [_campaign(call, state, data, e["campaign_id"], f"campaign_details[{i}].campaign_id")
             for i, e in enumerate(entries)]
    text = errors.V4_DELETED_WITH_CALLBACK if call.body.get("callback_details") else errors.V4_DELETED
    for campaign in found:
        data.campaigns.pop(campaign.id, None)
        data.deleted.add(campaign.id)
        webhooks.fire(call.services, call.tenant, campaign, "v4_campaign_delete", text,
                      call.body.get("callback_details"))
    return _answer([_result(c.id, text) for c in found], text)


# -- helpers ------------------------------------------------------------------------------------------
def target(state: NetcoreState, email: str, tenant: str | None) -> send.Recipient:
    """A test address: personalised with the contact it belongs to, if the population has one."""
    profile = people.find(state.people, {"EMAIL": email}, tenant)
    return send.Recipient(Target(email, known=profile is not None),
                          people.attributes_view(profile) if profile else {"EMAIL": email})


def _context(call: Call) -> tuple[NetcoreState, TenantData, float]:
    state = state_of(call.provider)
    data = state.tenant(call.tenant)
    state.sync_campaigns(data, call.tenant)
    return state, data, call.now


def _all(data: TenantData) -> list[Campaign]:
    return sorted((c for c in data.campaigns.values() if c.generation == "v4"), key=lambda c: c.id)


def _names(data: TenantData, but: int | None = None) -> set[str]:
    return {c.name for c in _all(data) if c.id != but}


def _campaign(call: Call, state: NetcoreState, data: TenantData, campaign_id: Any, field: str,
              entry: dict[str, Any] | None = None) -> Campaign:
    """The tenant's v4 campaign, or one of the panel's (learned in learn mode, shaped by an update ``entry``)."""
    return state.panel_campaign(call, data, int(campaign_id), entry, field)


def view(campaign: Campaign) -> dict[str, Any]:
    """A campaign as ``get``/``list`` show it (spec §4.4)."""
    shown = {**campaign.details, "campaign_id": campaign.id, "campaign_state": campaign.state}
    return {**shown, "provisioned": True} if campaign.provisioned else shown


def _result(campaign_id: int, description: str) -> dict[str, Any]:
    return {"id": campaign_id, "status": errors.SUCCESS, "description": description}


def _answer(results: list[dict[str, Any]], message: str) -> Reply:
    """One entry: ``data`` is its result object (as the delete doc shows, §4.7); several: a list [INF]."""
    return Reply(errors.v4_body(results[0] if len(results) == 1 else results, message))


def audience_fields(where: str) -> dict[str, str]:
    return {"lists": f"{where}.audience_details.include_list.list_ids",
            "segments": f"{where}.audience_details.include_list.seg_ids",
            "exclude_lists": f"{where}.audience_details.exclude_list.list_ids",
            "exclude_segments": f"{where}.audience_details.exclude_list.seg_ids"}


def audience_of(entry: dict[str, Any]) -> Audience:
    """``audience_details``: ``include_list``/``exclude_list`` with ``list_ids`` and ``seg_ids`` (spec §4.3,
    §4.4), ``limit`` caps the reach."""
    details = _object(entry.get("audience_details"))
    include, exclude = _object(details.get("include_list")), _object(details.get("exclude_list"))
    limit = details.get("limit")
    return Audience(
        lists=ids(include.get("list_ids")),
        segments=ids(include.get("seg_ids")) + ids(include.get("segment_ids")),
        exclude_lists=ids(exclude.get("list_ids")),
        exclude_segments=ids(exclude.get("seg_ids")) + ids(exclude.get("segment_ids")),
        limit=limit if isinstance(limit, int) and not isinstance(limit, bool) and limit > 0 else None)


def _object(value: Any) -> dict[str, Any]:
    """``value`` if it is an object, else empty (estimates read audiences no schema has checked)."""
    return value if isinstance(value, dict) else {}


def content_of(state: NetcoreState, tenant: str | None, details: dict[str, Any], field: str | None = None,
               call: Call | None = None, campaign: Campaign | None = None) -> dict[str, str]:
    """The email: the template's body, ``subject_line`` (else the template's subject), preheader, sender.
    A campaign learned without content (learn mode) is tested with a learned template's."""
    content = details.get("content_details") or {}
    if content.get("template_id") in (None, "") and campaign is not None and campaign.provisioned:
        found = {"subject": campaign.name, "body": panel.LEARNED_CAMPAIGN_BODY.format(id=campaign.id)}
    else:
        found = send.template(call, state, tenant, content.get("template_id"), CHANNEL,
                              field or "content_details.template_id")
    sender = details.get("sender_details") or {}
    email = {"subject": content.get("subject_line") or found["subject"], "preheader": content.get("preheader"),
             "body": found["body"], "sender_name": sender.get("sender_name"),
             "sender_email": sender.get("sender_email")}
    return {k: str(v) for k, v in email.items() if v}
