"""A tenant's newest writes are counted one profile at a time (``rowwise``) and its levels carry their counts
and masks over when they merge: both must answer exactly what the numpy evaluator over one merged index
answers. Generated trees (every node kind and operator) x generated profiles (every value shape) check
``rowwise`` against ``evaluate`` directly; long runs of writes and estimates check the service end to end."""

from __future__ import annotations

import math
import random
from typing import Any

import numpy as np
import pytest

from sandbox.core.clock import Clock
from sandbox.population.audience import rowwise
from sandbox.population.audience.evaluate import count_rows, estimate, evaluate, unreached_reason
from sandbox.population.audience.index import Index
from sandbox.population.audience.overlay import FRESH_MAX, FRESH_MIN
from sandbox.population.audience.service import AudienceService
from sandbox.population.audience.tree import (
    ATTRIBUTE_OPS,
    CHANNELS,
    COUNT_OPS,
    DATE_OPS,
    DAYS_OPS,
    NUMERIC_OPS,
    PRESENCE_OPS,
    REGEX_OPS,
    STATES,
    STRING_OPS,
    validate_tree,
)

NOW = 1_767_225_600.0
DAY = 86_400
NAMES = ["tier", "age", "Customer Type", "email", "tags", "score", "joined", "flag", "name"]
EVENTS = ["Charged", "App Launched", "Viewed"]
EVENT_PROPS = ["Amount", "Items", "Category"]
SCALARS: list[Any] = ["Gold", "gold", "GOLD", "Silver", "Platinum", "true", "False", "TRUE", "42", "42.0", " 7",
                      "-3.5", "2025-06-01", "2025-12-20T10:00:00Z", "2025-12-30T10:00:00+0100", "$D_1766000000",
                      "", "héllo wörld", "a.b", 42, 42.0, 7, -3.5, 0, 1, True, False, 1_766_000_000,
                      1_767_000_000.5, math.nan, math.inf, "gold\0", "\0"]
TEXTS = ["Gold", "gold", "old", "G", "", "42", "true", "wörld", "a.b", "e", "gold\0", "\0", "ld\0"]
PATTERNS = ["^g", "old$", "[0-9]+", "(?i)silver", "^$", r"\.", "ö"]
DATES: list[Any] = ["2025-06-01", "2025-12-25T00:00:00Z", 1_766_000_000, "$D_1767000000", 1_767_225_600.0]


def random_value(rng: random.Random, depth: int = 0) -> Any:
    roll = rng.random()
    if roll < 0.08:
        return None
    if roll < 0.12:
        return {"nested": rng.choice(SCALARS)}
    if roll < 0.25 and depth == 0:
        return [random_value(rng, 1) for _ in range(rng.randint(0, 3))]
    if roll < 0.28 and depth == 1:
        return ["inner"]
    return rng.choice(SCALARS)


def random_events(rng: random.Random) -> list[dict[str, Any]]:
    events = []
    for _ in range(rng.randint(0, 6)):
        roll = rng.random()
        props: Any = {name: random_value(rng) for name in rng.sample(EVENT_PROPS, rng.randint(0, 3))}
        if roll < 0.05:
            props = None
        elif roll < 0.08:
            props = ["not", "a", "dict"]
        ts: Any = int(NOW - rng.randint(-5, 400) * DAY + rng.randint(0, DAY))
        if rng.random() < 0.2:
            ts = float(ts) + 0.5
        elif rng.random() < 0.04:
            ts = rng.choice([math.nan, math.inf, -math.inf])
        event = {"name": rng.choice(EVENTS), "ts": ts}
        if rng.random() < 0.9:
            event["props"] = props
        events.append(event)
    return events


def random_reachability(rng: random.Random) -> Any:
    if rng.random() < 0.1:
        return None
    out: dict[str, Any] = {}
    for channel in rng.sample(sorted(CHANNELS), rng.randint(0, len(CHANNELS))):
        if rng.random() < 0.1:
            out[channel] = None
            continue
        entry: dict[str, Any] = {}
        if rng.random() < 0.8:
            entry["state"] = rng.choice([*sorted(STATES - {"invalid", "dnd"}), None, "weird"])
        if rng.random() < 0.6:
            entry["invalid"] = rng.choice([True, False, None, "yes", 0])
        if rng.random() < 0.6:
            entry["dnd"] = rng.choice([True, False, 1])
        out[channel] = entry
    return out


