"""Engagement: what happens to each delivery after the send, on the tenant's sandbox clock.

Every delivery starts ``sent`` at its delivery time. Its channel's funnel (the population profile's
``engagement`` section, see ``DEFAULT_ENGAGEMENT``) then says, step by step, whether the next status is
reached (``rate``, conditional on the step before) and how long after the previous step (up to ``within``
seconds). Missing the first step (``delivered``) means the channel's ``failure`` status (bounced, failed).
Once delivered, each ``opt_outs`` entry (unsubscribed, spam...) may close the history after its last step.

Whether and when each step happens is drawn from a hash of (seed, tenant, vendor, campaign, user, channel,
step): the same test sees the same funnel every run, whatever else ran, and no wall clock is involved. The
user's reachability shapes the draws: a channel's ``fails_when`` flags (invalid address, DND) make the
delivery fail, and ``state_factors`` scale the engagement rates by subscription state (opted in users
engage more, unsubscribed ones less). Recipients unknown to the population fail.

The plan is computed once per delivery (lazily, on first read) and the history shown is the part of it the
tenant's clock has passed. ``due`` hands each vendor the steps that became visible since it last asked, so
it can write them into the tenant's population the way that vendor records engagement.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sandbox.core.clock import Clock, iso
from sandbox.records.deliveries import Deliveries, Delivery

SENT = "sent"
DEFAULT_ENGAGEMENT: dict[str, Any] = {
    "state_factors": {"opted_in": 1.25, "subscribed": 1.0, "unsubscribed": 0.25},
    "channels": {
        "email": {"failure": "bounced", "fails_when": ["invalid"],
                  "steps": [{"status": "delivered", "rate": 0.97, "within": 300},
                            {"status": "opened", "rate": 0.35, "within": 86400},
                            {"status": "clicked", "rate": 0.3, "within": 3600},
                            {"status": "converted", "rate": 0.2, "within": 86400}],
                  "opt_outs": [{"status": "unsubscribed", "rate": 0.01, "within": 3600},
                               {"status": "spam", "rate": 0.002, "within": 3600}]},
        "push": {"failure": "failed", "fails_when": ["invalid"],
                 "steps": [{"status": "delivered", "rate": 0.95, "within": 60},
                           {"status": "viewed", "rate": 0.6, "within": 3600},
                           {"status": "clicked", "rate": 0.15, "within": 3600},
                           {"status": "converted", "rate": 0.2, "within": 86400}]},
        "webpush": {"failure": "failed", "fails_when": ["invalid"],
                    "steps": [{"status": "delivered", "rate": 0.9, "within": 60},
                              {"status": "viewed", "rate": 0.5, "within": 3600},
                              {"status": "clicked", "rate": 0.1, "within": 3600},
                              {"status": "converted", "rate": 0.2, "within": 86400}]},
        "sms": {"failure": "failed", "fails_when": ["invalid", "dnd"],
                "steps": [{"status": "delivered", "rate": 0.97, "within": 60},
                          {"status": "clicked", "rate": 0.08, "within": 3600},
                          {"status": "converted", "rate": 0.2, "within": 86400}],
                "opt_outs": [{"status": "unsubscribed", "rate": 0.005, "within": 3600}]},
        "whatsapp": {"failure": "failed", "fails_when": ["invalid", "dnd"],
                     "steps": [{"status": "delivered", "rate": 0.97, "within": 60},
                               {"status": "viewed", "rate": 0.7, "within": 3600},
                               {"status": "clicked", "rate": 0.12, "within": 3600},
                               {"status": "converted", "rate": 0.2, "within": 86400}]},
        "notificationinbox": {"steps": [{"status": "delivered", "rate": 1.0, "within": 60},
                                        {"status": "viewed", "rate": 0.4, "within": 86400},
                                        {"status": "clicked", "rate": 0.1, "within": 3600}]},
        "content_card": {"steps": [{"status": "delivered", "rate": 1.0, "within": 60},
                                   {"status": "viewed", "rate": 0.4, "within": 86400},
                                   {"status": "clicked", "rate": 0.1, "within": 3600}]},
    },
}
"""Packaged defaults (also written out in ``fixtures/population/default.json``); a channel not listed
(webhook) stays ``sent``. Rates are conditional on the previous step; ``within`` is in seconds."""
UNKNOWN_FAILURE = "failed"
"""What happens to a delivery whose recipient is not in the population (``known: false``); a known recipient
the lookup cannot find by the addressed id (e.g. a Braze alias) engages with default reachability."""


@dataclass(frozen=True, slots=True)
class Step:
    status: str
    rate: float
    within: float


@dataclass(frozen=True, slots=True)
class Funnel:
    """One channel's lifecycle."""

    steps: tuple[Step, ...]
    failure: str = "failed"
    fails_when: tuple[str, ...] = ()
    opt_outs: tuple[Step, ...] = ()


