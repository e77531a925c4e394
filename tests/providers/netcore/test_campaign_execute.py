"""Gen-1 flow end to end (seed 002, spec §1): create stores, execute sends to the list/segment members with the
template personalised; frequency capping, errors in the same envelope, uploaded contacts, reset."""

from __future__ import annotations

import json

import pytest

OFFER = {"offer": "20%", "code": "DIWALI"}


def push(name: str) -> dict[str, str]:
    """Template 2 of fixtures/netcore/templates.json, personalised."""
    return {"title": f"Hi {name}, 20% off today", "body": "Use code DIWALI before midnight.",
            "landing_page": "deeplink", "url": "app://offers"}


def execute(campaign_id: int, **extra) -> dict:
    return {"type": "apn", "campaign_id": str(campaign_id), "data_source": "list", "list_id": 151, **extra}


async def test_create_execute_records_personalised_deliveries_for_list_members(nc) -> None:
    campaign_id = await nc.create_gen1(tags=["Festive", "Brand"])
    assert await nc.deliveries() == []  # created, not sent (seed: "doesn't launch it")
    status, body = await nc.gen1("execute", execute(campaign_id, frequency_capping=False, personalization=OFFER))
    assert (status, body) == (200, {"status": "success", "message": "Campaign executed successfully",
                                    "campaign_id": campaign_id})
    got = [(d["user"], d["channel"], d["platform"], d["content"], d["tenant"], d["campaign_id"], d["known"])
           for d in await nc.deliveries()]
    assert got == [  # Noor (noid@shop.example) has no app device: app push cannot reach her
        ("00000132", "push", "android", push("Mike"), "API_KEY", str(campaign_id), True),
        ("00000133", "push", "ios", push("Asha"), "API_KEY", str(campaign_id), True),
        ("00000134", "push", "android", push("Lena"), "API_KEY", str(campaign_id), True),
    ]
    assert all(len(d["device"]) == 32 for d in await nc.deliveries())
    first = (await nc.deliveries())[0]
    assert first["extra"]["campaign_name"] == "Offer" and first["extra"]["list_ids"] == ["151"]


async def test_segment_source_and_alternative_field_names(nc) -> None:
    campaign_id = await nc.create_gen1()
    status, _ = await nc.gen1("execute", {"type": "apn", "campaign_id": campaign_id, "data_source": "segment",
                                          "data_source_id": "40", "payload": {"offer": "5%"}})
    assert status == 200
    got = [(d["user"], d["content"]["title"]) for d in await nc.deliveries()]
    assert got == [("00000133", "Hi Asha, 5% off today"), ("00000200", "Hi Ravi, 5% off today")]


async def test_unknown_personalization_tags_are_left_as_they_are(nc) -> None:
    campaign_id = await nc.create_gen1()
    assert (await nc.gen1("execute", execute(campaign_id)))[0] == 200
    assert (await nc.deliveries())[0]["content"]["body"] == "Use code [code] before midnight."


@pytest.mark.parametrize(("body", "message"), [
    ({"data_source": "list"}, "list_id is required"),
    ({"data_source": "segment", "list_id": 151}, "segment_id is required"),
    ({"data_source": "list", "list_id": 151, "frequency_capping": "yes"}, "frequency_capping is invalid"),
    ({"data_source": "list", "list_id": 151, "type": "sms"}, "Channel not supported"),
])
async def test_execute_errors(nc, body, message) -> None:
    campaign_id = await nc.create_gen1()
    status, answer = await nc.gen1("execute", {"type": "apn", "campaign_id": campaign_id, **body})
    assert (status, answer) == (400, {"status": "error", "message": message})
    assert await nc.deliveries() == []


async def test_a_campaign_runs_once(nc) -> None:
    campaign_id = await nc.create_gen1()
    assert (await nc.gen1("execute", execute(campaign_id)))[0] == 200
    status, body = await nc.gen1("execute", execute(campaign_id))
    assert (status, body) == (400, {"status": "error", "message": "Campaign already executed"})
    assert len(await nc.deliveries()) == 3


async def test_campaign_created_without_template_cannot_run(nc) -> None:
    status, body = await nc.gen1("create", {"type": "apn", "app_ids": ["a"]})
    assert status == 200
    status, body = await nc.gen1("execute", execute(body["campaign_id"]))
    assert (status, body) == (400, {"status": "error", "message": "Template not found"})


async def test_frequency_capping_skips_contacts_reached_in_the_last_24_hours(nc) -> None:
    first, capped, uncapped, later = [await nc.create_gen1() for _ in range(4)]
    await nc.gen1("execute", execute(first))
    await nc.gen1("execute", execute(capped, frequency_capping=True))
    assert await nc.deliveries(campaign_id=capped) == []
    await nc.gen1("execute", execute(uncapped, frequency_capping=False))
    assert len(await nc.deliveries(campaign_id=uncapped)) == 3
    await nc.advance(86400)
    await nc.gen1("execute", execute(later, frequency_capping=True))
    assert len(await nc.deliveries(campaign_id=later)) == 3


async def test_contacts_uploaded_through_apiv2_are_reached_and_removed(nc) -> None:
    contact = {"FIRST_NAME": "Zoe", "EMAIL": "zoe@example.com", "MOBILE": 919777777777, "CUSTOMER_ID": "C-9",
               "PLATFORM": "android"}
    assert (await nc.contact("addsync", json.dumps(contact), listid="160"))[0] == 200
    campaign_id = await nc.create_gen1()
    await nc.gen1("execute", execute(campaign_id, list_id="160", personalization=OFFER))
    assert [(d["user"], d["content"]["title"]) for d in await nc.deliveries()] == [("C-9", "Hi Zoe, 20% off today")]
    status, body, _ = await nc.api.call("GET", "/apiv2", params={"type": "contact", "activity": "delete",
                                                                 "apikey": nc.key, "data": "919777777777",
                                                                 "listid": "160"})
    assert status == 200 and body["result"] == "Success"
    again = await nc.create_gen1()
    await nc.gen1("execute", execute(again, list_id=160))
    assert await nc.deliveries(campaign_id=again) == []


async def test_reset_of_the_tenant_drops_its_campaigns_and_deliveries(nc) -> None:
    campaign_id = await nc.create_gen1()
    await nc.gen1("execute", execute(campaign_id))
    await nc.api.control("POST", "/reset", params={"tenant": "API_KEY"})
    assert await nc.deliveries() == []
    status, body = await nc.gen1("execute", execute(campaign_id))
    assert (status, body) == (400, {"status": "error", "message": "Campaign not found"})


async def test_campaign_ids_are_reproducible(nc) -> None:
    first = [await nc.create_gen1() for _ in range(3)]
    await nc.api.control("POST", "/reset")
    assert [await nc.create_gen1() for _ in range(3)] == first
    assert first == list(range(first[0], first[0] + 3))
