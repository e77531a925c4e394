"""User data into the shared population (spec §9, §5.5): /users/track, delete, identify, alias/new, export."""

from __future__ import annotations

import pytest
from support.braze import IOS, IOS_TOKEN, Braze, fail

NOW = "2026-01-01T00:00:00Z"
EXPORT = "/users/export/ids"


async def export(bz: Braze, **body) -> dict:
    status, answer, _ = await bz.post(EXPORT, body)
    assert status == 201, answer
    return answer


async def test_track_counts_each_array_present(bz: Braze) -> None:
    status, body, _ = await bz.post("/users/track", {
        "attributes": [{"external_id": "t1", "first_name": "Tia", "plan": "gold"}],
        "events": [{"external_id": "t1", "name": "played", "time": NOW, "properties": {"level": 3}}],
        "purchases": [{"external_id": "t1", "product_id": "sku-1", "currency": "usd", "price": 9.99, "time": NOW,
                       "quantity": 2}]})
    assert (status, body) == (201, {"attributes_processed": 1, "events_processed": 1, "purchases_processed": 1,
                                    "message": "success"})
    status, body, _ = await bz.post("/users/track", {"events": [{"external_id": "t1", "name": "x", "time": NOW}]})
    assert (status, body) == (201, {"events_processed": 1, "message": "success"})
    [user] = (await export(bz, external_ids=["t1"], fields_to_export=[
        "external_id", "first_name", "custom_attributes", "custom_events", "purchases"]))["users"]
    assert user["first_name"] == "Tia" and user["custom_attributes"] == {"plan": "gold"}
    assert [(e["name"], e["count"]) for e in user["custom_events"]] == [("played", 1), ("x", 1)]
    assert [(p["name"], p["count"]) for p in user["purchases"]] == [("sku-1", 2)]


async def test_partial_success_lists_per_object_errors(bz: Braze) -> None:
    """The recorded 3P shape (rudder-transformer): counters, message, then errors (spec §5.5)."""
    status, body, _ = await bz.post("/users/track", {
        "events": [{"external_id": "a", "name": "ok", "time": NOW}, {"name": "no-id", "time": NOW}],
        "purchases": [{"external_id": "a", "product_id": "p", "currency": "USD", "price": 1, "time": NOW,
                       "quantity": 101}]})
    assert (status, body) == (201, {"events_processed": 1, "purchases_processed": 0, "message": "success", "errors": [
        {"type": "'external_id', 'braze_id', 'user_alias', 'email' or 'phone' is required", "input_array": "events",
         "index": 1},
        {"type": "'quantity' is not valid", "input_array": "purchases", "index": 0}]})


@pytest.mark.asyncio(loop_scope="module")
@pytest.mark.parametrize(("array", "obj", "problem"), [
    ("attributes", {"first_name": "x"}, "'external_id', 'braze_id', 'user_alias', 'email' or 'phone' is required"),
    ("attributes", {"external_id": "a", "braze_id": "b"},
     "Only one of 'external_id', 'braze_id' or 'user_alias' may be provided"),
    ("attributes", {"external_id": "a", "email": "not-an-email"},
     "The value provided for the 'email' field is not a valid email."),
    ("attributes", {"external_id": "undefined"}, "provided external_id is blacklisted and disallowed"),
    ("attributes", {"external_id": "x" * 988}, "EXTERNAL_USER_ID_TOO_LARGE"),
    ("attributes", {"external_id": "a", "push_subscribe": "maybe"}, "'push_subscribe' is not valid"),
    ("attributes", {"user_alias": {"alias_name": "a"}}, "'user_alias' is not valid"),
    ("attributes", "text", "'attributes' is not valid"),
    ("events", {"external_id": "a", "time": NOW}, "'name' is required"),
    ("events", {"external_id": "a", "name": "e"}, "'time' is required"),
    ("events", {"external_id": "a", "name": "e", "time": "yesterday"}, "'time' is not valid"),
    ("events", {"external_id": "a", "name": "e", "time": NOW, "properties": [1]}, "'properties' is not valid"),
    ("purchases", {"external_id": "a", "currency": "USD", "price": 1, "time": NOW}, "'product_id' is required"),
    ("purchases", {"external_id": "a", "product_id": "p", "price": 1, "time": NOW}, "'currency' is required"),
    ("purchases", {"external_id": "a", "product_id": "p", "currency": "dollars", "price": 1, "time": NOW},
     "'currency' is not valid"),
    ("purchases", {"external_id": "a", "product_id": "p", "currency": "USD", "time": NOW}, "'price' is required"),
    ("purchases", {"external_id": "a", "product_id": "p", "currency": "USD", "price": "1", "time": NOW},
     "'price' is not valid"),
    ("purchases", {"external_id": "a", "product_id": "p", "currency": "USD", "price": 1, "time": NOW,
                   "quantity": 0}, "'quantity' is not valid"),
])
async def test_nothing_valid_is_a_400_with_the_errors(shared_bz: Braze, array, obj, problem) -> None:
    status, body, _ = await shared_bz.post("/users/track", {array: [obj]})
    assert (status, body) == (400, {
        "message": "Valid data must be provided in the 'attributes', 'events', or 'purchases' fields.",
        "errors": [{"type": problem, "input_array": array, "index": 0}]})