def random_profile(rng: random.Random, i: int) -> dict[str, Any]:
    profile: dict[str, Any] = {"identity": f"u{i}"}
    for name in ("age", "customer_type", "email", "phone", "name", "joined", "last_active"):
        if rng.random() < 0.7:
            profile[name] = random_value(rng)
    if rng.random() < 0.5:
        profile["email"] = rng.choice([f"u{i}@example.com", "", None, 5])
    if rng.random() < 0.5:
        profile["phone"] = rng.choice([f"+1555{i:04d}", "", None])
    if rng.random() < 0.9:
        profile["properties"] = {name: random_value(rng) for name in rng.sample(NAMES, rng.randint(0, 5))}
    if rng.random() < 0.9:
        profile["devices"] = [{"platform": rng.choice(["android", "ios", "web", "windows", None]),
                               "token": f"t{i}-{k}",
                               "last_active": rng.choice([1_766_000_000 + rng.randint(0, 3) * 1000, 1.5e9, None,
                                                          "x", math.nan, 1_766_000_000])}
                              for k in range(rng.randint(0, 3))]
    profile["reachability"] = random_reachability(rng)
    profile["events"] = random_events(rng)
    return profile


def random_comparison(rng: random.Random, op: str) -> dict[str, Any]:
    cond: dict[str, Any] = {"op": op}
    if rng.random() < 0.3:
        cond["ignore_case"] = rng.random() < 0.5
    if op in PRESENCE_OPS:
        return cond
    if op in STRING_OPS:
        pool: list[Any] = TEXTS
    elif op in REGEX_OPS:
        pool = PATTERNS
    elif op in NUMERIC_OPS:
        pool = [42, 7, -3.5, 0, "42", 1_766_500_000]
    elif op in DATE_OPS:
        pool = DATES
    elif op in DAYS_OPS:
        pool = [0, 1, 7, 30, 365, 2.5]
    else:  # equals, not_equals
        pool = [v for v in SCALARS if not (isinstance(v, float) and not math.isfinite(v))]
    cond["value"] = rng.choice(pool) if rng.random() < 0.7 else rng.sample(pool, rng.randint(1, 3))
    return cond


def random_tree(rng: random.Random, depth: int = 0) -> dict[str, Any]:
    kinds = ["attribute", "event", "reachable", "subscription", "everyone"]
    if depth < 3:
        kinds += ["all", "any", "not"] * 2
    kind = rng.choice(kinds)
    if kind == "everyone":
        return {"everyone": True}
    if kind in ("all", "any"):
        return {kind: [random_tree(rng, depth + 1) for _ in range(rng.randint(0, 3))]}
    if kind == "not":
        return {"not": random_tree(rng, depth + 1)}
    if kind == "attribute":
        return {"attribute": rng.choice(NAMES), **random_comparison(rng, rng.choice(sorted(ATTRIBUTE_OPS)))}
    if kind == "reachable":
        node: dict[str, Any] = {"reachable": rng.choice(sorted(CHANNELS))}
        if rng.random() < 0.4:
            node["platform"] = rng.choice(["android", "ios", "web", ["android", "web"], ["ios", "android"]])
        return node
    if kind == "subscription":
        states = sorted(STATES)
        return {"subscription": rng.choice(sorted(CHANNELS)),
                "state": rng.choice(states) if rng.random() < 0.6 else rng.sample(states, 2)}
    node = {"event": rng.choice(EVENTS)}
    if rng.random() < 0.5:
        node["count"] = {"op": rng.choice(sorted(COUNT_OPS)), "value": rng.choice([0, 1, 2, 3, 1.5])}
    if rng.random() < 0.4:
        node["from"] = int(NOW - rng.randint(0, 300) * DAY)
    if rng.random() < 0.4:
        node["to"] = int(NOW - rng.randint(-3, 100) * DAY)
    if "from" in node and "to" in node and node["from"] > node["to"]:
        node["from"], node["to"] = node["to"], node["from"]
    if rng.random() < 0.3:
        node["last_days"] = rng.choice([0, 1, 30, 90.5])
    if rng.random() < 0.5:
        node["properties"] = [{"name": rng.choice(EVENT_PROPS), **random_comparison(rng, rng.choice(
            sorted(ATTRIBUTE_OPS)))} for _ in range(rng.randint(1, 2))]
    return node


