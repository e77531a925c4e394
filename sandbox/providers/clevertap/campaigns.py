"""``/1/targets/{create,list,result,stop}.json``: campaigns from events and properties (spec §6.1-§6.5, §6.7)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from sandbox.core.operations import Call, Reply
from sandbox.providers.clevertap import create_checks, engagement, errors, webhooks
from sandbox.providers.clevertap.deliver import estimates, run_campaign, segment_resolver
from sandbox.providers.clevertap.state import Campaign

if TYPE_CHECKING:
    from sandbox.providers.clevertap import CleverTap


async def targets_create(call: Call[CleverTap]) -> Reply:
    provider = call.provider
    if "req_id" in call.query or call.request.method == "GET":
        return follow_up(call)
    body: dict[str, Any] = call.body
    refs = provider.references(call)
    try:
        spec = create_checks.check(body, refs)
    except errors.CleverTapFail:
        refs.undo()
        raise
    estimate_only = body.get("estimate_only") is True
    skip = body.get("skip_estimate") is True and not estimate_only
    reach = {} if skip else estimates(provider.people, segment_resolver(provider.dashboard, call.tenant),
                                      call.tenant, spec.target_mode, spec.tree, spec.devices,
                                      bool(body.get("send_to_all_devices")))
    answer: dict[str, Any] = {"status": "success"}
    if not estimate_only:
        answer["id"] = create(call, spec, reach)
    answer["estimates"] = reach
    if body.get("async_estimate") is True:
        req_id = provider.state.request_id(call.tenant, answer)
        return Reply({"status": "partial", "req_id": req_id})
    return Reply(answer)


def follow_up(call: Call[CleverTap]) -> Reply:
    """The answer held for a ``req_id`` (async estimates, counts): given once, then forgotten."""
    raw = call.query.get("req_id", "")
    if not raw:
        raise create_checks.fail(errors.FIELD_EMPTY.format(field="req_id"))
    pending = call.provider.state.tenant(call.tenant).pending
    answer = pending.pop(int(raw), None) if raw.isascii() and raw.isdigit() else None
    if answer is None:
        raise create_checks.fail(errors.REQUEST_ID_UNKNOWN)
    return Reply(answer)


def create(call: Call[CleverTap], spec: create_checks.CreateRequest, reach: dict[str, int]) -> int:
    provider = call.provider
    now = call.now
    campaign_id = provider.state.campaign_id(call.tenant)
    campaign = Campaign(id=campaign_id, name=spec.name, target_mode=spec.target_mode, body=call.body,
                        tree=spec.tree, when=spec.when if spec.when is not None else now, created=now,
                        devices=spec.devices, estimates=reach)
    state = provider.state.tenant(call.tenant)
    state.campaigns[campaign_id] = campaign
    if campaign.when <= now:
        run(provider, call.tenant, campaign, now)
    return campaign_id


def run(provider: CleverTap, tenant: str | None, campaign: Campaign, now: float) -> None:
    state = provider.state.tenant(tenant)
    campaign.report = run_campaign(provider.services, provider.people, provider.account, provider.dashboard, tenant,
                                   state, campaign, now)
    campaign.status = "completed"
    webhooks.fire(provider, tenant, campaign)


def run_due(provider: CleverTap, tenant: str | None) -> int:
    """Run every pending campaign of ``tenant`` (every tenant when None) whose time has come on that tenant's
    clock. Returns how many ran."""
    ran = 0
    for name, state in provider.state.tenants.select(tenant):
        now = provider.services.clock.time(name or None)
        due = sorted((c for c in state.campaigns.values() if c.status == "pending" and c.when <= now),
                     key=lambda c: (c.when, c.id))
        for campaign in due:
            run(provider, name or None, campaign, now)
            ran += 1
    return ran


def _yyyymmdd(value: Any, field: str) -> int:
    try:
        datetime.strptime(str(value), "%Y%m%d")
    except ValueError:
        raise create_checks.invalid(field, f"expected a date YYYYMMDD, got {value!r}") from None
    return int(value)


def scheduled_on(ts: float) -> int:
    """``scheduled_on`` as an int ``YYYYMMDDHHMM`` (UTC) [INF: the real format is not documented]."""
    return int(datetime.fromtimestamp(ts, UTC).strftime("%Y%m%d%H%M"))


async def targets_list(call: Call[CleverTap]) -> Reply:
    start = _yyyymmdd(call.body["from"], "from")
    end = _yyyymmdd(call.body["to"], "to")
    if start > end:
        raise create_checks.invalid("from", "the from date cannot be after the to date")
    rows = []
    for campaign in call.provider.state.tenant(call.tenant).campaigns.values():
        when = scheduled_on(campaign.when)
        if start <= when // 10000 <= end:
            rows.append({"id": campaign.id, "name": campaign.name, "scheduled_on": when, "status": campaign.status})
    return Reply({"status": "success", "targets": rows})


def _campaign(call: Call[CleverTap]) -> Campaign | None:
    return call.provider.state.tenant(call.tenant).campaigns.get(int(call.body["id"]))


async def targets_result(call: Call[CleverTap]) -> Reply:
    campaign = _campaign(call)
    campaign_id = int(call.body["id"])
    if campaign is None:
        campaigns = call.provider.dashboard.campaigns
        dashboard = campaigns.get(call.tenant, campaign_id)
        if dashboard is None:
            raise create_checks.fail(errors.CAMPAIGN_UNKNOWN.format(id=campaign_id))
        sent = len(call.services.deliveries.query({"vendor": "clevertap", "tenant": call.tenant,
                                                    "campaign_id": str(campaign_id)}))
        result = {"id": campaign_id, "name": dashboard.name, "target_mode": dashboard.channel, "sent": sent,
                  **engagement.funnel(call.services, call.tenant, campaign_id)}
        if campaigns.provisioned(call.tenant, campaign_id):
            result["provisioned"] = True  # learned from a send (learn mode), as the control API lists it
        return Reply({"status": "success", "result": result})
    if campaign.report is None:
        raise errors.CleverTapFail((errors.CAMPAIGN_NOT_COMPLETED_STATUS, errors.CAMPAIGN_NOT_COMPLETED.format(
            id=campaign.id, status=campaign.status)), status=errors.CAMPAIGN_NOT_COMPLETED_STATUS)
    report = campaign.report
    return Reply({"status": "success", "result": {
        "id": campaign.id, "name": campaign.name, "target_mode": campaign.target_mode, "status": campaign.status,
        "targeted": report["targeted"], "sent": report["sent"],
        "control_group": report["control_group"], "frequency_capped": report["frequency_capped"],
        "expired": report["expired"], "estimates": campaign.estimates,
        **engagement.funnel(call.services, call.tenant, campaign.id)}})


async def targets_stop(call: Call[CleverTap]) -> Reply:
    campaign = _campaign(call)
    if campaign is None:
        raise create_checks.fail(errors.CAMPAIGN_UNKNOWN.format(id=call.body["id"]))
    campaign.status = "stopped"
    return Reply({"status": "success"})
