"""What a CleverTap account's dashboard holds, as the sandbox knows it: six collections (core ``Dashboard``),
seeded from ``account.json`` / ``campaigns.json`` (packaged + ``--fixtures`` overlay, merged), extended at
run time (``/_sandbox/vendors/clevertap/<collection>``) and, in learn mode, by the requests that name them.

| collection | id | item | named by |
|---|---|---|---|
| ``channels`` | the channel id | ``{"id"}`` | ``wzrk_cid`` (targets/create.json, send/push.json) |
| ``providers`` | ``<channel>:<nickname>`` | ``{"id", "channel", "name"}`` | ``provider_nick_name`` |
| ``provider_groups`` | ``<channel>:<nickname>`` | ``{"id", "channel", "name"}`` | ``provider_group_nickname`` |
| ``control_groups`` | the name | ``{"id", "percentage"}`` | ``control_group: {"type": "custom", "name"}`` |
| ``segments`` | the segment id (digits) | ``{"id", "name", "where"}`` | ``segment`` (targets/create.json) |
| ``campaigns`` | the campaign id (digits) | ``{"id", "name", "channel"}`` | ``campaign_id`` (send/*.json) |

``References`` applies the learn/strict rule (``Dashboard.resolve``) for one request and can take back what
it provisioned when a later check rejects the request (a rejected request provisions nothing).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sandbox.core.dashboard import Dashboard, Dashboards
from sandbox.core.operations import Call
from sandbox.providers.clevertap import errors
from sandbox.providers.clevertap.account import (
    ACCOUNT_FILE,
    CAMPAIGNS_FILE,
    PROVIDER_CHANNELS,
    Account,
    DashboardCampaign,
    Segment,
    check_where,
    parse_campaign,
)
from sandbox.providers.clevertap.create_checks import fail

if TYPE_CHECKING:
    from sandbox.providers.clevertap import CleverTap

VENDOR = "clevertap"
COLLECTIONS = ("channels", "providers", "provider_groups", "control_groups", "segments", "campaigns")
LEARNED_CONTROL_GROUP_PERCENTAGE = 10.0
"""[INF] share of users a learned custom control group holds out (the sandbox cannot know the dashboard's)."""
LEARNED_SEGMENT_WHERE: dict[str, Any] = {}
"""[INF] a learned segment's audience: everyone (a CQL ``where`` with no condition)."""
LEARNED_CAMPAIGN_NAME = "API {channel} campaign {id} (learned)"
"""Name of a dashboard API campaign learned from a send/*.json ``campaign_id``."""


@dataclass(frozen=True, slots=True)
class Nickname:
    """A provider or provider group nickname, set up for one channel (sms, email, whatsapp)."""

    channel: str
    name: str

    @property
    def id(self) -> str:
        return f"{self.channel}:{self.name}"


@dataclass(frozen=True, slots=True)
class ControlGroup:
    name: str
    percentage: float


def _nicknames(per_channel: dict[str, frozenset[str]]) -> dict[str, Nickname]:
    items = [Nickname(channel, name) for channel, names in per_channel.items() for name in sorted(names)]
    return {item.id: item for item in items}


class DashboardData(Dashboards):
    """Every CleverTap dashboard collection; fixtures come from ``load``."""

    def __init__(self) -> None:
        self.channels: Dashboard[str] = Dashboard(VENDOR, "channels", ACCOUNT_FILE)
        self.providers: Dashboard[Nickname] = Dashboard(VENDOR, "providers", ACCOUNT_FILE)
        self.provider_groups: Dashboard[Nickname] = Dashboard(VENDOR, "provider_groups", ACCOUNT_FILE)
        self.control_groups: Dashboard[ControlGroup] = Dashboard(VENDOR, "control_groups", ACCOUNT_FILE)
        self.segments: Dashboard[Segment] = Dashboard(VENDOR, "segments", ACCOUNT_FILE)
        self.campaigns: Dashboard[DashboardCampaign] = Dashboard(VENDOR, "campaigns", CAMPAIGNS_FILE)

    def load(self, account: Account, campaigns: dict[int, DashboardCampaign]) -> None:
        self.channels.fixtures = {name: name for name in sorted(account.notification_channels)}
        self.providers.fixtures = _nicknames(account.providers)
        self.provider_groups.fixtures = _nicknames(account.provider_groups)
        self.control_groups.fixtures = {name: ControlGroup(name, pct)
                                        for name, pct in account.custom_control_groups.items()}
        self.segments.fixtures = dict(account.segments)
        self.campaigns.fixtures = {str(key): campaign for key, campaign in campaigns.items()}

    def by_name(self) -> dict[str, Dashboard[Any]]:
        return {name: getattr(self, name) for name in COLLECTIONS}

    # -- the control API ------------------------------------------------------------------------
    def list(self, collection: str, tenant: str | None) -> list[dict[str, Any]]:
        return self.listed(collection, tenant, show)

    def add(self, collection: str, item: Any, tenant: str | None) -> dict[str, Any]:
        key, parsed = PARSERS[collection](item)
        self.by_name()[collection].add(tenant, key, parsed)
        return show(key, parsed)

    # -- reads for estimates and deliveries (never provision) ------------------------------------
    def segment_where(self, tenant: str | None, segment_id: Any) -> dict[str, Any] | None:
        found = self.segments.get(tenant, segment_id)
        return None if found is None else found.where

    def control_percentage(self, tenant: str | None, name: Any) -> float:
        found = self.control_groups.get(tenant, name)
        return 0.0 if found is None else found.percentage


def show(key: str, item: Any) -> dict[str, Any]:
    """One item as the control API lists it."""
    if isinstance(item, Nickname):
        return {"id": key, "channel": item.channel, "name": item.name}
    if isinstance(item, ControlGroup):
        return {"id": key, "percentage": item.percentage}
    if isinstance(item, Segment):
        return {"id": key, "name": item.name, "where": item.where}
    if isinstance(item, DashboardCampaign):
        return {"id": item.id, "name": item.name, "channel": item.channel}
    return {"id": key}


# -- run-time additions (POST /_sandbox/vendors/clevertap/<collection>); ValueError names the problem --------
def _object(item: Any, shape: str) -> dict[str, Any]:
    if not isinstance(item, dict):
        raise ValueError(f"expected an object {shape}")
    return item


def _text(item: dict[str, Any], key: str) -> str:
    value = item.get(key)
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"{key} must be a non-empty string, got {value!r}")
    return value


