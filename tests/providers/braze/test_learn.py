"""Account data, learn and strict (issue 13): dashboard references the sandbox has no record of are learned by
default (provisioned for the tenant, listed with ``provisioned: true``, noted on the journal entry) and rejected
with Braze's exact error plus a ``hint`` in strict mode; run-time collections; the fixtures overlay merge."""

from __future__ import annotations

import json
import pickle
from pathlib import Path
from typing import Any

import pytest
from support.braze import (
    API_CAMPAIGN,
    EMAIL_APP,
    MESSAGE_OBJECTS,
    SMS_GROUP,
    TRIGGERED,
    TRIGGERED_PAUSED,
    VARIATION,
    Braze,
    fail,
)
from support.http import DEFAULT_SETTINGS, Api

from sandbox.app import create_app
from sandbox.core import keys
from sandbox.settings import Settings

MY_CAMPAIGN = "6b0d3c1e-2f4a-4e8b-9c7d-5a6b7c8d9e0f"
"""An API-triggered campaign id from the user's real account: unknown to the packaged workspace."""
MY_CANVAS = "0e9d8c7b-6a5f-4e3d-8c2b-1a0f9e8d7c6b"
MY_SEGMENT = "1a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d"
MY_GROUP = "2b3c4d5e-6f7a-4b8c-9d0e-1f2a3b4c5d6e"
MY_VARIATION = "3c4d5e6f-7a8b-4c9d-8e0f-2a3b4c5d6e7f"
PUSH = {"apple_push": {"alert": "hi"}}
WORKSPACE = "braze/workspace.json"


def strict_settings(**changes: Any) -> Settings:
    return Settings(population_size=DEFAULT_SETTINGS.population_size, strict=True, **changes)


async def entry(bz: Braze, path: str) -> dict[str, Any]:
    return (await bz.api.requests(path=path))[-1]


async def listed(bz: Braze, collection: str, tenant: str | None = None) -> dict[str, dict[str, Any]]:
    params = {"tenant": tenant} if tenant else {}
    body = await bz.api.control("GET", f"/vendors/braze/{collection}", params=params)
    return {item["id"]: item for item in body["items"]}


# -- learn mode (the default) ------------------------------------------------------------------------------
async def test_an_unknown_api_triggered_campaign_is_learned_on_first_use(bz: Braze) -> None:
    status, body, _ = await bz.post("/campaigns/trigger/send", {"campaign_id": MY_CAMPAIGN,
                                                                "recipients": [{"external_user_id": "u1"}]})
    assert status == 201 and list(body) == ["dispatch_id", "message"]
    first = await entry(bz, "/campaigns/trigger/send")
    assert first["hint"] is None and any(MY_CAMPAIGN in note and "provisioned" in note for note in first["notes"])
    item = (await listed(bz, "campaigns", "test-key"))[MY_CAMPAIGN]
    assert (item["type"], item["state"], item["provisioned"]) == ("api_triggered", "active", True)
    [delivery] = await bz.deliveries(campaign_id=MY_CAMPAIGN)
    assert (delivery["user"], delivery["channel"]) == ("u1", "unknown")
    status, _, _ = await bz.post("/campaigns/trigger/send", {"campaign_id": MY_CAMPAIGN, "broadcast": True})
    assert status == 201 and (await entry(bz, "/campaigns/trigger/send"))["notes"] == []
    status, body, _ = await bz.get("/campaigns/list")
    [row] = [r for r in body["campaigns"] if r["id"] == MY_CAMPAIGN]
    assert row["provisioned"] is True and row["is_api_campaign"] is False
    status, body, _ = await bz.get("/campaigns/details", campaign_id=MY_CAMPAIGN)
    assert status == 200 and body["provisioned"] is True and body["enabled"] is True
    assert MY_CAMPAIGN not in await listed(bz, "campaigns", "someone-else")