@dataclass(frozen=True, slots=True)
class Event:
    """A step that became visible: ``delivery`` reached ``status`` at ``at`` (sandbox time, epoch s)."""

    delivery: Delivery
    status: str
    at: float
    index: int


def parse_config(section: Any) -> tuple[dict[str, Funnel], dict[str, float]]:
    """The profile's ``engagement`` section (channels merged over the defaults); ValueError names the path."""
    if section is None:
        section = {}
    if not isinstance(section, Mapping):
        raise ValueError("population profile: $.engagement must be an object")
    channels = {**DEFAULT_ENGAGEMENT["channels"], **(section.get("channels") or {})}
    factors = {**DEFAULT_ENGAGEMENT["state_factors"], **(section.get("state_factors") or {})}
    funnels = {name: _funnel(raw, f"$.engagement.channels.{name}") for name, raw in channels.items()}
    for state, factor in factors.items():
        if isinstance(factor, bool) or not isinstance(factor, (int, float)) or factor < 0:
            raise ValueError(f"population profile: $.engagement.state_factors.{state} must be a number >= 0")
    return funnels, {k: float(v) for k, v in factors.items()}


def _funnel(raw: Any, path: str) -> Funnel:
    if not isinstance(raw, Mapping):
        raise ValueError(f"population profile: {path} must be an object")
    steps = tuple(_step(s, f"{path}.steps[{i}]") for i, s in enumerate(raw.get("steps") or ()))
    opt_outs = tuple(_step(s, f"{path}.opt_outs[{i}]") for i, s in enumerate(raw.get("opt_outs") or ()))
    fails_when = raw.get("fails_when") or []
    if not isinstance(fails_when, list) or not all(f in ("invalid", "dnd") for f in fails_when):
        raise ValueError(f"population profile: {path}.fails_when must list 'invalid' and/or 'dnd'")
    return Funnel(steps, str(raw.get("failure", "failed")), tuple(fails_when), opt_outs)


def _step(raw: Any, path: str) -> Step:
    if not isinstance(raw, Mapping) or not isinstance(raw.get("status"), str):
        raise ValueError(f"population profile: {path} needs a string status")
    rate, within = raw.get("rate"), raw.get("within", 3600)
    for name, value in (("rate", rate), ("within", within)):
        if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
            raise ValueError(f"population profile: {path}.{name} must be a number >= 0")
    if rate > 1:
        raise ValueError(f"population profile: {path}.rate must be between 0 and 1")
    return Step(raw["status"], float(rate), float(within))


