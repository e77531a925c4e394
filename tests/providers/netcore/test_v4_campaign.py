"""v4 email campaigns (spec §4): lifecycle draft -> update -> active -> scheduled/sent, test sends, delete, list
filters and paging, and the rules a client relies on (unique names, sent campaigns are read-only)."""

from __future__ import annotations

from support.netcore import email_campaign

RECIPIENTS = ["mike@shop.example", "asha@shop.example", "lena@shop.example", "noid@shop.example"]


def ok(data, message: str) -> dict:
    return {"data": data, "message": message, "statusCode": 200}


def bad(description: str, field: str) -> dict:
    return {"data": {"status": "failure", "description": description, "field": field},
            "message": "The request parameters are invalid.", "statusCode": 400}


async def get(nc, campaign_id: int) -> dict:
    status, body = await nc.v4("get", {"channel": ["email"], "campaign_ids": [campaign_id]})
    assert status == 200, body
    return body["data"]["campaign_details"][0]


async def test_draft_update_activate_schedule_then_sent_on_the_clock(nc) -> None:
    status, body = await nc.v4("create", {"campaign_details": [email_campaign("Spring", campaign_state="draft")]})
    assert status == 200
    campaign_id = body["data"]["id"]
    assert body == ok({"id": campaign_id, "status": "success", "description": "Campaign created successfully."},
                      "Campaign created successfully.")
    assert (await get(nc, campaign_id))["campaign_state"] == "draft"

    update = {"channel": "email", "campaign_id": campaign_id,
              "content_details": {"template_id": 132, "subject_line": "Spring sale, [FIRST_NAME]"}}
    status, body = await nc.v4("update", {"campaign_details": [update]})
    assert (status, body) == (200, ok({"id": campaign_id, "status": "success",
                                       "description": "Campaign updated successfully."},
                                      "Campaign updated successfully."))
    assert (await get(nc, campaign_id))["content_details"]["subject_line"] == "Spring sale, [FIRST_NAME]"

    later = "2999-01-01T09:00:00Z"
    activate = {"channel": "email", "campaign_id": campaign_id, "campaign_state": "active", "schedule_time": later}
    assert (await nc.v4("update", {"campaign_details": [activate]}))[0] == 200
    assert (await get(nc, campaign_id))["campaign_state"] == "scheduled"
    assert await nc.deliveries() == []

    await nc.api.control("POST", "/clock", json={"now": later})
    assert (await get(nc, campaign_id))["campaign_state"] == "sent"
    deliveries = await nc.deliveries(campaign_id=campaign_id)
    assert [d["user"] for d in deliveries] == RECIPIENTS
    assert deliveries[0]["content"] == {"subject": "Spring sale, Mike",
                                        "body": "<p>Hi Mike, our sale starts now.</p>",
                                        "sender_name": "Shop", "sender_email": "shop@example.com"}
    status, body = await nc.v4("update", {"campaign_details": [update]})
    assert (status, body) == (400, bad("Campaign can not be updated in its current state",
                                       "campaign_details[0].campaign_id"))


async def test_active_now_is_sent_at_once_and_excludes_suppressed_lists(nc) -> None:
    entry = email_campaign("Now", campaign_state="active", schedule_time="now",
                           audience_details={"include_list": {"list_ids": ["151"], "seg_ids": ["40"]},
                                             "exclude_list": {"list_ids": ["153"]}})
    status, body = await nc.v4("create", {"campaign_details": [entry]})
    assert status == 200
    campaign = await get(nc, body["data"]["id"])
    assert campaign["campaign_state"] == "sent"
    assert campaign["schedule_time"].endswith("Z") and len(campaign["schedule_time"]) == 20
    assert [d["user"] for d in await nc.deliveries()] == [
        "mike@shop.example", "asha@shop.example", "noid@shop.example", "ravi@shop.example"]


async def test_audience_limit_caps_the_reach(nc) -> None:
    entry = email_campaign("Few", campaign_state="active",
                           audience_details={"include_list": {"list_ids": [151]}, "limit": 2})
    assert (await nc.v4("create", {"campaign_details": [entry]}))[0] == 200
    assert [d["user"] for d in await nc.deliveries()] == RECIPIENTS[:2]


async def test_scheduled_campaign_can_go_back_to_draft(nc) -> None:
    entry = email_campaign("Later", campaign_state="active", schedule_time="2999-01-01T00:00:00Z")
    _, body = await nc.v4("create", {"campaign_details": [entry]})
    campaign_id = body["data"]["id"]
    assert (await get(nc, campaign_id))["campaign_state"] == "scheduled"
    back = {"channel": "email", "campaign_id": campaign_id, "campaign_state": "draft"}
    assert (await nc.v4("update", {"campaign_details": [back]}))[0] == 200
    await nc.api.control("POST", "/clock", json={"now": "2999-01-02T00:00:00Z"})
    assert (await get(nc, campaign_id))["campaign_state"] == "draft"
    assert await nc.deliveries() == []


async def test_several_campaigns_in_one_create(nc) -> None:
    status, body = await nc.v4("create", {"campaign_details": [email_campaign("A"), email_campaign("B")]})
    assert status == 200
    assert [r["description"] for r in body["data"]] == ["Campaign created successfully."] * 2
    assert body["data"][1]["id"] == body["data"][0]["id"] + 1