COUNT_ARGS: list[dict[str, Any]] = [
    {"channel": None}, {"channel": "push"}, {"channel": "push", "platforms": ["ios"]},
    {"channel": "push", "platforms": ["android", "ios"], "count_devices": True},
    {"channel": "push", "platforms": ["web"]}, {"channel": "webpush"}, {"channel": "webpush", "count_devices": True},
    {"channel": "email"}, {"channel": "sms"}, {"channel": "whatsapp"},
]


@pytest.mark.parametrize("seed", range(6))
def test_rowwise_matches_the_evaluator_on_generated_trees_and_profiles(seed: int) -> None:
    rng = random.Random(seed)
    profiles = [random_profile(rng, i) for i in range(80)]
    index = Index(profiles, NOW)
    kinds_seen: set[str] = set()
    matched = 0
    for _ in range(250):
        tree = random_tree(rng)
        validate_tree(tree)
        kinds_seen.update(k for k in ("attribute", "event", "reachable", "subscription", "all", "any", "not",
                                      "everyone") if f'"{k}"' in repr(tree).replace("'", '"'))
        expected = evaluate(tree, index, now=NOW)
        got = [rowwise.matches(tree, profile, NOW) for profile in profiles]
        assert got == expected.tolist(), tree
        matched += int(expected.sum())
    assert len(kinds_seen) == 8
    assert 0.1 < matched / (250 * len(profiles)) < 0.9  # the trees split the profiles, not all or none


@pytest.mark.parametrize("seed", range(3))
def test_rowwise_counts_what_count_rows_counts(seed: int) -> None:
    rng = random.Random(100 + seed)
    profiles = [random_profile(rng, i) for i in range(120)]
    index = Index(profiles, NOW)
    for args in COUNT_ARGS:
        for row, profile in enumerate(profiles):
            assert rowwise.contribution(profile, **args) == count_rows(np.array([row]), index, **args), (args, row)


@pytest.mark.parametrize("seed", range(2))
def test_rowwise_gives_the_reason_a_profile_is_unreached_the_evaluator_gives(seed: int) -> None:
    rng = random.Random(200 + seed)
    profiles = [random_profile(rng, i) for i in range(150)]
    index = Index(profiles, NOW)
    for args in COUNT_ARGS:
        channel, platforms = args["channel"] or "email", args.get("platforms")
        for row, profile in enumerate(profiles):
            assert rowwise.unreached_reason(profile, channel, platforms) == unreached_reason(index, row, channel,
                                                                                            platforms)
    assert rowwise.unreached_reason(None, "push") == "not_found"


def test_a_deleted_profile_matches_nothing_and_unknown_shapes_defer_to_the_evaluator() -> None:
    assert rowwise.matches({"everyone": True}, None, NOW) is False
    with pytest.raises(rowwise.Unsupported):
        rowwise.matches({"event": "Charged"}, {"events": [{"name": "Charged", "ts": "2025-01-01"}]}, NOW)
    with pytest.raises(rowwise.Unsupported):
        rowwise.matches({"member_of": "segment:1"}, {"identity": "x"}, NOW)


TREES: list[dict[str, Any]] = [
    {"all": [{"event": "Charged", "last_days": 400, "properties": [{"name": "Amount", "op": "greater_than",
                                                                      "value": 50}]},
             {"attribute": "Customer Type", "op": "equals", "value": ["Gold", "Platinum"]}]},
    {"any": [{"subscription": "email", "state": "unsubscribed"}, {"attribute": "age", "op": "less_than",
                                                                  "value": 30}]},
    {"not": {"attribute": "Plan", "op": "exists"}},
]