@pytest.mark.asyncio(loop_scope="module")
async def test_empty_arrays_have_nothing_valid(shared_bz: Braze) -> None:
    """PyPI braze-client always sends the three arrays, maybe empty (spec §14)."""
    status, body, _ = await shared_bz.post("/users/track", {"attributes": [], "events": [], "purchases": []})
    assert (status, body) == (400, fail("Valid data must be provided in the 'attributes', 'events', or "
                                        "'purchases' fields."))


@pytest.mark.asyncio(loop_scope="module")
async def test_more_than_75_objects_is_max_input_length_exceeded(shared_bz: Braze) -> None:
    attributes = [{"external_id": f"m{n}", "a": 1} for n in range(40)]
    events = [{"external_id": f"m{n}", "name": "e", "time": NOW} for n in range(36)]
    status, body, _ = await shared_bz.post("/users/track", {"attributes": attributes, "events": events})
    assert (status, body) == (400, fail("Max Input Length Exceeded"))
    status, body, _ = await shared_bz.post("/users/track", {"attributes": attributes, "events": events[:35]})
    assert (status, body) == (201, {"attributes_processed": 40, "events_processed": 35, "message": "success"})


async def test_custom_attribute_operations(bz: Braze) -> None:
    await bz.track(attributes=[{"external_id": "c", "visits": 1, "tags": ["a"], "gone": "x"}])
    await bz.track(attributes=[{"external_id": "c", "visits": {"inc": 2}, "tags": {"add": ["b"], "remove": ["a"]},
                                "gone": None}])
    [user] = (await export(bz, external_ids=["c"], fields_to_export=["custom_attributes"]))["users"]
    assert user == {"custom_attributes": {"visits": 3, "tags": ["b"]}}


async def test_update_existing_only_and_alias_only_profiles(bz: Braze) -> None:
    body = await bz.track(attributes=[{"external_id": "ghost", "_update_existing_only": True, "a": 1},
                                      {"user_alias": {"alias_name": "n", "alias_label": "l"}, "a": 1},
                                      {"user_alias": {"alias_name": "m", "alias_label": "l"},
                                       "_update_existing_only": False, "a": 2}])
    assert body == {"attributes_processed": 3, "message": "success"}
    assert (await export(bz, external_ids=["ghost"]))["invalid_user_ids"] == ["ghost"]
    found = await export(bz, user_aliases=[{"alias_name": "n", "alias_label": "l"},
                                           {"alias_name": "m", "alias_label": "l"}],
                         fields_to_export=["user_aliases", "custom_attributes"])
    assert found == {"users": [{"user_aliases": [{"alias_name": "m", "alias_label": "l"}],
                                "custom_attributes": {"a": 2}}], "message": "success"}


async def test_alias_new_identify_and_delete(bz: Braze) -> None:
    status, body, _ = await bz.post("/users/alias/new", {"user_aliases": [
        {"alias_name": "anon-1", "alias_label": "device"}]})
    assert (status, body) == (201, {"aliases_processed": 1, "message": "success"})
    await bz.track(attributes=[{"user_alias": {"alias_name": "anon-1", "alias_label": "device"}, "color": "red"}])
    status, body, _ = await bz.post("/users/identify", {"aliases_to_identify": [
        {"external_id": "known-1", "user_alias": {"alias_name": "anon-1", "alias_label": "device"}}]})
    assert (status, body) == (201, {"aliases_processed": 1, "message": "success"})
    [user] = (await export(bz, external_ids=["known-1"], fields_to_export=[
        "external_id", "user_aliases", "custom_attributes"]))["users"]
    assert user == {"external_id": "known-1", "user_aliases": [{"alias_name": "anon-1", "alias_label": "device"}],
                    "custom_attributes": {"color": "red"}}
    status, body, _ = await bz.post("/users/delete", {"external_ids": ["known-1", "never-existed", "known-1"]})
    assert (status, body) == (201, {"deleted": 3, "message": "success"})
    assert (await export(bz, external_ids=["known-1"]))["users"] == []