async def test_an_unknown_api_campaign_learns_its_message_variations(bz: Braze) -> None:
    send = {"campaign_id": MY_CAMPAIGN, "external_user_ids": ["u1"],
            "messages": {"apple_push": {"alert": "hi", "message_variation_id": MY_VARIATION}}}
    status, _, _ = await bz.post("/messages/send", send)
    assert status == 201
    other = "4d5e6f7a-8b9c-4d0e-8f1a-3b4c5d6e7f80"
    status, _, _ = await bz.post("/messages/send", {**send, "messages": {"android_push": {
        "alert": "hi", "title": "T", "message_variation_id": other}}})
    assert status == 201
    assert any("variation" in note for note in (await entry(bz, "/messages/send"))["notes"])
    status, body, _ = await bz.get("/campaigns/details", campaign_id=MY_CAMPAIGN)
    assert body["channels"] == ["android_push", "ios_push"] and body["provisioned"] is True
    status, body, _ = await bz.post("/messages/send", {**send, "messages": {"android_push": {
        "alert": "hi", "title": "T", "message_variation_id": MY_VARIATION}}})
    assert (status, body) == (400, fail("Mismatched Message Type"))


@pytest.mark.parametrize(("first", "then", "expected"), [
    pytest.param(("/campaigns/trigger/send", {"campaign_id": MY_CAMPAIGN, "broadcast": True}),
                 ("/messages/send", {"campaign_id": MY_CAMPAIGN, "external_user_ids": ["u"], "messages": {
                     "apple_push": {"alert": "a", "message_variation_id": MY_VARIATION}}}),
                 "Invalid Campaign ID", id="learned-api-triggered-on-messages-send"),
    pytest.param(("/messages/send", {"campaign_id": MY_CAMPAIGN, "external_user_ids": ["u"], "messages": {
                     "apple_push": {"alert": "a", "message_variation_id": MY_VARIATION}}}),
                 ("/campaigns/trigger/send", {"campaign_id": MY_CAMPAIGN, "broadcast": True}),
                 "Invalid Campaign ID", id="learned-api-campaign-on-trigger"),
    pytest.param(("/sms", None),
                 ("/messages/send", {"external_user_ids": ["u"], "messages": {"whats_app": {
                     **MESSAGE_OBJECTS["whats_app"], "subscription_group_id": MY_GROUP}}}),
                 "Invalid subscription group ID", id="learned-sms-group-on-whats-app"),
])
async def test_a_learned_object_of_the_wrong_kind_is_rejected(bz: Braze, first: tuple[str, Any],
                                                              then: tuple[str, Any], expected: str) -> None:
    path, body = first
    if path == "/sms":
        path, body = "/messages/send", {"external_user_ids": ["u"], "messages": {"sms": {
            **MESSAGE_OBJECTS["sms"], "subscription_group_id": MY_GROUP}}}
    status, answer, _ = await bz.post(path, body)
    assert status == 201, answer
    status, answer, _ = await bz.post(*then)
    assert (status, answer) == (400, fail(expected))


@pytest.mark.parametrize(("path", "body", "expected"), [
    pytest.param("/campaigns/trigger/send", {"campaign_id": API_CAMPAIGN, "broadcast": True},
                 fail("Invalid Campaign ID"), id="api-campaign-on-trigger"),
    pytest.param("/messages/send", {"campaign_id": TRIGGERED, "external_user_ids": ["u"], "messages": PUSH},
                 fail("Invalid Campaign ID"), id="api-triggered-on-messages-send"),
    pytest.param("/messages/send", {"campaign_id": VARIATION["apple_push"], "external_user_ids": ["u"],
                                    "messages": PUSH},
                 fail("campaign_id must be a string of the campaign api identifier"), id="variation-as-campaign"),
    pytest.param("/messages/send", {"campaign_id": API_CAMPAIGN, "external_user_ids": ["u"], "messages": {
        "apple_push": {"alert": "a", "message_variation_id": MY_VARIATION}}},
        fail("Invalid Message Variant"), id="unknown-variation-of-a-known-campaign"),
    pytest.param("/transactional/v1/campaigns/" + TRIGGERED + "/send", {"recipient": {"external_user_id": "u"}},
                 fail("The campaign is not a transactional campaign. Only transactional campaigns may use this "
                      "endpoint"), id="not-transactional"),
    pytest.param("/messages/send", {"external_user_ids": ["u"], "messages": {"whats_app": {
        **MESSAGE_OBJECTS["whats_app"], "subscription_group_id": SMS_GROUP}}},
        fail("Invalid subscription group ID"), id="sms-group-on-whats-app"),
])
async def test_known_objects_keep_their_checks_in_learn_mode(bz: Braze, path: str, body: dict,
                                                             expected: dict) -> None:
    status, answer, _ = await bz.post(path, body)
    assert (status, answer) == (400, expected)
    assert (await entry(bz, path))["notes"] == []