def write(service: AudienceService, rng: random.Random, i: int, identities: list[str]) -> str:
    """One write of a random kind; returns the identity written."""
    identity = rng.choice(identities)
    roll = rng.random()
    if roll < 0.35:
        service.add_event(identity, "Charged", service.now() - rng.randint(0, 300) * DAY,
                          {"Amount": rng.randint(0, 120)}, tenant="A")
    elif roll < 0.7:
        service.update(identity, {"customer_type": rng.choice(["Gold", "Silver", "Platinum"]),
                                  "properties": {"Plan": "x"} if rng.random() < 0.5 else {}}, tenant="A")
    elif roll < 0.8:
        service.delete(identity, tenant="A")
    elif roll < 0.9 or i % 40 != 39:
        service.upsert({"identity": f"new-{i}", "customer_type": "Gold", "age": rng.randint(18, 60),
                        "email": f"n{i}@example.com",
                        "events": [{"name": "Charged", "ts": int(service.now()) - DAY, "props": {"Amount": 99}}],
                        "devices": [{"platform": rng.choice(["ios", "android"]), "token": f"t{i}",
                                     "last_active": 1}]}, tenant="A")
        identities.append(f"new-{i}")
        return f"new-{i}"
    else:  # a stamp the one-by-one path leaves to the evaluator (add_event cannot sort it among numbers)
        service.upsert({"identity": f"odd-{i % 3}", "customer_type": "Gold",
                        "events": [{"name": "Charged", "ts": "2025-12-01T00:00:00Z", "props": {"Amount": 60}}]},
                       tenant="A")
        return f"odd-{i % 3}"
    return identity


@pytest.mark.parametrize("seed", range(3))
def test_estimates_after_every_write_answer_like_one_index_over_the_merged_population(seed: int) -> None:
    service = AudienceService.load(clock=Clock(), size=200, seed=seed)
    rng = random.Random(seed)
    identities = [p["identity"] for p in service.profiles(tenant=None)][:60]
    now = service.now()
    for i in range(FRESH_MIN * 8):
        written = write(service, rng, i, identities)
        if i == FRESH_MIN * 4:  # a burst of writes with no query between them
            for j in range(FRESH_MAX + 3):
                write(service, rng, 10_000 + j, identities)
        if i % 7 == 3:
            continue  # several writes between two estimates now and then
        tree = TREES[0] if i % 5 else TREES[1 + i % 2]  # mostly one tree (carried over), now and then others
        every = ({"channel": "push", "platforms": ["android", "ios"]}, {"channel": "email"},
                 {"channel": "push", "count_devices": True}, {"channel": None},
                 {"channel": "push", "platforms": ["ios"]})
        got = [service.estimate(tree, tenant="A", **args) for args in every]  # before anything else reads
        merged = Index.build(service.profiles(tenant="A"), service.reference_ts)
        assert got == [estimate(tree, merged, now=now, **args) for args in every], i
        row, merged_row = service.row_of(written, ("identity",), tenant="A"), merged.row_of(written, ("identity",))
        for channel in ("push", "email", "sms"):  # why a send to the user just written would not reach them
            reason = "not_found" if row is None else service.unreached_reason(row, channel, tenant="A")
            assert reason == ("not_found" if merged_row is None else unreached_reason(merged, merged_row, channel))
        if i % 3 == 0:  # the masks levels carried over answer other queries too
            members = [p["identity"] for p in service.members(tree, tenant="A")]
            assert members == merged.identities(np.flatnonzero(evaluate(tree, merged, now=now)))


def test_a_tree_that_failed_validation_fails_again_whatever_passed_before() -> None:
    service = AudienceService.load(clock=Clock(), size=50, seed=1)
    nan = {"attribute": "age", "op": "equals", "value": math.nan}  # written by orjson as null, as is None
    assert service.estimate(nan, tenant=None, channel=None) == {"users": 0}
    for _ in range(2):
        with pytest.raises(ValueError, match="values must be"):
            service.estimate({"attribute": "age", "op": "equals", "value": None}, tenant=None, channel=None)