def draw(seed: int, delivery: Delivery, step: str) -> tuple[float, float]:
    """Two stable numbers in [0, 1) for one step of one delivery: (does it happen, how late)."""
    key = "\x00".join((str(seed), delivery.tenant or "", delivery.vendor, delivery.campaign_id or "",
                       delivery.user or "", delivery.channel, step))
    digest = hashlib.sha256(key.encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64, int.from_bytes(digest[8:16], "big") / 2**64


def epoch(text: str) -> float:
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()
    except ValueError:
        return 0.0


class Engagement:
    """Plans and shows each delivery's lifecycle; ``due`` yields steps the clock has newly passed."""

    def __init__(self, seed: int, section: Any, audience: Any, deliveries: Deliveries, clock: Clock) -> None:
        self.seed = seed
        self.funnels, self.factors = parse_config(section)
        self.audience = audience
        self.deliveries = deliveries
        self.clock = clock

    # -- plans -----------------------------------------------------------------------------------
    def plan(self, delivery: Delivery) -> tuple[tuple[str, float], ...]:
        """Every step this delivery will reach, with its sandbox time (computed once, then kept)."""
        plan = getattr(delivery, "plan", None)  # deliveries restored from an older snapshot lack it
        if plan is None:
            plan = delivery.plan = self._plan(delivery)
            delivery.settled = getattr(delivery, "settled", 0)
        return plan

    def _plan(self, delivery: Delivery) -> tuple[tuple[str, float], ...]:
        at = epoch(delivery.time)
        out: list[tuple[str, float]] = [(SENT, at)]
        funnel = self.funnels.get(delivery.channel)
        if funnel is None or not funnel.steps:
            return tuple(out)
        reach = ((self.audience.reachability(delivery.user, delivery.channel, tenant=delivery.tenant)
                  if delivery.known and delivery.user else None) or {})
        first = funnel.steps[0]
        happens, late = draw(self.seed, delivery, first.status)
        if not delivery.known or any(reach.get(flag) for flag in funnel.fails_when) or happens >= first.rate:
            failure = funnel.failure if delivery.known else UNKNOWN_FAILURE
            return (*out, (failure, at + _delay(late, first.within)))
        factor = self.factors.get(str(reach.get("state", "subscribed")), 1.0)
        at += _delay(late, first.within)
        out.append((first.status, at))
        for step in funnel.steps[1:]:
            happens, late = draw(self.seed, delivery, step.status)
            if happens >= min(1.0, step.rate * factor):
                break
            at += _delay(late, step.within)
            out.append((step.status, at))
        for step in funnel.opt_outs:
            happens, late = draw(self.seed, delivery, step.status)
            if happens < step.rate:
                out.append((step.status, at + _delay(late, step.within)))
                break
        return tuple(out)

    def history(self, delivery: Delivery, now: float | None = None) -> list[tuple[str, float]]:
        """The steps the delivery's tenant clock has passed."""
        now = self.clock.time(delivery.tenant) if now is None else now
        return [(status, at) for status, at in self.plan(delivery) if at <= now]

    def view(self, delivery: Delivery, now: float | None = None) -> dict[str, Any]:
        """``status`` (the latest step) and ``history`` ([{status, at}]) as ``/_sandbox/deliveries`` shows."""
        steps = self.history(delivery, now)
        return {"status": steps[-1][0] if steps else SENT,
                "history": [{"status": status, "at": iso(at)} for status, at in steps]}

    def reached(self, delivery: Delivery, status: str, now: float | None = None) -> bool:
        return any(s == status for s, _ in self.history(delivery, now))

    def funnel(self, deliveries: Iterable[Delivery]) -> dict[str, int]:
        """How many of ``deliveries`` reached each status so far (each on its tenant's clock)."""
        counts: dict[str, int] = {SENT: 0}
        for delivery in deliveries:
            for status, _ in self.history(delivery):
                counts[status] = counts.get(status, 0) + 1
        return counts

    # -- materialising ---------------------------------------------------------------------------
    def population_time(self, event: Event) -> float:
        """When ``event`` happened in population time (the population's reference date + the clock's offset),
        the time base of profile events."""
        tenant = event.delivery.tenant
        return float(self.audience.now(tenant)) - (self.clock.time(tenant) - event.at)

    def write_events(self, vendor: str, tenant: str | None,
                     describe: Callable[[Event], tuple[str, dict[str, Any]] | None]) -> int:
        """For each of ``vendor``'s due steps (``due``) that ``describe`` names as (event name, properties),
        that event in the delivered user's profile, as their tenant sees it (users the population does not
        know get none); returns how many were written."""
        written = 0
        for event in self.due(vendor, tenant):
            delivery = event.delivery
            described = describe(event) if delivery.known and delivery.user else None
            profile = None if described is None else self.audience.find(delivery.user, tenant=delivery.tenant)
            if profile is None or described is None:
                continue
            name, props = described
            self.audience.add_event(str(profile["identity"]), name, self.population_time(event), props,
                                    tenant=delivery.tenant)
            written += 1
        return written

    def due(self, vendor: str, tenant: str | None) -> list[Event]:
        """Steps of ``vendor``'s deliveries (one tenant, or every tenant when None) that the clock has passed
        since the last call, oldest first; each is handed out once (a reset forgets them with the deliveries)."""
        filters = {"vendor": vendor} if tenant is None else {"vendor": vendor, "tenant": tenant}
        events: list[Event] = []
        now: dict[str | None, float] = {}
        for delivery in self.deliveries.query(filters):
            plan = self.plan(delivery)
            if delivery.settled >= len(plan):
                continue
            if delivery.tenant not in now:
                now[delivery.tenant] = self.clock.time(delivery.tenant)
            index = delivery.settled
            while index < len(plan) and plan[index][1] <= now[delivery.tenant]:
                events.append(Event(delivery, plan[index][0], plan[index][1], index))
                index += 1
            delivery.settled = index
        events.sort(key=lambda e: (e.at, e.delivery.id, e.index))
        return events


def _delay(late: float, within: float) -> float:
    """At least a second after the previous step, at most ``within`` seconds."""
    return float(max(1, round(late * within)))