async def test_a_paused_campaign_still_answers_its_notice(bz: Braze) -> None:
    status, body, _ = await bz.post("/campaigns/trigger/send", {"campaign_id": TRIGGERED_PAUSED, "broadcast": True})
    assert status == 201 and body["notice"].startswith("The campaign is paused")


async def test_a_campaign_learned_from_a_send_id_takes_the_kind_of_its_first_send(bz: Braze) -> None:
    status, body, _ = await bz.post("/sends/id/create", {"campaign_id": MY_CAMPAIGN, "send_id": "blast-1"})
    assert (status, body) == (201, {"send_id": "blast-1", "message": "success"})
    status, body, _ = await bz.post("/campaigns/trigger/send", {"campaign_id": MY_CAMPAIGN, "broadcast": True,
                                                                "send_id": "blast-1"})
    assert status == 201, body
    assert (await listed(bz, "campaigns", "test-key"))[MY_CAMPAIGN]["type"] == "api_triggered"
    status, body, _ = await bz.post("/messages/send", {"campaign_id": MY_CAMPAIGN, "external_user_ids": ["u"],
                                                       "messages": PUSH})
    assert (status, body) == (400, fail("Invalid Campaign ID"))


async def test_an_unknown_transactional_campaign_is_learned_as_email(bz: Braze) -> None:
    status, body, _ = await bz.post(f"/transactional/v1/campaigns/{MY_CAMPAIGN}/send",
                                    {"recipient": {"external_user_id": "u9"}})
    assert status == 201 and body["status"] == "queued"
    [delivery] = await bz.deliveries(campaign_id=MY_CAMPAIGN)
    assert delivery["channel"] == "email"
    assert (await listed(bz, "campaigns", "test-key"))[MY_CAMPAIGN]["type"] == "transactional"


async def test_an_unknown_canvas_is_learned(bz: Braze) -> None:
    status, _, _ = await bz.post("/canvas/trigger/send", {"canvas_id": MY_CANVAS,
                                                          "recipients": [{"external_user_id": "u2"}]})
    assert status == 201
    assert any(MY_CANVAS in note for note in (await entry(bz, "/canvas/trigger/send"))["notes"])
    assert (await listed(bz, "canvases", "test-key"))[MY_CANVAS]["provisioned"] is True
    status, body, _ = await bz.get("/canvas/list")
    assert [r["provisioned"] for r in body["canvases"] if r["id"] == MY_CANVAS] == [True]
    status, body, _ = await bz.get("/canvas/details", canvas_id=MY_CANVAS)
    assert status == 200 and body["provisioned"] is True
    assert [(d["user"], d["channel"]) for d in await bz.deliveries(campaign_id=MY_CANVAS)] == [("u2", "unknown")]
    status, _, _ = await bz.post("/canvas/trigger/schedule/create", {
        "canvas_id": MY_CANVAS, "broadcast": True, "schedule": {"time": "2099-01-01T00:00:00Z"}})
    assert status == 201


async def test_an_unknown_segment_is_learned_as_everyone(bz: Braze) -> None:
    status, _, _ = await bz.post("/messages/send", {"segment_id": MY_SEGMENT, "broadcast": True, "messages": {
        "webhook": MESSAGE_OBJECTS["webhook"]}})
    assert status == 201
    assert any(MY_SEGMENT in note for note in (await entry(bz, "/messages/send"))["notes"])
    assert len(await bz.deliveries(channel="webhook")) == DEFAULT_SETTINGS.population_size
    status, body, _ = await bz.get("/segments/list")
    assert [r["provisioned"] for r in body["segments"] if r["id"] == MY_SEGMENT] == [True]
    status, body, _ = await bz.get("/segments/details", segment_id=MY_SEGMENT)
    assert status == 200 and body["provisioned"] is True
    item = (await listed(bz, "segments", "test-key"))[MY_SEGMENT]
    assert item["members"] == {"everyone": True}


