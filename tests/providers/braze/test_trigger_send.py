"""API-triggered campaigns and Canvases (spec §6.2, §6.3), transactional email (§6.4), /sends/id/create (§8)."""

from __future__ import annotations

import re

import pytest
from support.braze import (
    API_CAMPAIGN,
    CANVAS,
    CANVAS_ARCHIVED,
    CANVAS_PAUSED,
    GCG_MEMBER,
    TRANSACTIONAL,
    TRANSACTIONAL_PAUSED,
    TRIGGERED,
    TRIGGERED_ARCHIVED,
    TRIGGERED_PAUSED,
    Braze,
    fail,
)

RECORDED_TRIGGER = {"campaign_id": TRIGGERED,
                    "recipients": [{"external_user_id": 12345, "trigger_properties": {"first_name": "John"}}]}
"""braze_ruby cassette ``trigger_campaign/with_success`` request (spec §6.2) [V-rec]."""


async def test_recorded_trigger_send_succeeds_and_renders_trigger_properties(bz: Braze) -> None:
    status, body, _ = await bz.post("/campaigns/trigger/send", RECORDED_TRIGGER)
    assert status == 201 and list(body) == ["dispatch_id", "message"] and body["message"] == "success"
    found = {d["channel"]: d for d in await bz.deliveries(campaign_id=TRIGGERED)}
    assert found["push"]["content"]["alert"] == "Welcome John!"
    assert found["email"]["content"]["subject"] == "Welcome John"
    assert found["email"]["content"]["body"] == "<p>Hi , your code is </p>"
    assert found["push"]["extra"]["dispatch_id"] == body["dispatch_id"]
    assert found["push"]["extra"]["message_variation_id"] == "7c8d9e0f-0002-4b00-8000-000000000102"


async def test_per_recipient_properties_override_and_profile_attributes_render(bz: Braze) -> None:
    await bz.track(attributes=[{"external_id": "ann", "first_name": "Ann", "email": "ann@example.com"}])
    await bz.post("/campaigns/trigger/send", {
        "campaign_id": TRIGGERED, "trigger_properties": {"code": "TOP", "first_name": "Top"},
        "recipients": [{"external_user_id": "ann", "trigger_properties": {"code": "ANN"}},
                       {"external_user_id": "bob"}]})
    bodies = {d["user"]: d["content"]["body"] for d in await bz.deliveries(channel="email")}
    assert bodies == {"ann": "<p>Hi Ann, your code is ANN</p>", "bob": "<p>Hi , your code is TOP</p>"}


async def test_send_to_existing_only_false_with_attributes_creates_the_user(bz: Braze) -> None:
    status, _, _ = await bz.post("/campaigns/trigger/send", {"campaign_id": TRIGGERED, "recipients": [
        {"external_user_id": "new-1", "send_to_existing_only": False,
         "attributes": {"first_name": "Neo", "email": "neo@example.com"}}]})
    assert status == 201
    assert {d["content"]["body"] for d in await bz.deliveries(channel="email")} == {"<p>Hi Neo, your code is </p>"}
    _, body, _ = await bz.post("/users/export/ids", {"external_ids": ["new-1"], "fields_to_export": ["first_name"]})
    assert body == {"users": [{"first_name": "Neo"}], "message": "success"}


async def test_dashboard_campaigns_leave_out_the_global_control_group(bz: Braze) -> None:
    await bz.post("/campaigns/trigger/send", {"campaign_id": TRIGGERED,
                                              "recipients": [{"external_user_id": GCG_MEMBER},
                                                             {"external_user_id": "other"}]})
    await bz.post("/canvas/trigger/send", {"canvas_id": CANVAS, "recipients": [{"external_user_id": GCG_MEMBER}]})
    assert {d["user"] for d in await bz.deliveries()} == {"other"}


@pytest.mark.parametrize(("path", "payload", "notice"), [
    ("/campaigns/trigger/send", {"campaign_id": TRIGGERED_PAUSED},
     "The campaign is paused. Resume the campaign to ensure trigger requests will take effect."),
    ("/campaigns/trigger/send", {"campaign_id": TRIGGERED_ARCHIVED},
     "The campaign is archived. Unarchive the campaign to ensure trigger requests will take effect."),
    ("/canvas/trigger/send", {"canvas_id": CANVAS_PAUSED},
     "The Canvas is paused. Resume the Canvas to ensure trigger requests will take effect."),
    ("/canvas/trigger/send", {"canvas_id": CANVAS_ARCHIVED},
     "The Canvas is archived. Unarchive the Canvas to ensure trigger requests will take effect."),
])
async def test_paused_and_archived_answer_success_with_a_notice_and_send_nothing(bz: Braze, path, payload,
                                                                                 notice) -> None:
    status, body, _ = await bz.post(path, {**payload, "recipients": [{"external_user_id": "u"}]})
    assert status == 201 and list(body) == ["notice", "dispatch_id", "message"]
    assert (body["notice"], body["message"]) == (notice, "success")
    assert await bz.deliveries() == []


