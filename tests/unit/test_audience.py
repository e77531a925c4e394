"""Audience engine: every node type and operator, checked against plain Python loops over the profiles."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

from sandbox.core.clock import Clock
from sandbox.population.audience import (
    Index,
    UnknownMember,
    estimate,
    evaluate,
    recipients,
    sample_identities,
    validate_tree,
)
from sandbox.population.audience.evaluate import unreached_reason
from sandbox.population.audience.index import FrameIndex
from sandbox.population.audience.service import AudienceService
from sandbox.population.audience.tree import CHANNELS
from sandbox.population.generator import build_frame, generate, load_profile

REF = 1767225600  # 2026-01-01T00:00:00Z, the default profile's reference date
DAY = 86400
Predicate = Callable[[dict[str, Any]], bool]


@pytest.fixture(scope="module")
def users() -> list[dict[str, Any]]:
    return generate(load_profile(), seed=7, size=300)


@pytest.fixture(scope="module", params=["dicts", "columns"])
def index(request: pytest.FixtureRequest, users: list[dict[str, Any]]) -> Index:
    """Every check runs on both indexes: over profile dicts (tenants' writes) and over the built population's
    columns (``FrameIndex``), which must answer exactly the same."""
    if request.param == "dicts":
        return Index.build(users, reference_ts=REF)
    return FrameIndex(build_frame(load_profile(), seed=7, size=300), reference_ts=REF)


def expected(users: list[dict[str, Any]], predicate: Predicate) -> list[str]:
    return [u["identity"] for u in users if predicate(u)]


def matched(tree: dict[str, Any], index: Index, **kwargs: Any) -> list[str]:
    return index.identities(np.flatnonzero(evaluate(tree, index, **kwargs)))


def events(
    u: dict[str, Any], name: str, lo: float = -1e18, hi: float = 1e18, props: Predicate = lambda p: True
) -> int:
    return sum(1 for e in u["events"] if e["name"] == name and lo <= e["ts"] <= hi and props(e["props"]))


def prop(u: dict[str, Any], name: str) -> Any:
    return u["properties"].get(name)


# -- generated population: attributes ------------------------------------------------------------------
ATTRIBUTE_CASES: list[tuple[str, dict[str, Any], Predicate]] = [
    (
        "alias equals",
        {"attribute": "Customer Type", "op": "equals", "value": "Gold"},
        lambda u: u["customer_type"] == "Gold",
    ),
    (
        "array value OR",
        {"attribute": "Customer Type", "op": "equals", "value": ["Gold", "Platinum"]},
        lambda u: u["customer_type"] in ("Gold", "Platinum"),
    ),
    (
        "not_equals",
        {"attribute": "Plan", "op": "not_equals", "value": "free"},
        lambda u: prop(u, "Plan") != "free",
    ),
    ("contains", {"attribute": "email", "op": "contains", "value": "gmail"}, lambda u: "gmail" in u["email"]),
    (
        "does_not_contain",
        {"attribute": "city", "op": "does_not_contain", "value": "a"},
        lambda u: "a" not in u["city"],
    ),
    (
        "contains ignore_case",
        {"attribute": "name", "op": "contains", "value": "AN", "ignore_case": True},
        lambda u: "an" in u["name"].lower(),
    ),
    (
        "starts_with",
        {"attribute": "phone", "op": "starts_with", "value": "+91"},
        lambda u: u["phone"].startswith("+91"),
    ),
    (
        "ends_with",
        {"attribute": "email", "op": "ends_with", "value": "mail.com"},
        lambda u: u["email"].endswith("mail.com"),
    ),
    (
        "matches_regex",
        {"attribute": "time_zone", "op": "matches_regex", "value": "^America/"},
        lambda u: u["time_zone"].startswith("America/"),
    ),
    (
        "does_not_match_regex",
        {"attribute": "time_zone", "op": "does_not_match_regex", "value": "^Europe/"},
        lambda u: not u["time_zone"].startswith("Europe/"),
    ),
    (
        "exists",
        {"attribute": "Last Order Date", "op": "exists"},
        lambda u: "Last Order Date" in u["properties"],
    ),
    (
        "does_not_exist",
        {"attribute": "App Version", "op": "does_not_exist"},
        lambda u: "App Version" not in u["properties"],
    ),
    ("greater_than", {"attribute": "Age", "op": "greater_than", "value": 40}, lambda u: u["age"] > 40),
    (
        "greater_than_equals",
        {"attribute": "age", "op": "greater_than_equals", "value": 40},
        lambda u: u["age"] >= 40,
    ),
    (
        "less_than",
        {"attribute": "Loyalty Points", "op": "less_than", "value": 1000},
        lambda u: prop(u, "Loyalty Points") < 1000,
    ),
    (
        "less_than_equals numeric string",
        {"attribute": "lifetime_value", "op": "less_than_equals", "value": "150.5"},
        lambda u: u["lifetime_value"] <= 150.5,
    ),
    ("equals number", {"attribute": "Age", "op": "equals", "value": 30}, lambda u: u["age"] == 30),
    (
        "equals True string",
        {"attribute": "Newsletter", "op": "equals", "value": "True"},
        lambda u: prop(u, "Newsletter") is True,
    ),
    (
        "equals False string",
        {"attribute": "Newsletter", "op": "equals", "value": "False"},
        lambda u: prop(u, "Newsletter") is False,
    ),
    (
        "equals bool",
        {"attribute": "Newsletter", "op": "equals", "value": True},
        lambda u: prop(u, "Newsletter") is True,
    ),
    (
        "list attribute equals",
        {"attribute": "Interests", "op": "equals", "value": "books"},
        lambda u: "books" in prop(u, "Interests"),
    ),
    (
        "list attribute OR",
        {"attribute": "Interests", "op": "equals", "value": ["books", "toys"]},
        lambda u: bool({"books", "toys"} & set(prop(u, "Interests"))),
    ),
    (
        "before ISO",
        {"attribute": "signup_date", "op": "before", "value": "2024-01-01T00:00:00Z"},
        lambda u: u["signup_date"] < "2024-01-01T00:00:00Z",
    ),
    (
        "after epoch",
        {"attribute": "last_active", "op": "after", "value": REF - 30 * DAY},
        lambda u: u["last_active"] > REF - 30 * DAY,
    ),
    (
        "within_last_days",
        {"attribute": "last_active", "op": "within_last_days", "value": 7},
        lambda u: REF - 7 * DAY <= u["last_active"] <= REF,
    ),
    (
        "more_than_days_ago",
        {"attribute": "Last Order Date", "op": "more_than_days_ago", "value": 100},
        lambda u: prop(u, "Last Order Date") is not None and prop(u, "Last Order Date") < "2025-09-23",
    ),
    ("unknown attribute exists", {"attribute": "Nope", "op": "exists"}, lambda u: False),
    ("unknown attribute not_equals", {"attribute": "Nope", "op": "not_equals", "value": 1}, lambda u: True),
]


@pytest.mark.parametrize(
    ("tree", "predicate"), [c[1:] for c in ATTRIBUTE_CASES], ids=[c[0] for c in ATTRIBUTE_CASES]
)
def test_attribute_ops_match_a_python_loop(
    users: list[dict[str, Any]], index: Index, tree: dict[str, Any], predicate: Predicate
) -> None:
    want = expected(users, predicate)
    assert matched(tree, index) == want
    assert 0 < len(want) < len(users) or tree["attribute"] == "Nope"


# -- generated population: events ----------------------------------------------------------------------
SEP_1, OCT_1 = 1756684800, 1759276800  # 2025-09-01, 2025-10-01
EVENT_CASES: list[tuple[str, dict[str, Any], Predicate]] = [
    ("did at least once", {"event": "Charged"}, lambda u: events(u, "Charged") >= 1),
    (
        "count >= 5",
        {"event": "App Launched", "count": {"op": "greater_than_equals", "value": 5}},
        lambda u: events(u, "App Launched") >= 5,
    ),
    (
        "count equals 2",
        {"event": "Product Viewed", "count": {"op": "equals", "value": 2}},
        lambda u: events(u, "Product Viewed") == 2,
    ),
    (
        "count not_equals 0",
        {"event": "Searched", "count": {"op": "not_equals", "value": 0}},
        lambda u: events(u, "Searched") != 0,
    ),
    (
        "count less_than 3 includes zero",
        {"event": "App Launched", "count": {"op": "less_than", "value": 3}},
        lambda u: events(u, "App Launched") < 3,
    ),
    (
        "count greater_than in window",
        {"event": "App Launched", "from": SEP_1, "to": OCT_1, "count": {"op": "greater_than", "value": 1}},
        lambda u: events(u, "App Launched", SEP_1, OCT_1) > 1,
    ),
    (
        "count less_than_equals",
        {"event": "App Launched", "count": {"op": "less_than_equals", "value": 1}},
        lambda u: events(u, "App Launched") <= 1,
    ),
    (
        "last_days",
        {"event": "App Launched", "last_days": 30},
        lambda u: events(u, "App Launched", REF - 30 * DAY, REF) > 0,
    ),
    ("did not", {"not": {"event": "Charged", "from": SEP_1}}, lambda u: events(u, "Charged", SEP_1) == 0),
    (
        "property greater_than",
        {"event": "Charged", "properties": [{"name": "Amount", "op": "greater_than", "value": 100}]},
        lambda u: events(u, "Charged", props=lambda p: p["Amount"] > 100) >= 1,
    ),
    (
        "Items OR",
        {
            "event": "Charged",
            "properties": [{"name": "Items", "op": "equals", "value": ["Yoga Mat", "Cookbook"]}],
        },
        lambda u: events(u, "Charged", props=lambda p: bool({"Yoga Mat", "Cookbook"} & set(p["Items"]))) >= 1,
    ),
    (
        "two properties on one occurrence",
        {
            "event": "Added To Cart",
            "count": {"op": "greater_than_equals", "value": 1},
            "properties": [
                {"name": "Category", "op": "equals", "value": "electronics"},
                {"name": "Quantity", "op": "greater_than_equals", "value": 2},
            ],
        },
        lambda u: (
            events(u, "Added To Cart", props=lambda p: p["Category"] == "electronics" and p["Quantity"] >= 2)
            >= 1
        ),
    ),
    ("unknown event", {"event": "Never Happened"}, lambda u: False),
    ("unknown event did not", {"not": {"event": "Never Happened"}}, lambda u: True),
]


@pytest.mark.parametrize(("tree", "predicate"), [c[1:] for c in EVENT_CASES], ids=[c[0] for c in EVENT_CASES])
def test_event_nodes_match_a_python_loop(
    users: list[dict[str, Any]], index: Index, tree: dict[str, Any], predicate: Predicate
) -> None:
    assert matched(tree, index) == expected(users, predicate)


def push_ok(u: dict[str, Any], platforms: tuple[str, ...] = ("android", "ios")) -> bool:
    return u["reachability"]["push"]["state"] != "unsubscribed" and any(
        d["platform"] in platforms for d in u["devices"]
    )


def channel_ok(u: dict[str, Any], channel: str) -> bool:
    r = u["reachability"][channel]
    if channel == "push":
        return push_ok(u)
    if channel == "webpush":
        return r["state"] != "unsubscribed" and any(d["platform"] == "web" for d in u["devices"])
    if channel == "email":
        return r["state"] != "unsubscribed" and not r["invalid"] and bool(u["email"])
    return r["state"] != "unsubscribed" and not r["invalid"] and not r["dnd"] and bool(u["phone"])


# -- reachability, subscription, combinators -----------------------------------------------------------
OTHER_CASES: list[tuple[str, dict[str, Any], Predicate]] = [
    ("everyone", {"everyone": True}, lambda u: True),
    ("empty all", {"all": []}, lambda u: True),
    ("empty any", {"any": []}, lambda u: False),
    ("reachable push", {"reachable": "push"}, push_ok),
    (
        "reachable push android",
        {"reachable": "push", "platform": "android"},
        lambda u: push_ok(u, ("android",)),
    ),
    ("reachable webpush", {"reachable": "webpush"}, lambda u: channel_ok(u, "webpush")),
    ("reachable email", {"reachable": "email"}, lambda u: channel_ok(u, "email")),
    ("reachable sms", {"reachable": "sms"}, lambda u: channel_ok(u, "sms")),
    ("reachable whatsapp", {"reachable": "whatsapp"}, lambda u: channel_ok(u, "whatsapp")),
    (
        "subscription state",
        {"subscription": "push", "state": "opted_in"},
        lambda u: u["reachability"]["push"]["state"] == "opted_in",
    ),
    (
        "subscription states OR",
        {"subscription": "email", "state": ["subscribed", "opted_in"]},
        lambda u: u["reachability"]["email"]["state"] != "unsubscribed",
    ),
    ("subscription flag", {"subscription": "sms", "state": "dnd"}, lambda u: u["reachability"]["sms"]["dnd"]),
    (
        "not subscription",
        {"not": {"subscription": "email", "state": "invalid"}},
        lambda u: not u["reachability"]["email"]["invalid"],
    ),
    (
        "all",
        {
            "all": [
                {"attribute": "gender", "op": "equals", "value": "F"},
                {"attribute": "country", "op": "equals", "value": "IN"},
            ]
        },
        lambda u: u["gender"] == "F" and u["country"] == "IN",
    ),
    (
        "any",
        {
            "any": [
                {"attribute": "gender", "op": "equals", "value": "O"},
                {"attribute": "country", "op": "equals", "value": "DE"},
            ]
        },
        lambda u: u["gender"] == "O" or u["country"] == "DE",
    ),
    (
        "complex",
        {
            "all": [
                {"event": "App Launched", "count": {"op": "greater_than_equals", "value": 3}},
                {"attribute": "Customer Type", "op": "equals", "value": ["Gold", "Platinum", "Silver"]},
                {"not": {"event": "App Uninstalled"}},
                {"reachable": "push"},
            ]
        },
        lambda u: (
            events(u, "App Launched") >= 3
            and u["customer_type"] != "Bronze"
            and events(u, "App Uninstalled") == 0
            and push_ok(u)
        ),
    ),
]


@pytest.mark.parametrize(("tree", "predicate"), [c[1:] for c in OTHER_CASES], ids=[c[0] for c in OTHER_CASES])
def test_other_nodes_match_a_python_loop(
    users: list[dict[str, Any]], index: Index, tree: dict[str, Any], predicate: Predicate
) -> None:
    assert matched(tree, index) == expected(users, predicate)


def test_member_of_subtree_ids_and_unknown(users: list[dict[str, Any]], index: Index) -> None:
    segments: dict[str, Any] = {
        "gold": {"attribute": "Customer Type", "op": "equals", "value": "Gold"},
        "vip": {"any": [{"member_of": "gold"}, {"member_of": "list"}]},
        "list": [
            users[3]["email"],
            users[5]["identity"],
            users[8]["objectId"],
            users[9]["internal_id"],
            "nobody",
        ],
        "loop": {"member_of": "loop"},
    }
    listed = {users[i]["identity"] for i in (3, 5, 8, 9)}
    tree = {"member_of": "vip"}
    want = expected(users, lambda u: u["customer_type"] == "Gold" or u["identity"] in listed)
    assert matched(tree, index, resolve_member=segments.get) == want
    with pytest.raises(UnknownMember):
        evaluate({"member_of": "missing"}, index, resolve_member=segments.get)
    with pytest.raises(UnknownMember):
        evaluate({"member_of": 1}, index)
    with pytest.raises(ValueError, match="refers to itself"):
        evaluate({"member_of": "loop"}, index, resolve_member=segments.get)


# -- hand-written profiles: booleans, arrays, numeric strings, missing values --------------------------
SMALL = [
    {"identity": "a", "properties": {"Flag": True, "Tags": ["x", "y"], "Score": "10", "When": "2025-12-25"}},
    {"identity": "b", "properties": {"Flag": "False", "Tags": [], "Score": 5, "When": "$D_1767139200"}},
    {"identity": "c", "properties": {"Flag": False, "Tags": ["Y"], "Score": 10.0, "When": 1767225600}},
    {
        "identity": "d",
        "properties": {"Flag": "true", "Tags": "x", "Score": "ten", "When": "2026-01-10T00:00:00+0000"},
    },
    {"identity": "e"},
]
SMALL_CASES: list[tuple[dict[str, Any], list[str]]] = [
    ({"attribute": "Flag", "op": "equals", "value": "True"}, ["a", "d"]),
    ({"attribute": "Flag", "op": "equals", "value": "False"}, ["b", "c"]),
    ({"attribute": "Flag", "op": "equals", "value": False}, ["b", "c"]),
    ({"attribute": "Flag", "op": "equals", "value": "false", "ignore_case": False}, ["b", "c"]),
    ({"attribute": "Flag", "op": "not_equals", "value": "True"}, ["b", "c", "e"]),
    ({"attribute": "Tags", "op": "equals", "value": "x"}, ["a", "d"]),
    ({"attribute": "Tags", "op": "equals", "value": "y", "ignore_case": True}, ["a", "c"]),
    ({"attribute": "Tags", "op": "exists"}, ["a", "c", "d"]),
    ({"attribute": "Tags", "op": "does_not_exist"}, ["b", "e"]),
    ({"attribute": "Score", "op": "equals", "value": 10}, ["a", "c"]),
    ({"attribute": "Score", "op": "equals", "value": "10"}, ["a", "c"]),
    ({"attribute": "Score", "op": "greater_than", "value": 6}, ["a", "c"]),
    ({"attribute": "Score", "op": "contains", "value": "t"}, ["d"]),
    ({"attribute": "When", "op": "before", "value": "2025-12-31T00:00:00Z"}, ["a"]),
    ({"attribute": "When", "op": "after", "value": "2025-12-30T12:00:00Z"}, ["b", "c", "d"]),
    ({"attribute": "When", "op": "within_last_days", "value": 1}, ["b", "c"]),
    ({"attribute": "When", "op": "within_next_days", "value": 10}, ["c", "d"]),
    ({"attribute": "When", "op": "more_than_days_ahead", "value": 5}, ["d"]),
]


@pytest.mark.parametrize(("tree", "want"), SMALL_CASES, ids=[str(c[0]) for c in SMALL_CASES])
def test_value_coercions_on_hand_written_profiles(tree: dict[str, Any], want: list[str]) -> None:
    assert matched(tree, Index.build([dict(p) for p in SMALL], reference_ts=REF)) == want


def test_relative_dates_need_now() -> None:
    with pytest.raises(ValueError, match="now"):
        evaluate({"attribute": "When", "op": "within_last_days", "value": 1}, Index.build(SMALL))
    index = Index.build(SMALL)
    assert matched(
        {"attribute": "When", "op": "within_last_days", "value": 1}, index, now=REF + 10 * DAY
    ) == ["d"]


# -- validation ----------------------------------------------------------------------------------------
BAD_TREES: list[tuple[Any, str]] = [
    ([], r"\$: a node must be an object"),
    ({}, r"\$: a node needs exactly one of"),
    (
        {"all": [{"any": [{"attribute": "x", "op": "bogus", "value": 1}]}]},
        r"\$\.all\[0\]\.any\[0\]\.op: unknown operator",
    ),
    ({"attribute": "x", "op": "equals"}, r"\$: operator equals needs a value"),
    ({"attribute": "x", "op": "equals", "value": []}, r"\$\.value: an empty array"),
    (
        {"attribute": "x", "op": "greater_than", "value": "abc"},
        r"\$\.value: operator greater_than needs a number",
    ),
    ({"attribute": "x", "op": "matches_regex", "value": "("}, r"invalid regular expression"),
    ({"attribute": "x", "op": "before", "value": "yesterday"}, r"needs an ISO 8601 date"),
    ({"attribute": "x", "op": "equals", "value": {"a": 1}}, r"values must be strings, numbers or booleans"),
    ({"attribute": "x", "op": "equals", "value": 1, "extra": 1}, r"unknown key\(s\) extra"),
    ({"event": "E", "count": {"op": "contains", "value": 1}}, r"\$\.count\.op: unknown operator"),
    ({"event": "E", "from": 10, "to": 5}, r"from is after to"),
    (
        {"event": "E", "properties": [{"name": "p", "op": "equals"}]},
        r"\$\.properties\[0\]: operator equals needs",
    ),
    ({"reachable": "fax"}, r"\$\.reachable: unknown channel 'fax'"),
    ({"reachable": "push", "platform": ["android", "tv"]}, r"\$\.platform\[1\]: unknown platform"),
    ({"subscription": "push", "state": "maybe"}, r"\$\.state: unknown state"),
    ({"member_of": ""}, r"\$\.member_of: must be a non-empty"),
    ({"everyone": False}, r"\$\.everyone: must be true"),
    ({"not": {"all": "x"}}, r"\$\.not\.all: must be an array"),
]


@pytest.mark.parametrize(("tree", "message"), BAD_TREES, ids=[m for _, m in BAD_TREES])
def test_validate_tree_names_path_and_reason(tree: Any, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        validate_tree(tree)


# -- estimates and recipients --------------------------------------------------------------------------
def last_push_platform(u: dict[str, Any], platforms: tuple[str, ...]) -> str | None:
    devices = [
        (d["last_active"], i, d["platform"]) for i, d in enumerate(u["devices"]) if d["platform"] in platforms
    ]
    return max(devices)[2] if devices else None


def test_push_estimate_counts_last_active_device_or_all_devices(
    users: list[dict[str, Any]], index: Index
) -> None:
    tree = {"attribute": "Customer Type", "op": "equals", "value": ["Gold", "Silver"]}
    chosen = [u for u in users if u["customer_type"] in ("Gold", "Silver") and push_ok(u)]
    by_last = {"android": 0, "ios": 0}
    by_device = {"android": 0, "ios": 0}
    for u in chosen:
        by_last[last_push_platform(u, ("android", "ios"))] += 1  # type: ignore[index]
        for d in u["devices"]:
            if d["platform"] in by_device:
                by_device[d["platform"]] += 1
    assert estimate(tree, index, channel="push") == by_last
    assert estimate(tree, index, channel="push", count_devices=True) == by_device
    ios_only = sum(1 for u in chosen if any(d["platform"] == "ios" for d in u["devices"]))
    assert estimate(tree, index, channel="push", platforms=["ios"]) == {"ios": ios_only}


@pytest.mark.parametrize("channel", ["webpush", "email", "sms", "whatsapp"])
def test_other_channel_estimates(users: list[dict[str, Any]], index: Index, channel: str) -> None:
    tree = {"event": "App Launched", "count": {"op": "greater_than_equals", "value": 2}}
    want = sum(1 for u in users if events(u, "App Launched") >= 2 and channel_ok(u, channel))
    key = "web" if channel == "webpush" else channel
    assert estimate(tree, index, channel=channel) == {key: want}
    assert estimate(tree, index, channel=None) == {
        "users": sum(1 for u in users if events(u, "App Launched") >= 2)
    }


def test_recipients_and_samples(users: list[dict[str, Any]], index: Index) -> None:
    tree = {"attribute": "country", "op": "equals", "value": "US"}
    pushes = recipients(tree, index, channel="push")
    assert sum(estimate(tree, index, channel="push").values()) == len(pushes)
    for r in pushes:
        user = users[r["row"]]
        assert r["identity"] == user["identity"] and user["country"] == "US"
        assert r["platform"] == last_push_platform(user, ("android", "ios"))
        assert r["token"] in [d["token"] for d in user["devices"]]
    emails = recipients(tree, index, channel="email", limit=3)
    assert [e["email"] for e in emails] == [
        u["email"] for u in users if u["country"] == "US" and channel_ok(u, "email")
    ][:3]
    assert sample_identities(tree, index, limit=4) == expected(users, lambda u: u["country"] == "US")[:4]


def test_upsert_and_remove_update_the_index(users: list[dict[str, Any]]) -> None:
    index = Index.build([dict(u) for u in users], reference_ts=REF)
    tree = {"attribute": "Plan", "op": "equals", "value": "enterprise"}
    assert matched(tree, index) == []
    changed = {**users[0], "properties": {"Plan": "enterprise"}}
    index.upsert(changed)
    index.upsert({"identity": "brand-new", "properties": {"Plan": "enterprise"}, "email": "n@example.com"})
    assert matched(tree, index) == [users[0]["identity"], "brand-new"]
    assert index.row_of("n@example.com") == len(users)
    assert index.remove(users[0]["identity"])
    assert matched(tree, index) == ["brand-new"]
    assert matched({"everyone": True}, index).count(users[0]["identity"]) == 0


def test_same_seed_same_estimates_and_different_seed_differs() -> None:
    profile = load_profile()
    tree = {
        "all": [
            {"event": "App Launched", "count": {"op": "greater_than_equals", "value": 2}},
            {"attribute": "Customer Type", "op": "equals", "value": ["Gold", "Platinum"]},
        ]
    }

    def run(seed: int) -> tuple[dict[str, int], list[str]]:
        index = Index.build(generate(profile, seed=seed, size=300), reference_ts=REF)
        return estimate(tree, index, channel="push"), sample_identities(tree, index, limit=300)

    assert run(11) == run(11)
    assert run(11) != run(12)


# -- robustness: arbitrary JSON never crashes the validator or the evaluator ---------------------------
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

_scalars = st.one_of(st.none(), st.booleans(), st.integers(-10, 10**10), st.floats(allow_nan=False),
                     st.sampled_from(["Gold", "True", "2025-12-01", "App Launched", "push", "equals", "("]))
_json = st.recursive(_scalars, lambda inner: st.one_of(
    st.lists(inner, max_size=3),
    st.dictionaries(st.sampled_from(["all", "any", "not", "attribute", "op", "value", "event", "count",
                                     "from", "to", "properties", "name", "reachable", "platform",
                                     "subscription", "state", "member_of", "everyone", "last_days",
                                     "ignore_case"]),
                    inner, max_size=4)), max_leaves=12)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(tree=_json)
def test_any_json_is_either_rejected_with_value_error_or_evaluated(tree: Any) -> None:
    index = Index.build([dict(p) for p in SMALL], reference_ts=REF)
    try:
        validate_tree(tree)
    except ValueError:
        return
    try:
        mask = evaluate(tree, index, resolve_member=lambda member: None)
    except UnknownMember:
        return
    assert mask.dtype == bool and mask.shape == (len(SMALL),)


def test_a_few_profiles_build_the_same_event_tables_as_many(users: list[dict[str, Any]],
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    from sandbox.population.audience import index as index_module

    odd = [{"identity": "odd", "events": [{"name": "Charged", "ts": "2025-06-01T00:00:00Z", "props": {}}]}]
    for profiles in (users[:40], users[:40] + odd):
        few = Index.build(profiles).events()  # the plain-list path (SMALL_INDEX)
        monkeypatch.setattr(index_module, "SMALL_INDEX", 0)
        many = Index.build(profiles).events()
        monkeypatch.undo()
        assert list(few) == list(many)
        for name, table in few.items():
            assert np.array_equal(table.rows, many[name].rows) and table.props == many[name].props
            assert np.array_equal(table.ts, many[name].ts, equal_nan=True)


def test_a_tenant_that_never_wrote_gets_the_unreached_reasons_of_the_built_population() -> None:
    """The service answers such a tenant from the built population's reachability masks (a shortcut on every
    send): the same reason, or None, as the rules give row by row."""
    service = AudienceService.load(clock=Clock(), data_dir=None, profile_path=None, seed=7, size=1000,
                                   on_progress=None)
    for channel in sorted(CHANNELS):
        reasons = [service.unreached_reason(row, channel, tenant="never-wrote") for row in range(len(service))]
        assert reasons == [unreached_reason(service.index, row, channel, None) for row in range(len(service))]
        assert None in reasons and any(reasons), channel
