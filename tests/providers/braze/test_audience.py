"""Connected audience (spec §11.2) -> neutral tree, segments from the workspace fixture, and
``POST /_sandbox/audience/estimate`` with a Braze audience or ``segment_id``."""

from __future__ import annotations

import pytest
from support.braze import SEGMENT_ALL, SEGMENT_VIP, Braze

from sandbox.population.audience.tree import validate_tree
from sandbox.providers.braze.audience import to_tree
from sandbox.providers.braze.errors import BrazeFail


def attr(comparison: str, value=None, name: str = "Plan") -> dict:
    inner = {"custom_attribute_name": name, "comparison": comparison}
    if value is not None:
        inner["value"] = value
    return {"custom_attribute": inner}


@pytest.mark.parametrize(("comparison", "value", "op", "expected"), [
    ("equals", "gold", "equals", "gold"),
    ("not_equal", "gold", "not_equals", "gold"),
    ("matches_regex", "^go", "matches_regex", "^go"),
    ("does_not_match_regex", "^go", "does_not_match_regex", "^go"),
    ("exists", None, "exists", None),
    ("does_not_exist", None, "does_not_exist", None),
    ("includes_value", "beauty", "equals", "beauty"),
    ("does_not_include_value", "beauty", "not_equals", "beauty"),
    ("greater_than", 5, "greater_than", 5),
    ("greater_than_or_equal_to", 5, "greater_than_equals", 5),
    ("less_than", 5, "less_than", 5),
    ("less_than_or_equal_to", 5.5, "less_than_equals", 5.5),
    ("does_not_equal", True, "not_equals", True),
    ("less_than_x_days_ago", 7, "within_last_days", 7),
    ("greater_than_x_days_ago", 7, "more_than_days_ago", 7),
    ("less_than_x_days_in_the_future", 3, "within_next_days", 3),
    ("greater_than_x_days_in_the_future", 3, "more_than_days_ahead", 3),
    ("after", "2019-07-22T13:17:55+0000", "after", "2019-07-22T13:17:55+00:00"),
    ("before", "2019-07-22T13:17:55Z", "before", "2019-07-22T13:17:55+00:00"),
])
def test_every_custom_attribute_comparison(comparison, value, op, expected) -> None:
    tree = to_tree(attr(comparison, value))
    wanted = {"attribute": "Plan", "op": op}
    if expected is not None:
        wanted["value"] = expected
    assert tree == wanted
    validate_tree(tree)


def test_subscription_last_used_app_and_nesting() -> None:
    tree = to_tree({"AND": [
        {"push_subscription_status": {"comparison": "is", "value": "opted_in"}},
        {"OR": [{"email_subscription_status": {"comparison": "is_not", "value": "subscribed"}},
                {"last_used_app": {"comparison": "after", "value": "2019-07-22T13:17:55+0000"}}]}]})
    assert tree == {"all": [
        {"subscription": "push", "state": "opted_in"},
        {"any": [{"not": {"subscription": "email", "state": "subscribed"}},
                 {"attribute": "last_active", "op": "after", "value": "2019-07-22T13:17:55+00:00"}]}]}
    validate_tree(tree)


@pytest.mark.parametrize(("audience", "message"), [
    ({"segment": "x"}, "audience[segment] is invalid"),
    ({"AND": [], "OR": []}, "audience is invalid"),
    ({"OR": [{"custom_attribute": {"comparison": "equals", "value": 1}}]},
     "audience[OR][0][custom_attribute][custom_attribute_name] is missing"),
    (attr("greater_than", "five"), "audience[custom_attribute][value] is invalid"),
    (attr("matches_regex", 5), "audience[custom_attribute][value] is invalid"),
    (attr("after", "last week"), "audience[custom_attribute][value] is invalid"),
    (attr("equals"), "audience[custom_attribute][value] is missing"),
    ({"push_subscription_status": {"comparison": "was", "value": "opted_in"}},
     "audience[push_subscription_status][comparison] does not have a valid value"),
    ({"email_subscription_status": {"comparison": "is", "value": "maybe"}},
     "audience[email_subscription_status][value] does not have a valid value"),
    ({"last_used_app": {"comparison": "equals", "value": "2019-07-22T13:17:55+0000"}},
     "audience[last_used_app][comparison] does not have a valid value"),
])
def test_malformed_audiences_name_the_parameter(audience, message) -> None:
    with pytest.raises(BrazeFail) as caught:
        to_tree(audience)
    assert caught.value.message == message


async def estimate(bz: Braze, audience, **extra) -> tuple[int, dict]:
    status, body, _ = await bz.api.call("POST", "/_sandbox/audience/estimate",
                                        json={"vendor": "braze", "audience": audience, "tenant": bz.key,
                                              **extra})
    return status, body


async def test_estimate_with_a_connected_audience_matches_the_population(bz: Braze) -> None:
    profiles = (await bz.api.control("GET", "/profiles", params={"limit": "1000"}))["profiles"]
    plan = profiles[0]["properties"]["Plan"]
    gold = {p["identity"] for p in profiles if (p.get("properties") or {}).get("Plan") == plan}
    status, body = await estimate(bz, attr("equals", plan))
    assert status == 200 and body["matched"] == len(gold) > 0
    assert set(body["sample"]) <= gold
    status, body = await estimate(bz, {"audience": attr("equals", plan), "segment_id": SEGMENT_ALL},
                                  channel="email")
    assert status == 200 and body["matched"] == len(gold) and set(body["estimates"]) == {"email"}


async def test_estimate_with_segment_ids_from_the_workspace(bz: Braze) -> None:
    total = (await bz.api.control("GET", "/profiles", params={"limit": "1"}))["total"]
    assert (await estimate(bz, {"segment_id": SEGMENT_ALL}))[1]["matched"] == total
    await bz.track(attributes=[{"external_id": "vip-1", "vip": True}])
    assert (await estimate(bz, {"segment_id": SEGMENT_VIP}))[1]["matched"] == 1
    status, body = await estimate(bz, {"segment_id": "nope"})
    assert status == 400 and "unknown segment_id 'nope'" in body["error"]["message"]
    status, body = await estimate(bz, attr("equals"))
    assert status == 400 and body["error"]["message"] == "braze audience: audience[custom_attribute][value] is missing"


async def test_segment_broadcast_reaches_segment_members_only(bz: Braze) -> None:
    await bz.track(attributes=[{"external_id": "vip-1", "vip": True, "email": "vip@example.com"},
                               {"external_id": "vip-2", "vip": False, "email": "no@example.com"}])
    email = {"app_id": "a", "from": "Shop <s@example.com>", "body": "Hi {{${first_name} | default: 'VIP'}}"}
    status, _, _ = await bz.post("/messages/send", {"broadcast": True, "segment_id": SEGMENT_VIP,
                                                    "messages": {"email": email}})
    assert status == 201
    assert [(d["user"], d["content"]["body"]) for d in await bz.deliveries()] == [("vip-1", "Hi VIP")]
    status, _, _ = await bz.post("/messages/send", {"segment_id": SEGMENT_VIP, "external_user_ids": ["vip-1", "vip-2"],
                                                    "messages": {"email": email}})
    assert status == 201
    assert [d["user"] for d in await bz.deliveries()] == ["vip-1", "vip-1"]