async def test_canvas_entry_renders_context_and_the_legacy_canvas_entry_properties(bz: Braze) -> None:
    status, body, _ = await bz.post("/canvas/trigger/send", {
        "canvas_id": CANVAS, "context": {"plan": "gold"},
        "recipients": [{"external_user_id": "a", "context": {"first_name": "Ada"}},
                       {"external_user_id": "b", "canvas_entry_properties": {"plan": "silver"}}]})
    assert status == 201 and re.fullmatch(r"[0-9a-f]{32}", body["dispatch_id"])
    found = {d["user"]: d["content"] for d in await bz.deliveries(campaign_id=CANVAS)}
    assert found["a"]["subject"] == "Hello Ada" and found["a"]["body"] == "Your plan: gold"
    assert found["b"]["subject"] == "Hello there" and found["b"]["body"] == "Your plan: silver"


TRIGGER_ROWS = [
    pytest.param("/campaigns/trigger/send", {"campaign_id": API_CAMPAIGN, "broadcast": True},
                 "Invalid Campaign ID", id="api-campaign-on-trigger"),
    pytest.param("/campaigns/trigger/send", {"recipients": [{"external_user_id": "u"}]},
                 "campaign_id is missing", id="campaign-id-missing"),
    pytest.param("/campaigns/trigger/send", {"campaign_id": TRIGGERED, "broadcast": True,
                                             "recipients": [{"external_user_id": "u"}]},
                 "cannot specify recipients when broadcast is true", id="broadcast-and-recipients"),
    pytest.param("/canvas/trigger/send", {"canvas_id": CANVAS},
                 "broadcast must be true if recipients are omitted", id="no-recipients-no-broadcast"),
    pytest.param("/campaigns/trigger/send", {"campaign_id": TRIGGERED, "broadcast": False, "recipients": []},
                 "broadcast must be true if recipients are omitted", id="empty-recipients"),
    pytest.param("/campaigns/trigger/send", {"campaign_id": TRIGGERED,
                                             "recipients": [{"external_user_id": str(n)} for n in range(51)]},
                 "The max number of external_ids and aliases per request was exceeded", id="51-recipients"),
    pytest.param("/campaigns/trigger/send", {"campaign_id": TRIGGERED, "recipients": [
        {"external_user_id": "u", "braze_id": "5eea769d45bb2e1467418f92"}]},
        "recipients[0][external_user_id], recipients[0][braze_id] are mutually exclusive", id="two-identifiers"),
    pytest.param("/campaigns/trigger/send", {"campaign_id": TRIGGERED, "recipients": [{"trigger_properties": {}}]},
                 "recipients[0][external_user_id], recipients[0][user_alias], recipients[0][braze_id], "
                 "recipients[0][email] are missing, exactly one parameter must be provided", id="no-identifier"),
    pytest.param("/canvas/trigger/send", {"canvas_id": CANVAS, "recipients": [{"email": "a@example.com"}]},
                 "recipients[0][prioritization] is missing", id="email-without-prioritization"),
    pytest.param("/campaigns/trigger/send", {"campaign_id": TRIGGERED, "recipients": [
        {"external_user_id": "u", "send_to_existing_only": False}]},
        "recipients[0][attributes] is missing", id="create-without-attributes"),
    pytest.param("/campaigns/trigger/send", {"campaign_id": TRIGGERED, "recipients": [
        {"user_alias": {"alias_name": "a", "alias_label": "l"}, "send_to_existing_only": False,
         "attributes": {"x": 1}}]},
        "recipients[0][send_to_existing_only] does not have a valid value", id="create-alias"),
    pytest.param("/campaigns/trigger/send", {"campaign_id": TRIGGERED, "broadcast": True,
                                             "attachments": [{"file_name": "a.pdf", "url": "https://x/a.pdf"}]},
                 "attachments does not have a valid value", id="attachments-with-broadcast"),
    pytest.param("/campaigns/trigger/send", {"campaign_id": TRIGGERED, "recipients": [{"external_user_id": "u"}],
                                             "trigger_properties": "x"},
                 "trigger_properties is invalid", id="trigger-properties-not-object"),
]