async def test_an_unknown_subscription_group_is_learned_for_its_channel(bz: Braze) -> None:
    status, _, _ = await bz.post("/messages/send", {"external_user_ids": ["u"], "messages": {"sms": {
        "subscription_group_id": MY_GROUP, "body": "hi", "app_id": EMAIL_APP}}})
    assert status == 201
    item = (await listed(bz, "subscription_groups", "test-key"))[MY_GROUP]
    assert (item["channel"], item["provisioned"]) == ("sms", True)


async def test_reads_of_unknown_ids_are_not_learned(bz: Braze) -> None:
    status, body, _ = await bz.get("/campaigns/details", campaign_id=MY_CAMPAIGN)
    assert (status, body) == (400, fail("campaign_id must be a string of the campaign api identifier"))
    assert MY_CAMPAIGN not in await listed(bz, "campaigns", "test-key")
    hint = (await entry(bz, "/campaigns/details"))["hint"]
    assert WORKSPACE in hint and "/_sandbox/vendors/braze/campaigns" in hint


async def test_learned_objects_vanish_on_reset(bz: Braze) -> None:
    await bz.post("/canvas/trigger/send", {"canvas_id": MY_CANVAS, "broadcast": True})
    await bz.api.control("POST", "/reset", params={"tenant": "test-key"})
    assert MY_CANVAS not in await listed(bz, "canvases", "test-key")


async def test_learned_objects_are_kept_by_export_and_import_state(aiohttp_client: Any) -> None:
    app = create_app(DEFAULT_SETTINGS)
    bz = Braze(Api(await aiohttp_client(app)))
    await bz.post("/canvas/trigger/send", {"canvas_id": MY_CANVAS, "broadcast": True})
    await bz.api.control("POST", "/vendors/braze/segments", json={"id": "rt", "name": "RT"})
    [braze] = [p for p in app[keys.PROVIDERS] if p.name == "braze"]
    saved = pickle.loads(pickle.dumps(braze.export_state()))
    fresh = create_app(DEFAULT_SETTINGS)
    other = Braze(Api(await aiohttp_client(fresh)))
    [restored] = [p for p in fresh[keys.PROVIDERS] if p.name == "braze"]
    restored.import_state(saved)
    assert (await listed(other, "canvases", "test-key"))[MY_CANVAS]["provisioned"] is True
    assert "rt" in await listed(other, "segments", "anyone")


# -- strict mode --------------------------------------------------------------------------------------------
STRICT_ROWS = [
    pytest.param("/campaigns/trigger/send", {"campaign_id": MY_CAMPAIGN, "broadcast": True},
                 400, fail("campaign_id must be a string of the campaign api identifier"), "campaigns",
                 id="trigger-campaign"),
    pytest.param("/campaigns/trigger/schedule/create", {"campaign_id": MY_CAMPAIGN, "broadcast": True,
                                                        "schedule": {"time": "2099-01-01T00:00:00Z"}},
                 400, fail("campaign_id must be a string of the campaign api identifier"), "campaigns",
                 id="trigger-schedule-campaign"),
    pytest.param("/messages/send", {"campaign_id": MY_CAMPAIGN, "external_user_ids": ["u"], "messages": {
        "apple_push": {"alert": "a", "message_variation_id": MY_VARIATION}}},
        400, fail("campaign_id must be a string of the campaign api identifier"), "campaigns", id="api-campaign"),
    pytest.param("/sends/id/create", {"campaign_id": MY_CAMPAIGN},
                 400, fail("campaign_id must be a string of the campaign api identifier"), "campaigns",
                 id="send-id-campaign"),
    pytest.param(f"/transactional/v1/campaigns/{MY_CAMPAIGN}/send", {"recipient": {"external_user_id": "u"}},
                 400, fail("Campaign does not exist"), "campaigns", id="transactional-campaign"),
    pytest.param("/canvas/trigger/send", {"canvas_id": MY_CANVAS, "broadcast": True},
                 400, fail("canvas_id must be a string of the Canvas api identifier"), "canvases", id="canvas"),
    pytest.param("/messages/send", {"segment_id": MY_SEGMENT, "broadcast": True, "messages": PUSH},
                 400, fail("segment_id must be a string of the segment api identifier"), "segments", id="segment"),
    pytest.param("/messages/send", {"external_user_ids": ["u"], "messages": {"sms": {
        "subscription_group_id": MY_GROUP, "body": "hi", "app_id": EMAIL_APP}}},
        400, fail("Invalid subscription group ID"), "subscription_groups", id="subscription-group"),
]