async def test_identify_merges_an_alias_profile_into_an_existing_user(bz: Braze) -> None:
    await bz.track(attributes=[{"external_id": "main", "first_name": "M"},
                               {"user_alias": {"alias_name": "x", "alias_label": "l"}, "_update_existing_only": False,
                                "color": "blue"}])
    await bz.post("/users/identify", {"aliases_to_identify": [
        {"external_id": "main", "user_alias": {"alias_name": "x", "alias_label": "l"}}]})
    [user] = (await export(bz, user_aliases=[{"alias_name": "x", "alias_label": "l"}],
                           fields_to_export=["external_id", "first_name", "custom_attributes"]))["users"]
    assert user == {"external_id": "main", "first_name": "M", "custom_attributes": {"color": "blue"}}


@pytest.mark.asyncio(loop_scope="module")
@pytest.mark.parametrize(("path", "payload", "expected"), [
    ("/users/delete", {"external_ids": [str(n) for n in range(51)]}, "The max number of ids per request was exceeded"),
    ("/users/delete", {"external_ids": ["a"], "braze_ids": ["b"]}, "external_ids, braze_ids are mutually exclusive"),
    ("/users/delete", {}, "external_ids, user_aliases, braze_ids, email_addresses, phone_numbers are missing, "
                          "exactly one parameter must be provided"),
    ("/users/identify", {"aliases_to_identify": [{"external_id": str(n), "user_alias": {
        "alias_name": str(n), "alias_label": "l"}} for n in range(51)]},
     "The max number of ids per request was exceeded"),
    ("/users/identify", {"aliases_to_identify": [{"external_id": "a"}]},
     "aliases_to_identify[0][user_alias] is missing"),
    ("/users/alias/new", {"user_aliases": [{"alias_name": str(n), "alias_label": "l"} for n in range(51)]},
     "The max number of ids per request was exceeded"),
    ("/users/alias/new", {}, "user_aliases is missing"),
    ("/users/export/ids", {"external_ids": [str(n) for n in range(51)]},
     "The max number of ids per request was exceeded"),
    ("/users/export/ids", {"fields_to_export": ["email"]},
     "external_ids, user_aliases, device_id, braze_id, email_address, phone are missing, at least one parameter "
     "must be provided"),
])
async def test_user_endpoint_limits_and_shapes(shared_bz: Braze, path: str, payload: dict, expected: str) -> None:
    status, body, _ = await shared_bz.post(path, payload)
    assert (status, body) == (400, fail(expected))


async def test_population_users_are_addressable_by_every_identifier(bz: Braze) -> None:
    profile = (await bz.api.control("GET", "/profiles", params={"limit": "1"}))["profiles"][0]
    for body in ({"external_ids": [profile["external_id"]]}, {"braze_id": profile["internal_id"]},
                 {"email_address": profile["email"]}, {"phone": profile["phone"]}):
        [user] = (await export(bz, **body, fields_to_export=["external_id", "braze_id", "email"]))["users"]
        assert user == {"external_id": profile["external_id"], "braze_id": profile["internal_id"],
                        "email": profile["email"]}


async def test_tracked_user_is_reached_by_a_connected_audience_broadcast(bz: Braze) -> None:
    """End to end: /users/track, then a connected-audience broadcast reaches the tracked user."""
    await bz.track(attributes=[{"external_id": "fan-1", "Favourite Team": "Lions", **IOS}])
    status, body, _ = await bz.post("/messages/send", {"broadcast": True, "messages": {"apple_push": {
        "alert": "Go {{custom_attribute.${Favourite Team}}}!"}}, "audience": {"AND": [
            {"custom_attribute": {"custom_attribute_name": "Favourite Team", "comparison": "equals",
                                  "value": "Lions"}},
            {"push_subscription_status": {"comparison": "is_not", "value": "unsubscribed"}}]}})
    assert status == 201 and list(body) == ["dispatch_id", "send_id", "message"]
    found = await bz.deliveries()
    assert [(d["user"], d["device"], d["content"]["alert"], d["known"]) for d in found] == [
        ("fan-1", IOS_TOKEN, "Go Lions!", True)]
    assert found[0]["extra"]["send_id"] == body["send_id"]
