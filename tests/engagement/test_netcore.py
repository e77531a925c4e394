"""Netcore after the send: v4 callback_details really called (create, scheduled launch, update, delete) with
``{{...}}`` substituted, the email lifecycle, and the opens/clicks written as contact activities."""

from __future__ import annotations

from typing import Any

from support.engagement import DAY, advance, deliveries, outbound, received, receiver
from support.netcore import Netcore, email_campaign


def callback(url: str) -> dict[str, Any]:
    return {"endpoint": url + "/nc", "method": "POST", "header": [{"Authorization": "Bearer cb"}],
            "body": {"id": "{{campaign_id}}", "name": "{{campaign_name}}", "state": "{{campaign_state}}",
                     "text": "{{description}}"}}


async def test_callback_on_create_and_again_when_the_clock_sends_it(api) -> None:
    nc = Netcore(api)
    with receiver() as hook:
        entry = email_campaign("Spring", campaign_state="active", schedule_time="2031-01-01T10:00:00Z",
                               callback_details=callback(hook.url))
        status, answer = await nc.v4("create", {"campaign_details": [entry]})
        assert status == 200, answer
        campaign_id = answer["data"]["id"]
        [created] = await received(api, hook)
        assert created.path == "/nc" and created.headers["Authorization"] == "Bearer cb"
        assert created.json == {"id": str(campaign_id), "name": "Spring", "state": "scheduled",
                                "text": "Campaign created successfully."}
        await advance(api, 10 * 365 * DAY)
        calls = await received(api, hook, 2)
        assert calls[1].json["state"] == "sent" and calls[1].json["id"] == str(campaign_id)
        logged = await outbound(api, count=2, vendor="netcore")
        assert [e["operation"] for e in logged] == ["v4_campaign_create", "v4_campaign_sent"]


async def test_delete_calls_the_callback_of_the_request(api) -> None:
    nc = Netcore(api)
    status, answer = await nc.v4("create", {"campaign_details": [email_campaign("Draft one")]})
    campaign_id = answer["data"]["id"]
    with receiver() as hook:
        status, answer = await nc.v4("delete", {"campaign_details": [{"channel": "email", "campaign_id": campaign_id}],
                                                "callback_details": callback(hook.url)})
        assert status == 200, answer
        [deleted] = await received(api, hook)
        assert deleted.json["id"] == str(campaign_id) and deleted.json["text"].startswith("Deletion completed")


async def test_opens_and_clicks_become_contact_activities(api) -> None:
    nc = Netcore(api)
    status, answer = await nc.v4("create", {"campaign_details": [email_campaign("Now", campaign_state="active",
                                                                                schedule_time="now")]})
    assert status == 200, answer
    campaign_id = answer["data"]["id"]
    await advance(api, 3 * DAY)
    found = await deliveries(api, vendor="netcore", campaign_id=campaign_id, status="clicked")
    assert found["total"] > 0
    user, tenant = found["deliveries"][0]["user"], found["deliveries"][0]["tenant"]
    profile = await api.control("GET", f"/profiles/{user}", params={"tenant": tenant})  # the tenant's contact
    clicks = [e for e in profile["events"] if e["name"] == "Email Clicked"]
    assert any(e["props"]["campaign_id"] == campaign_id for e in clicks)


async def test_export_answers_and_calls_back_with_the_row_count(api) -> None:
    with receiver() as hook:
        body = {"audience_details": {"audience_type": "list", "audience_id": 151, "attributes_needed": ["EMAIL"]},
                "callback_details": {"endpoint": hook.url + "/export", "method": "PUT",
                                     "header": [{"key": "X-Id", "value": "7"}],
                                     "body": {"export": "{{export_id}}", "rows": "{{row_count}}",
                                              "of": "{{audience_type}} {{audience_id}}"}}}
        status, answer, _ = await api.call("POST", "/v4/audience/export", json=body,
                                           headers={"api-key": "API_KEY", "Content-Type": "application/json"})
        assert status == 200 and answer["data"]["status"] == "success", answer
        [call] = await received(api, hook)
        assert call.method == "PUT" and call.path == "/export" and call.headers["X-Id"] == "7"
        assert call.json == {"export": str(answer["data"]["export_id"]), "rows": "4", "of": "list 151"}
        missing = {**body, "audience_details": {"audience_type": "segment", "audience_id": 999999}}
        status, answer, _ = await api.call("POST", "/v4/audience/export", json=missing,
                                           headers={"api-key": "API_KEY", "Content-Type": "application/json"})
        assert status == 400, answer