@pytest.mark.parametrize("settings", [strict_settings()])
@pytest.mark.parametrize(("path", "body", "status", "expected", "collection"), STRICT_ROWS)
async def test_strict_mode_answers_braze_errors_with_a_hint(bz: Braze, path: str, body: dict, status: int,
                                                            expected: dict, collection: str) -> None:
    answer = await bz.post(path, body)
    assert answer[:2] == (status, expected)
    recorded = await entry(bz, path)
    assert recorded["notes"] == [] and recorded["response"] == expected
    assert WORKSPACE in recorded["hint"] and f"/_sandbox/vendors/braze/{collection}" in recorded["hint"]
    assert (await listed(bz, collection, "test-key")).keys().isdisjoint(
        {MY_CAMPAIGN, MY_CANVAS, MY_SEGMENT, MY_GROUP})


async def test_the_workspace_file_can_make_braze_strict(aiohttp_client: Any, tmp_path: Path) -> None:
    (tmp_path / "braze").mkdir()
    (tmp_path / "braze" / "workspace.json").write_text(json.dumps({"strict": True}))
    bz = Braze(Api(await aiohttp_client(create_app(Settings(population_size=300, fixtures=tmp_path)))))
    status, body, _ = await bz.post("/canvas/trigger/send", {"canvas_id": MY_CANVAS, "broadcast": True})
    assert (status, body) == (400, fail("canvas_id must be a string of the Canvas api identifier"))
    assert (await bz.api.control("GET", "/vendors/braze"))["strict"] is True
    status, _, _ = await bz.post("/campaigns/trigger/send", {"campaign_id": TRIGGERED, "broadcast": True})
    assert status == 201  # the packaged workspace is still there (merged, not replaced)


# -- run-time collections ----------------------------------------------------------------------------------
RUNTIME = [
    pytest.param("campaigns", {"id": "rt-1", "name": "Run-time welcome", "type": "api_triggered",
                               "messages": {"rt-v1": {"channel": "email", "app_id": EMAIL_APP,
                                                      "from": "A <a@example.com>", "body": "hi"}}},
                 "/campaigns/trigger/send", {"campaign_id": "rt-1", "recipients": [{"external_user_id": "u"}]},
                 id="campaigns"),
    pytest.param("canvases", {"id": "rt-1", "name": "Run-time canvas", "steps": []},
                 "/canvas/trigger/send", {"canvas_id": "rt-1", "broadcast": True}, id="canvases"),
    pytest.param("segments", {"id": "rt-1", "name": "Run-time segment", "members": {"everyone": True}},
                 "/messages/send", {"segment_id": "rt-1", "broadcast": True, "messages": PUSH}, id="segments"),
    pytest.param("subscription_groups", {"id": "rt-1", "name": "Run-time SMS", "channel": "sms"},
                 "/messages/send", {"external_user_ids": ["u"], "messages": {"sms": {
                     "subscription_group_id": "rt-1", "body": "hi", "app_id": EMAIL_APP}}}, id="subscription_groups"),
]


@pytest.mark.parametrize("settings", [strict_settings()])
@pytest.mark.parametrize(("collection", "item", "path", "body"), RUNTIME)
async def test_run_time_additions_for_one_tenant(bz: Braze, collection: str, item: dict, path: str,
                                                 body: dict) -> None:
    added = await bz.api.control("POST", f"/vendors/braze/{collection}", params={"tenant": "test-key"}, json=item)
    assert added["added"] == [item] and added["tenant"] == "test-key"
    assert (await bz.post(path, body))[0] == 201
    assert "provisioned" not in (await listed(bz, collection, "test-key"))["rt-1"]
    assert (await Braze(bz.api, key="other-key").post(path, body))[0] == 400
    assert "rt-1" not in await listed(bz, collection, "other-key")
    await bz.api.control("DELETE", f"/vendors/braze/{collection}/rt-1", params={"tenant": "test-key"})
    assert (await bz.post(path, body))[0] == 400