async def test_create_rules(nc) -> None:
    assert (await nc.v4("create", {"campaign_details": [email_campaign("Dup")]}))[0] == 200
    cases = [
        (email_campaign("Dup"), bad("Campaign name already exists", "campaign_details[1].campaign_name")),
        (email_campaign("X", channel="sms"), bad("Channel not supported", "campaign_details[1].channel")),
        (email_campaign("X", content_details={"template_id": 2}),
         bad("Template does not belong to this channel", "campaign_details[1].content_details.template_id")),
        (email_campaign("X", campaign_state="active", audience_details={}),
         bad("No audience selected", "campaign_details[1].audience_details")),
        (email_campaign("X", schedule_time="tomorrow"),
         bad("Invalid schedule time", "campaign_details[1].schedule_time")),
        (email_campaign("X", campaign_state="sent"),
         bad("campaign_details[1].campaign_state is invalid", "campaign_details[1].campaign_state")),
        ({**email_campaign("X"), "sender_details": {"sender_name": "S"}},
         bad("campaign_details[1].sender_details.sender_email is required",
             "campaign_details[1].sender_details.sender_email")),
    ]
    for entry, expected in cases:
        status, body = await nc.v4("create", {"campaign_details": [email_campaign("Fine"), entry]})
        assert (status, body) == (400, expected), entry
    status, body = await nc.v4("list", {"page_no": 1, "page_size": 50, "campaign_ids": []})
    assert [c["campaign_name"] for c in body["data"]["campaign_details"]][-1] == "Dup"  # nothing half-created


async def test_test_send_records_test_deliveries_only(nc) -> None:
    body = {"test_campaign_details": [{"channel": "email", "campaign_id": 1231,
                                       "test_user_details": {"email_ids": ["mike@shop.example", "qa@example.com"]}}]}
    status, answer = await nc.v4("test", body)
    assert (status, answer) == (200, ok({"status": "success", "description": "Test campaign sent successfully."},
                                        "Test campaign sent successfully."))
    got = [(d["user"], d["content"]["subject"], d["known"], d["extra"]["test"]) for d in await nc.deliveries()]
    assert got == [("mike@shop.example", "Hello Mike", True, True),
                   ("qa@example.com", "Hello [FIRST_NAME]", False, True)]
    assert (await get(nc, 1231))["campaign_state"] == "draft"


async def test_delete_removes_the_campaign_for_this_tenant_only(nc) -> None:
    status, _ = await nc.v4("delete", {"campaign_details": [{"channel": "email", "campaign_id": 416}]})
    assert status == 200
    status, body = await nc.v4("get", {"channel": ["email"], "campaign_ids": [416]})
    assert (status, body) == (400, bad("Campaign not found", "campaign_ids[0]"))
    status, body = await nc.v4("delete", {"campaign_details": [{"channel": "email", "campaign_id": 416}]})
    assert (status, body) == (400, bad("Campaign not found", "campaign_details[0].campaign_id"))
    nc.key = "OTHER_KEY"
    assert (await get(nc, 416))["campaign_name"] == "salesTest1"


async def test_list_filters_and_pages(nc) -> None:
    await nc.v4("create", {"campaign_details": [email_campaign("Sent one", campaign_state="active")]})
    await nc.v4("create", {"campaign_details": [email_campaign("Planned", campaign_state="active",
                                                               schedule_time="2999-01-01T00:00:00Z")]})

    async def names(**body) -> tuple[list[str], int]:
        status, answer = await nc.v4("list", {"page_no": 1, "page_size": 10, **body})
        assert status == 200, answer
        data = answer["data"]
        return [c["campaign_name"] for c in data["campaign_details"]], data["total_count"]

    fixtures = ["salesTest1", "deleteMe", "oldPromo", "testMe"]
    assert await names() == ([*fixtures, "Sent one", "Planned"], 6)
    assert await names(campaign_states=["sent"]) == (["Sent one"], 1)
    assert await names(campaign_states=["scheduled", "sent"]) == (["Sent one", "Planned"], 2)
    assert await names(campaign_ids=[828, 416]) == (["salesTest1", "oldPromo"], 2)
    assert await names(channel=["sms"]) == ([], 0)
    assert await names(page_no=2, page_size=4) == (["Sent one", "Planned"], 6)
    assert await names(page_no=3, page_size=4) == ([], 6)
    assert await names(page_no=2.0, page_size=4.0) == (["Sent one", "Planned"], 6)  # integral floats are integers
    status, body = await nc.v4("list", {"page_no": 0, "page_size": 10})
    assert (status, body) == (400, bad("page_no is invalid", "page_no"))


async def test_frequency_capping_skips_contacts_emailed_in_the_last_day(nc) -> None:
    capped = {"enable_frequency_capping": True}
    await nc.v4("create", {"campaign_details": [email_campaign("First", campaign_state="active")]})
    _, body = await nc.v4("create", {"campaign_details": [
        email_campaign("Capped", campaign_state="active", frequency_capping=capped)]})
    assert await nc.deliveries(campaign_id=body["data"]["id"]) == []
    await nc.advance(86400)
    _, body = await nc.v4("create", {"campaign_details": [
        email_campaign("Next day", campaign_state="active", frequency_capping=capped)]})
    assert [d["user"] for d in await nc.deliveries(campaign_id=body["data"]["id"])] == RECIPIENTS