def _parse_channel(item: Any) -> tuple[str, str]:
    name = _text({"id": item} if isinstance(item, str) else _object(item, '{"id": "<wzrk_cid>"}'), "id")
    return name, name


def _parse_nickname(item: Any) -> tuple[str, Nickname]:
    data = _object(item, '{"channel": "sms" | "email" | "whatsapp", "name": "<nickname>"}')
    channel = data.get("channel")
    if channel not in PROVIDER_CHANNELS:
        raise ValueError(f"channel must be one of {', '.join(PROVIDER_CHANNELS)}, got {channel!r}")
    nickname = Nickname(channel, _text(data, "name"))
    return nickname.id, nickname


def _parse_control_group(item: Any) -> tuple[str, ControlGroup]:
    data = _object(item, '{"id": "<name>", "percentage": <0..100>}')
    name = _text(data, "id")
    pct = data.get("percentage", LEARNED_CONTROL_GROUP_PERCENTAGE)
    if isinstance(pct, bool) or not isinstance(pct, int | float) or not 0 <= pct < 100:
        raise ValueError(f"percentage must be a number from 0 to below 100, got {pct!r}")
    return name, ControlGroup(name, float(pct))


def _parse_segment(item: Any) -> tuple[str, Segment]:
    data = _object(item, '{"id": <digits>, "name": "...", "where": {<CQL>}}')
    key = str(data.get("id"))
    if not key.isdigit():
        raise ValueError(f"id must be an integer segment id, got {data.get('id')!r}")
    where = data.get("where", LEARNED_SEGMENT_WHERE)
    if not isinstance(where, dict):
        raise ValueError("where must be a CQL where object")
    problem = check_where(where)
    if problem is not None:
        raise ValueError(f"where: {problem}")
    return key, Segment(key, str(data.get("name", f"Segment {key}")), where)