@pytest.mark.parametrize("settings", [strict_settings()])
@pytest.mark.parametrize(("collection", "item", "path", "body"), RUNTIME)
async def test_run_time_additions_for_every_tenant_vanish_on_reset(bz: Braze, collection: str, item: dict,
                                                                   path: str, body: dict) -> None:
    await bz.api.control("POST", f"/vendors/braze/{collection}", json=item)
    assert (await bz.post(path, body))[0] == 201
    assert (await Braze(bz.api, key="other-key").post(path, body))[0] == 201
    assert "rt-1" in await listed(bz, collection)
    await bz.api.control("POST", "/reset")
    assert (await bz.post(path, body))[0] == 400
    assert "rt-1" not in await listed(bz, collection)


async def test_a_deleted_addition_for_every_tenant_is_gone(bz: Braze) -> None:
    await bz.api.control("POST", "/vendors/braze/segments", json={"id": "rt-1", "name": "RT"})
    await bz.api.control("DELETE", "/vendors/braze/segments/rt-1")
    assert "rt-1" not in await listed(bz, "segments")
    status, _, _ = await bz.api.call("DELETE", "/_sandbox/vendors/braze/segments/rt-1")
    assert status == 404


@pytest.mark.parametrize(("collection", "item", "problem"), [
    ("campaigns", {"id": "c", "name": "n"}, "'type' is a required property"),
    ("campaigns", {"id": "c", "name": "n", "type": "api", "segment_id": "nope"}, "no segment 'nope'"),
    ("canvases", {"name": "n"}, "'id' is a required property"),
    ("segments", {"id": "s", "name": "n", "members": {"attribute": "a", "op": "sounds_like", "value": 1}},
     "members"),
    ("subscription_groups", {"id": "g", "channel": "fax"}, "'fax' is not one of"),
])
async def test_bad_run_time_items_are_explained(bz: Braze, collection: str, item: dict, problem: str) -> None:
    status, body, _ = await bz.api.call("POST", f"/_sandbox/vendors/braze/{collection}", json=item)
    assert status == 400 and problem in body["error"]["message"]


async def test_unknown_collections_list_the_valid_ones(bz: Braze) -> None:
    status, body, _ = await bz.api.call("GET", "/_sandbox/vendors/braze/templates")
    assert status == 404
    assert body["error"]["details"]["collections"] == ["campaigns", "canvases", "segments", "subscription_groups"]


# -- the fixtures overlay ----------------------------------------------------------------------------------
async def test_an_overlay_file_adding_one_campaign_keeps_the_packaged_ones(aiohttp_client: Any,
                                                                        tmp_path: Path) -> None:
    (tmp_path / "braze").mkdir()
    mine = {"id": MY_CAMPAIGN, "name": "Mine", "type": "api_triggered", "state": "paused",
            "messages": {MY_VARIATION: {"channel": "email"}}}
    (tmp_path / "braze" / "workspace.json").write_text(json.dumps({"campaigns": [mine]}))
    bz = Braze(Api(await aiohttp_client(create_app(strict_settings(fixtures=tmp_path)))))
    ids = set(await listed(bz, "campaigns"))
    assert {MY_CAMPAIGN, TRIGGERED, API_CAMPAIGN} <= ids
    status, body, _ = await bz.post("/campaigns/trigger/send", {"campaign_id": MY_CAMPAIGN, "broadcast": True})
    assert status == 201 and body["notice"].startswith("The campaign is paused")


async def test_estimates_see_the_tenants_run_time_and_learned_segments(bz: Braze) -> None:
    await bz.api.control("POST", "/vendors/braze/segments", params={"tenant": "test-key"},
                         json={"id": "rt-none", "name": "Nobody", "members": {"any": []}})
    await bz.post("/messages/send", {"segment_id": MY_SEGMENT, "broadcast": True, "messages": PUSH})

    async def matched(segment: str, tenant: str) -> Any:
        status, body, _ = await bz.api.call("POST", "/_sandbox/audience/estimate", json={
            "vendor": "braze", "audience": {"segment_id": segment}, "tenant": tenant})
        return body["matched"] if status == 200 else status

    assert await matched("rt-none", "test-key") == 0
    assert await matched(MY_SEGMENT, "test-key") == DEFAULT_SETTINGS.population_size
    assert await matched("rt-none", "other-key") == 400
