"""The CleverTap account configuration (``fixtures/clevertap/account.json``), loaded and checked at startup.

It holds what the real API checks campaigns against (spec §6.7): Android notification channels, provider
nicknames per channel, custom control groups, plus the sandbox's own knobs (segments, frequency cap,
discarded events, asynchronous counts, ``strict``). A bad file stops startup naming the file, the JSON path
and the problem. Users extend it through the fixtures overlay (``--fixtures DIR``: ``DIR/clevertap/account.json``
merges into the packaged file, ``"replace": true`` replaces it); the dashboard objects become the collections
of ``dashboard_data``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sandbox.core.fixture_files import FixtureError, read_fixture

ACCOUNT_FILE = "clevertap/account.json"
CAMPAIGNS_FILE = "clevertap/campaigns.json"
PROVIDER_CHANNELS = ("sms", "email", "whatsapp")
CHANNELS = ("push", "webpush", "email", "sms", "whatsapp", "webhook", "notificationinbox")


@dataclass(frozen=True, slots=True)
class Segment:
    id: str
    name: str
    where: dict[str, Any]


@dataclass(frozen=True, slots=True)
class Account:
    notification_channels: frozenset[str] = frozenset()
    providers: dict[str, frozenset[str]] = field(default_factory=dict)
    provider_groups: dict[str, frozenset[str]] = field(default_factory=dict)
    custom_control_groups: dict[str, float] = field(default_factory=dict)
    """Custom control group name -> percentage of users held out (deterministic per user)."""
    system_control_group: float = 0.0
    frequency_cap: tuple[int, int] | None = None
    """(messages, days): at most that many deliveries per user in that many days; None = no cap."""
    segments: dict[str, Segment] = field(default_factory=dict)
    discarded_events: frozenset[str] = frozenset()
    async_counts: bool = False
    strict: bool | None = None
    """Learn/strict for CleverTap alone: None follows ``--strict``."""


@dataclass(frozen=True, slots=True)
class DashboardCampaign:
    id: int
    name: str
    channel: str


class _Reader:
    def __init__(self, path: Path, data: Any = None) -> None:
        self.path = path
        self.data = read_fixture(path) if data is None else data
        self.expect(self.data, dict, "$", "an object")

    def fail(self, where: str, problem: str) -> FixtureError:
        return FixtureError(self.path, where, problem)

    def expect(self, value: Any, kind: type | tuple[type, ...], where: str, what: str) -> Any:
        if not isinstance(value, kind) or (isinstance(value, bool) and kind in (int, float, (int, float))):
            raise self.fail(where, f"must be {what}, got {type(value).__name__}")
        return value

    def strings(self, value: Any, where: str) -> frozenset[str]:
        self.expect(value, list, where, "an array of strings")
        for i, item in enumerate(value):
            if not isinstance(item, str) or not item:
                raise self.fail(f"{where}[{i}]", "must be a non-empty string")
        return frozenset(value)

    def percentage(self, value: Any, where: str) -> float:
        self.expect(value, (int, float), where, "a number")
        if not 0 <= value < 100:
            raise self.fail(where, f"must be a percentage from 0 to below 100, got {value}")
        return float(value)


def load_account(path: Path, data: Any = None) -> Account:
    """``data`` (the merged document) read as the account file ``path`` (named in errors); read from ``path``
    when not given."""
    reader = _Reader(path, data)
    data = reader.data
    providers = _channel_lists(reader, data.get("providers", {}), "$.providers")
    groups = _channel_lists(reader, data.get("provider_groups", {}), "$.provider_groups")
    control = reader.expect(data.get("custom_control_groups", {}), dict, "$.custom_control_groups", "an object")
    cap = data.get("frequency_cap")
    frequency_cap = None
    if cap is not None:
        reader.expect(cap, dict, "$.frequency_cap", 'an object {"messages": N, "days": D} or null')
        for key in ("messages", "days"):
            value = cap.get(key)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise reader.fail(f"$.frequency_cap.{key}", "must be a positive integer")
        frequency_cap = (cap["messages"], cap["days"])
    segments = {}
    raw_segments = reader.expect(data.get("segments", {}), dict, "$.segments", "an object keyed by segment id")
    for key, spec in raw_segments.items():
        where = f"$.segments.{key}"
        if not key.isdigit():
            raise reader.fail(where, "segment ids are integers (write them as digit strings)")
        reader.expect(spec, dict, where, 'an object {"name": ..., "where": {...}}')
        reader.expect(spec.get("where"), dict, f"{where}.where", "a CQL where object")
        _check_where(reader, spec["where"], f"{where}.where")
        segments[key] = Segment(key, str(spec.get("name", f"Segment {key}")), spec["where"])
    async_counts = reader.expect(data.get("async_counts", False), bool, "$.async_counts", "a boolean")
    strict = data.get("strict")
    if strict is not None:
        reader.expect(strict, bool, "$.strict", "a boolean (or absent: follow --strict)")
    return Account(
        notification_channels=reader.strings(data.get("notification_channels", []), "$.notification_channels"),
        providers=providers,
        provider_groups=groups,
        custom_control_groups={name: reader.percentage(pct, f"$.custom_control_groups.{name}")
                               for name, pct in control.items()},
        system_control_group=reader.percentage(data.get("system_control_group", 0), "$.system_control_group"),
        frequency_cap=frequency_cap,
        segments=segments,
        discarded_events=reader.strings(data.get("discarded_events", []), "$.discarded_events"),
        async_counts=async_counts,
        strict=strict,
    )


def _channel_lists(reader: _Reader, value: Any, where: str) -> dict[str, frozenset[str]]:
    reader.expect(value, dict, where, "an object keyed by channel")
    out = {}
    for channel, names in value.items():
        if channel not in PROVIDER_CHANNELS:
            raise reader.fail(f"{where}.{channel}", f"unknown channel (expected one of {', '.join(PROVIDER_CHANNELS)})")
        out[channel] = reader.strings(names, f"{where}.{channel}")
    return out


def _check_where(reader: _Reader, where: dict[str, Any], path: str) -> None:
    problem = check_where(where)
    if problem is not None:
        raise reader.fail(path, problem)


def check_where(where: dict[str, Any]) -> str | None:
    """What is wrong with a segment's CQL ``where``, or None."""
    from sandbox.providers.clevertap.audience import CqlError, translate

    try:
        translate(where)
    except CqlError as exc:
        return exc.detail
    return None