@pytest.mark.asyncio(loop_scope="module")
@pytest.mark.parametrize(("path", "payload", "expected"), TRIGGER_ROWS)
async def test_trigger_rules(shared_bz: Braze, path: str, payload: dict, expected: str) -> None:
    status, body, _ = await shared_bz.post(path, payload)
    assert (status, body) == (400, fail(expected))


async def test_email_recipient_with_prioritization_and_audience_only_trigger(bz: Braze) -> None:
    await bz.track(attributes=[{"external_id": "e1", "email": "e@example.com"}])
    status, _, _ = await bz.post("/canvas/trigger/send", {"canvas_id": CANVAS, "recipients": [
        {"email": "e@example.com", "prioritization": ["identified", "most_recently_updated"]}]})
    assert status == 201
    assert [d["user"] for d in await bz.deliveries()] == ["e1"]
    audience = {"custom_attribute": {"custom_attribute_name": "vip", "comparison": "equals", "value": True}}
    status, _, _ = await bz.post("/campaigns/trigger/send", {"campaign_id": TRIGGERED, "audience": audience})
    assert status == 201


# -- transactional (spec §6.4) --------------------------------------------------------------------
async def test_transactional_send_answers_dispatch_status_metadata(bz: Braze) -> None:
    path = f"/transactional/v1/campaigns/{TRANSACTIONAL}/send"
    status, body, _ = await bz.post(path, {"external_send_id": "order-1", "trigger_properties": {"reset_link": "L"},
                                           "recipient": {"external_user_id": "u9"}})
    assert status == 201
    assert list(body) == ["dispatch_id", "status", "metadata"]
    assert body["status"] == "queued" and body["metadata"] == {"external_send_id": "order-1"}
    assert re.fullmatch(r"[0-9a-f]{32}", body["dispatch_id"])
    [delivery] = await bz.deliveries(campaign_id=TRANSACTIONAL)
    assert (delivery["user"], delivery["channel"], delivery["content"]["body"]) == ("u9", "email", "<p>Use L</p>")
    status, body, _ = await bz.post(path, {"external_send_id": "order-1", "recipient": {"external_user_id": "u9"}})
    assert (status, body) == (400, fail("The external reference has been queued.  Please retry to obtain send_id."))


@pytest.mark.asyncio(loop_scope="module")
@pytest.mark.parametrize(("campaign", "payload", "expected"), [
    (TRIGGERED, {"recipient": {"external_user_id": "u"}},
     "The campaign is not a transactional campaign. Only transactional campaigns may use this endpoint"),
    (TRANSACTIONAL_PAUSED, {"recipient": {"external_user_id": "u"}},
     "The campaign is paused. Resume the campaign in order for trigger requests to take effect."),
    (TRANSACTIONAL, {}, "recipient is missing"),
    (TRANSACTIONAL, {"recipient": {}},
     "recipient[external_user_id], recipient[user_alias] are missing, exactly one parameter must be provided"),
    (TRANSACTIONAL, {"recipient": {"external_user_id": "u"}, "external_send_id": "has space"},
     "external_send_id does not have a valid value"),
])
async def test_transactional_errors(shared_bz: Braze, campaign: str, payload: dict, expected: str) -> None:
    status, body, _ = await shared_bz.post(f"/transactional/v1/campaigns/{campaign}/send", payload)
    assert (status, body) == (400, fail(expected))


# -- /sends/id/create (spec §8) ---------------------------------------------------------------------
async def test_send_ids(bz: Braze) -> None:
    status, body, _ = await bz.post("/sends/id/create", {"campaign_id": API_CAMPAIGN, "send_id": "spring-1"})
    assert (status, body) == (201, {"send_id": "spring-1", "message": "success"})
    status, body, _ = await bz.post("/sends/id/create", {"campaign_id": API_CAMPAIGN})
    assert status == 201 and re.fullmatch(r"[0-9a-f-]{36}", body["send_id"])
    status, body, _ = await bz.post("/sends/id/create", {"campaign_id": API_CAMPAIGN, "send_id": "é" * 3})
    assert (status, body) == (400, fail("send_id does not have a valid value"))
