"""Users Netcore campaigns leave out, with the reason, at ``/_sandbox/deliveries/skipped``: audience members the
channel cannot reach (no app device, unsubscribed, no or invalid email) and frequency capping."""

from __future__ import annotations

import json

from support.netcore import email_campaign
from support.skipped import population, reasons_by_user, skipped, why


def execute(campaign_id: int, **extra: object) -> dict:
    return {"type": "apn", "campaign_id": str(campaign_id), "data_source": "list", "list_id": 151, **extra}


async def test_list_member_without_an_app_device(nc) -> None:
    campaign_id = await nc.create_gen1()
    await nc.gen1("execute", execute(campaign_id))
    found = await skipped(nc.api, vendor="netcore", campaign_id=campaign_id)
    [noor] = found["skipped"]
    assert (noor["channel"], noor["reason"], noor["tenant"], noor["known"]) == ("push", "no_channel", "API_KEY", True)
    assert found["counts"] == {"no_channel": 1}
    assert noor["user"] not in {d["user"] for d in await nc.deliveries()}


async def test_frequency_capping(nc) -> None:
    first, capped = [await nc.create_gen1() for _ in range(2)]
    await nc.gen1("execute", execute(first))
    await nc.gen1("execute", execute(capped, frequency_capping=True))
    found = await skipped(nc.api, campaign_id=capped)
    assert sorted(reasons_by_user(found).values()) == ["frequency_capped"] * 3 + ["no_channel"]
    assert {s["user"] for s in found["skipped"] if s["reason"] == "frequency_capped"} == {
        d["user"] for d in await nc.deliveries(campaign_id=first)}
    assert found["skipped"][-1]["detail"].startswith("frequency capping: at most 1 ")


async def test_all_users_campaign_skips_everyone_the_channel_cannot_reach(nc) -> None:
    status, body = await nc.v3({"campaign_status": "send now", "template_id": 5,
                                "contact_details": {"is_all_user_campaign": True}})
    assert status == 200
    profiles = await population(nc.api, "10223")
    found = await skipped(nc.api, campaign_id=body["campaign_id"])
    expected: dict[str, int] = {}
    for profile in profiles:
        reason = why(profile, "push")
        if reason:
            expected[reason] = expected.get(reason, 0) + 1
    assert found["counts"] == expected
    assert len(await nc.deliveries()) + sum(expected.values()) == len(profiles)


async def test_v4_email_campaign_skips_a_contact_without_an_address(nc) -> None:
    contact = {"FIRST_NAME": "Zoe", "MOBILE": 919777777777, "CUSTOMER_ID": "C-9", "PLATFORM": "android"}
    assert (await nc.contact("addsync", json.dumps(contact), listid="160"))[0] == 200
    _, body = await nc.v4("create", {"campaign_details": [email_campaign(
        "Zoe", campaign_state="active", audience_details={"include_list": {"list_ids": ["160"]}})]})
    found = await skipped(nc.api, campaign_id=body["data"]["id"])
    assert [(s["user"], s["channel"], s["reason"]) for s in found["skipped"]] == [("C-9", "email", "no_channel")]
