"""Users CleverTap sends and campaigns leave out, with the reason, at ``/_sandbox/deliveries/skipped``."""

from __future__ import annotations

from support.clevertap import CREATE, EMAIL, PUSH, post
from support.skipped import pick, population, reasons_by_user, skipped, why


async def test_send_records_addressed_users_it_cannot_reach(api) -> None:
    users = pick(await population(api), "push")
    to = {"Identity": [users["reachable"], users["unsubscribed"], users["no_channel"], "nobody-knows-me"]}
    await post(api, "/1/send/push.json", {"to": to, "content": {"title": "t", "body": "b"}})
    found = await skipped(api, vendor="clevertap")
    assert reasons_by_user(found) == {users["unsubscribed"]: "unsubscribed", users["no_channel"]: "no_channel"}
    assert found["counts"] == {"unsubscribed": 1, "no_channel": 1}
    [first, _] = found["skipped"]
    assert first["channel"] == "push" and first["tenant"] == "ACCOUNT_ID" and first["known"] is True
    assert first["detail"] == f"addressed by Identity {users['unsubscribed']}" and first["time"]
    delivered = (await api.control("GET", "/deliveries"))["deliveries"]
    assert {d["user"] for d in delivered} == {users["reachable"], "nobody-knows-me"}
    assert (await skipped(api, user=users["no_channel"]))["counts"] == {"no_channel": 1}
    assert (await skipped(api, reason="unsubscribed"))["total"] == 1


async def test_campaign_records_unreachable_and_control_group_users(api) -> None:
    profiles = await population(api)
    body = {**PUSH, "control_group": {"type": "campaign", "percentage": 30}}
    created = await post(api, CREATE, body)
    result = (await post(api, "/1/targets/result.json", {"id": created["id"]}))["result"]
    found = await skipped(api, campaign_id=created["id"])
    unreachable = [p["identity"] for p in profiles if why(p, "push", ["ios"])]
    assert found["counts"] == {"unsubscribed": sum(why(p, "push", ["ios"]) == "unsubscribed" for p in profiles),
                               "no_channel": sum(why(p, "push", ["ios"]) == "no_channel" for p in profiles),
                               "control_group": result["control_group"]}
    assert result["sent"] + sum(found["counts"].values()) == len(profiles)
    by_user = reasons_by_user(found)
    assert {u for u, r in by_user.items() if r != "control_group"} == set(unreachable)
    held = [s for s in found["skipped"] if s["reason"] == "control_group"]
    assert held and all(s["detail"] == f"campaign:{created['id']} 30%" for s in held)
    sent = {d["user"] for d in (await api.control("GET", "/deliveries"))["deliveries"]}
    assert not sent & set(by_user)


async def test_frequency_capped_and_expired_campaigns(api) -> None:
    for _ in range(10):  # the packaged account caps at 10 messages a day
        await post(api, CREATE, EMAIL)
    capped = await post(api, CREATE, EMAIL)
    found = await skipped(api, campaign_id=capped["id"], reason="frequency_capped")
    assert found["counts"] == {"frequency_capped": capped["estimates"]["email"]}
    assert found["skipped"][0]["detail"] == "account cap: 10 messages in 1 days"
    expired = await post(api, CREATE, {**PUSH, "ttl": {"ttl_type": "absolute", "value": 202001010000}})
    found = await skipped(api, campaign_id=expired["id"], reason="expired")
    assert found["counts"] == {"expired": expired["estimates"]["ios"]}
    assert found["skipped"][0]["detail"].startswith("ttl ended at 2020-01-01")