def _parse_campaign(item: Any) -> tuple[str, DashboardCampaign]:
    campaign = parse_campaign(item)
    return str(campaign.id), campaign


PARSERS: dict[str, Callable[[Any], tuple[str, Any]]] = {
    "channels": _parse_channel, "providers": _parse_nickname, "provider_groups": _parse_nickname,
    "control_groups": _parse_control_group, "segments": _parse_segment, "campaigns": _parse_campaign,
}


# -- the learn/strict rule for one request ------------------------------------------------------------
class References:
    """The dashboard objects one request names: known, provisioned (learn) or rejected (strict) with
    CleverTap's exact error (``Dashboard.resolve``). ``undo`` drops what this request provisioned."""

    def __init__(self, data: DashboardData, call: Call[CleverTap]) -> None:
        self.data = data
        self.call = call
        self.made: list[tuple[Dashboard[Any], str]] = []
        self.noted = len(call.notes)

    def _resolve(self, dashboard: Dashboard[Any], key: str, make: Callable[[], Any],
                 reject: Callable[[], errors.CleverTapFail]) -> Any:
        found = dashboard.get(self.call.tenant, key)
        if found is not None:
            return found
        found = dashboard.resolve(self.call, key, make, reject)
        self.made.append((dashboard, key))
        return found

    def undo(self) -> None:
        """The request was rejected after all: it provisions nothing (and its entry says nothing of it)."""
        for dashboard, key in self.made:
            dashboard.remove(self.call.tenant or "", key)
        del self.call.notes[self.noted:]
        self.made.clear()

    def channel(self, name: str) -> None:
        self._resolve(self.data.channels, name, lambda: name, lambda: fail(errors.ANDROID_CHANNEL_INVALID))

    def provider(self, channel: str, name: str) -> None:
        item = Nickname(channel, name)
        self._resolve(self.data.providers, item.id, lambda: item, lambda: fail(errors.PROVIDER_NICK_NAME_INVALID))

    def provider_group(self, channel: str, name: str) -> None:
        item = Nickname(channel, name)
        self._resolve(self.data.provider_groups, item.id, lambda: item,
                      lambda: fail(errors.PROVIDER_GROUP_INVALID))

    def control_group(self, name: str) -> float:
        found: ControlGroup = self._resolve(
            self.data.control_groups, name, lambda: ControlGroup(name, LEARNED_CONTROL_GROUP_PERCENTAGE),
            lambda: fail(errors.CONTROL_GROUP_UNKNOWN.format(name=name)))
        return found.percentage

    def segment(self, segment_id: Any) -> None:
        key = str(segment_id)
        self._resolve(self.data.segments, key, lambda: Segment(key, f"Segment {key}", LEARNED_SEGMENT_WHERE),
                      lambda: fail(errors.SEGMENT_UNKNOWN.format(id=segment_id)))

    def campaign(self, campaign_id: int, channel: str) -> DashboardCampaign:
        """A dashboard API campaign; a learned one takes the channel of the endpoint that named it."""
        return self._resolve(
            self.data.campaigns, str(campaign_id),
            lambda: DashboardCampaign(campaign_id, LEARNED_CAMPAIGN_NAME.format(channel=channel, id=campaign_id),
                                      channel),
            lambda: errors.CleverTapFail((errors.FIELD_INVALID_CODE,
                                          errors.CAMPAIGN_ID_UNKNOWN.format(id=campaign_id))))

