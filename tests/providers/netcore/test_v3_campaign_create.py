"""v3 app-push create (spec §2): send now, schedule on the sandbox clock, drafts, suppression, inline templates."""

from __future__ import annotations

import pytest

ALL = {"is_all_user_campaign": True}


async def test_send_now_to_lists_minus_suppression_with_inline_template(nc) -> None:
    status, body = await nc.v3({"campaign_status": "send now", "campaign_name": "Inline",
                                "contact_details": {"list_ids": [151], "segment_ids": ["40"],
                                                    "suppression_list_ids": [153], "suppression_segment_ids": []},
                                "inline_template": {"title": "Hey [FIRST_NAME]", "description": "New arrivals",
                                                    "landing_page": "home"}})
    assert (status, body) == (200, {"status": "success", "message": "Campaign created successfully",
                                    "campaign_id": body["campaign_id"]})
    got = [(d["user"], d["tenant"], d["content"]) for d in await nc.deliveries()]
    assert got == [("00000132", "10223", {"title": "Hey Mike", "body": "New arrivals", "landing_page": "home"}),
                   ("00000133", "10223", {"title": "Hey Asha", "body": "New arrivals", "landing_page": "home"}),
                   ("00000200", "10223", {"title": "Hey Ravi", "body": "New arrivals", "landing_page": "home"})]


async def push_reach(nc, audience: dict) -> int:
    body = await nc.api.control("POST", "/audience/estimate", json={"vendor": "netcore", "audience": audience,
                                                                    "channel": "push", "tenant": "10223"})
    return sum(body["estimates"].values())


async def test_all_users_reaches_everyone_push_can_reach(nc) -> None:
    expected = await push_reach(nc, ALL)
    assert (await nc.v3({"campaign_status": "send now", "template_id": 5, "contact_details": ALL}))[0] == 200
    users = [d["user"] for d in await nc.deliveries()]
    assert len(users) == len(set(users)) == expected > 200  # the shared population plus the fixture contacts
    assert {"00000132", "00000133", "00000134", "00000200"} <= set(users)
    assert "noid@shop.example" not in users  # no app device


async def test_scheduled_campaign_runs_when_the_clock_reaches_it(nc) -> None:
    status, body = await nc.v3({"campaign_status": "send now", "template_id": 2, "contact_details": ALL,
                                "campaign_schedule_date": "2999-01-01T10:00:00Z"})
    assert (status, body["message"]) == (200, "Campaign scheduled successfully")
    await nc.api.control("POST", "/clock", json={"now": "2999-01-01T09:59:59Z"})
    assert await nc.deliveries() == []
    await nc.advance(1)
    expected = await push_reach(nc, ALL)
    assert len(await nc.deliveries(campaign_id=body["campaign_id"])) == expected
    await nc.advance(3600)
    assert len(await nc.deliveries()) == expected  # ran once


async def test_draft_is_stored_and_can_be_completed_by_id(nc) -> None:
    status, body = await nc.v3({"campaign_status": "draft", "campaign_name": "Later"})
    assert (status, body["message"]) == (200, "Campaign saved as draft")
    draft_id = body["campaign_id"]
    status, body = await nc.v3({"campaign_id": draft_id, "campaign_status": "send now", "template_id": 2,
                                "contact_details": {"segment_ids": [40]}})
    assert (status, body["campaign_id"]) == (200, draft_id)
    assert [d["campaign_id"] for d in await nc.deliveries()] == [str(draft_id)] * 2


@pytest.mark.parametrize(("body", "message"), [
    ({"campaign_status": "send now", "contact_details": ALL}, "template_id is required"),
    ({"campaign_status": "send now", "template_id": 2}, "No audience selected"),
    ({"campaign_status": "send now", "template_id": 17, "contact_details": ALL},
     "Template does not belong to this channel"),
    ({"campaign_status": "someday"}, "campaign_status is invalid"),
    ({"channel": "email"}, "Channel not supported"),
    ({"campaign_schedule_date": "14/12/2022"}, "Invalid schedule time"),
    ({"enable_frequency_capping": "no"}, "enable_frequency_capping is invalid"),
])
async def test_errors(nc, body, message) -> None:
    status, answer = await nc.v3(body)
    assert (status, answer) == (400, {"status": "error", "message": message})