def parse_campaign(item: Any) -> DashboardCampaign:
    """One run-time dashboard campaign; ValueError names what is wrong."""
    if not isinstance(item, dict):
        raise ValueError('a dashboard campaign is an object {"id", "name", "channel"}')
    campaign_id = item.get("id")
    if not isinstance(campaign_id, int) or isinstance(campaign_id, bool) or campaign_id <= 0:
        raise ValueError(f"id must be a positive integer campaign id, got {campaign_id!r}")
    channel = item.get("channel")
    if channel not in CHANNELS:
        raise ValueError(f"channel must be one of {', '.join(CHANNELS)}, got {channel!r}")
    return DashboardCampaign(campaign_id, str(item.get("name", "")), channel)


def load_campaigns(path: Path, data: Any = None) -> dict[int, DashboardCampaign]:
    reader = _Reader(path, data)
    items = reader.expect(reader.data.get("campaigns"), list, "$.campaigns", "an array of campaigns")
    out: dict[int, DashboardCampaign] = {}
    for i, item in enumerate(items):
        where = f"$.campaigns[{i}]"
        reader.expect(item, dict, where, 'an object {"id", "name", "channel"}')
        out_id = reader.expect(item.get("id"), int, f"{where}.id", "an integer campaign id")
        if out_id in out:
            raise reader.fail(f"{where}.id", f"duplicate campaign id {out_id}")
        channel = item.get("channel")
        if channel not in CHANNELS:
            raise reader.fail(f"{where}.channel", f"must be one of {', '.join(CHANNELS)}, got {channel!r}")
        out[out_id] = DashboardCampaign(out_id, str(item.get("name", "")), channel)
    return out
