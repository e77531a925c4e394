"""apiv2 contact API (spec §6.1): async activities accept anything with a key, addsync validates."""

from __future__ import annotations

import json

import pytest
from support.netcore import FORM

ZOE = {"FIRST_NAME": "Zoe", "EMAIL": "Zoe@Example.com", "MOBILE": 919777777777, "PLATFORM": "ios"}


async def reached(nc, list_id: int) -> list[str]:
    campaign_id = await nc.create_gen1()
    status, body = await nc.gen1("execute", {"type": "apn", "campaign_id": campaign_id, "data_source": "list",
                                             "list_id": list_id})
    assert status == 200, body
    return [d["user"] for d in await nc.deliveries(campaign_id=campaign_id)]


async def test_add_update_and_list_membership(nc) -> None:
    status, body = await nc.contact("add", json.dumps(ZOE), listid="160")
    assert status == 200 and body["result"] == "Success" and len(body["requestid"]) == 32
    # update by another primary key merges into the same contact
    await nc.contact("update", json.dumps({"MOBILE": "919777777777", "CUSTOMER_ID": "C-9"}))
    assert await reached(nc, 160) == ["C-9"]


async def test_request_ids_differ_and_repeat_after_reset(nc) -> None:
    ids = [(await nc.contact("add", "{}"))[1]["requestid"] for _ in range(2)]
    assert ids[0] != ids[1]
    await nc.api.control("POST", "/reset")
    assert (await nc.contact("add", "{}"))[1]["requestid"] == ids[0]


@pytest.mark.parametrize(("data", "form", "details"), [
    ("not json", {}, "Invalid data"),
    ("[1]", {}, "Invalid data"),
    ('{"FIRST_NAME": "x"}', {}, "Primary key missing"),
])
async def test_addsync_validates_and_async_add_does_not(nc, data, form, details) -> None:
    status, body = await nc.contact("addsync", data, **form)
    assert (status, body) == (400, {"result": "Failure", "details": details})
    status, body = await nc.contact("add", data, **form)
    assert status == 200 and body["result"] == "Success"


async def test_unknown_activity_or_type(nc) -> None:
    for params in ({"type": "contact", "activity": "explode"}, {"type": "export_data", "activity": "add"},
                   {"activity": "add"}):
        status, body, _ = await nc.api.call("POST", "/apiv2", data="data=%7B%7D", headers=FORM,
                                            params={**params, "apikey": nc.key})
        assert (status, body) == (400, {"result": "Failure", "details": "Invalid activity"})


async def test_delete_needs_a_list_and_removes_by_any_primary_key(nc) -> None:
    status, body = await nc.contact("delete", "mike@shop.example")
    assert (status, body) == (400, {"result": "Failure", "details": "listid is required"})
    assert (await nc.contact("delete", "MIKE@shop.example", listid="151"))[0] == 200
    assert (await nc.contact("delete", "00000133", listid="151"))[0] == 200
    assert await reached(nc, 151) == ["00000134"]  # Noor has no app device


async def test_form_posted_with_a_json_content_type_is_read_as_a_form(nc) -> None:
    status, body, _ = await nc.api.call("POST", "/apiv2", data="data=" + json.dumps(ZOE) + "&listid=160",
                                        headers={"Content-Type": "application/json"},
                                        params={"type": "contact", "activity": "addsync", "apikey": nc.key})
    assert status == 200 and body["details"] == "Data added successfully"
    assert await reached(nc, 160) == ["Zoe@Example.com"]  # the address as uploaded


PUBLISH = {"activity": "upload_contact_and_publish", "apikey": "API_KEY"}
EMAIL_CAMPAIGN = {"campaign_name": "Diwali", "subject_line": "Happy Diwali [NAME]", "sender_email_id": "n@shop.example",
                  "sender_name": "Shop", "schedule_date": "now", "templateid": "17", "target_lists": "151,160",
                  "suppression_list": "153", "tags": "festive,2026"}


async def test_publish_sends_the_email_campaign_to_target_lists_minus_suppression(nc) -> None:
    await nc.contact("addsync", json.dumps({"EMAIL": "dev@shop.example", "NAME": "Dev Rao"}), listid="160")
    status, body, _ = await nc.api.call("POST", "/apiv2", json=EMAIL_CAMPAIGN, params=PUBLISH)
    assert status == 200 and body["result"] == "Success"
    got = [(d["user"], d["content"]["subject"], d["extra"]["tags"]) for d in await nc.deliveries()]
    assert got == [("mike@shop.example", "Happy Diwali [NAME]", ["festive", "2026"]),
                   ("asha@shop.example", "Happy Diwali [NAME]", ["festive", "2026"]),
                   ("noid@shop.example", "Happy Diwali [NAME]", ["festive", "2026"]),
                   ("dev@shop.example", "Happy Diwali Dev Rao", ["festive", "2026"])]
    assert (await nc.deliveries())[0]["content"] == {
        "subject": "Happy Diwali [NAME]", "body": "<p>Hello Mike,</p><p>this is a test.</p>",
        "sender_name": "Shop", "sender_email": "n@shop.example"}


async def test_publish_with_a_future_date_runs_on_the_clock(nc) -> None:
    campaign = {**EMAIL_CAMPAIGN, "schedule_date": "2999-05-01T08:00:00Z", "templateid": "",
                "source_file": "https://shop.example/diwali.html"}
    status, _, _ = await nc.api.call("POST", "/apiv2", json=campaign, params=PUBLISH)
    assert status == 200
    assert await nc.deliveries() == []
    await nc.api.control("POST", "/clock", json={"now": "2999-05-01T08:00:00Z"})
    bodies = {d["content"]["body"] for d in await nc.deliveries()}
    assert bodies == {"[hosted template https://shop.example/diwali.html]"}


@pytest.mark.parametrize(("raw", "details"), [
    (b"campaign_name=x", "Invalid JSON"),
    (b"[]", "Invalid JSON"),
    (json.dumps({**EMAIL_CAMPAIGN, "templateid": None}).encode(), "templateid is required"),
    (json.dumps({**EMAIL_CAMPAIGN, "schedule_date": "soon"}).encode(), "Invalid schedule time"),
    (json.dumps({**EMAIL_CAMPAIGN, "templateid": "2"}).encode(), "Template does not belong to this channel"),
])
async def test_publish_errors(nc, raw, details) -> None:
    status, body, _ = await nc.api.call("POST", "/apiv2", data=raw, params=PUBLISH,
                                        headers={"Content-Type": "application/json"})
    assert (status, body) == (400, {"result": "Failure", "details": details})
