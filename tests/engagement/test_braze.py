"""Braze after the send: webhook messaging objects called once per recipient with Liquid rendered, data
series (campaign, send, Canvas) counting the same lifecycle as /_sandbox/deliveries, engagement events."""

from __future__ import annotations

from typing import Any

from support.braze import API_CAMPAIGN, CANVAS, EMAIL_APP, VARIATION, Braze
from support.engagement import DAY, advance, deliveries, outbound, received, receiver


async def known_users(api: Any, count: int) -> list[dict[str, Any]]:
    profiles = (await api.control("GET", "/profiles", params={"limit": "200"}))["profiles"]
    return [p for p in profiles if p.get("email") and p.get("first_name")
            and not p["reachability"]["email"]["invalid"]][:count]


def email(variation: str = VARIATION["email"]) -> dict[str, Any]:
    return {"app_id": EMAIL_APP, "from": "Shop <shop@example.com>", "subject": "S", "body": "<p>B</p>",
            "message_variation_id": variation}


async def test_webhook_object_is_called_once_per_recipient_with_liquid_rendered(api) -> None:
    bz = Braze(api)
    users = await known_users(api, 3)
    with receiver() as hook:
        webhook = {"url": hook.url + "/braze?user={{${user_id}}}", "request_method": "POST",
                   "request_headers": {"Content-Type": "application/json", "X-Token": "t"},
                   "body": '{"greeting": "Hi {{${first_name}}}"}', "message_variation_id": VARIATION["webhook"]}
        status, body, _ = await bz.post("/messages/send", {
            "campaign_id": API_CAMPAIGN, "external_user_ids": [u["external_id"] for u in users],
            "messages": {"webhook": webhook}})
        assert status == 201, body
        await advance(api, 60)
        calls = await received(api, hook, 3)
        assert sorted(r.query["user"] for r in calls) == sorted(u["external_id"] for u in users)
        by_user = {r.query["user"]: r for r in calls}
        for user in users:
            call = by_user[user["external_id"]]
            assert call.method == "POST" and call.headers["X-Token"] == "t"
            assert call.json == {"greeting": f"Hi {user['first_name']}"}
        logged = await outbound(api, count=3, vendor="braze")
        assert len(logged) == 3 and all(e["status"] == 200 and e["operation"] == "messages_send" for e in logged)


async def test_campaign_data_series_adds_up_to_the_deliveries_funnel(api) -> None:
    bz = Braze(api)
    users = await known_users(api, 40)
    status, body, _ = await bz.post("/messages/send", {
        "campaign_id": API_CAMPAIGN, "external_user_ids": [u["external_id"] for u in users], "send_id": "s-9",
        "recipient_subscription_state": "all", "messages": {"email": email()}})
    assert status == 201, body
    await advance(api, 3 * DAY)
    funnel = (await deliveries(api, vendor="braze", campaign_id=API_CAMPAIGN))["funnel"]
    assert funnel["sent"] == 40 and funnel.get("opened", 0) > 0
    for path, extra in (("/campaigns/data_series", {}), ("/sends/data_series", {"send_id": "s-9"})):
        status, series, _ = await bz.get(path, campaign_id=API_CAMPAIGN, length="10", **extra)
        assert status == 200, series
        rows = [row["messages"]["email"][0] for row in series["data"]]
        total = {k: sum(r[k] for r in rows) for k in ("sent", "delivered", "opens", "clicks", "bounces",
                                                      "unsubscribes", "reported_spam")}
        assert total == {"sent": funnel["sent"], "delivered": funnel.get("delivered", 0),
                         "opens": funnel.get("opened", 0), "clicks": funnel.get("clicked", 0),
                         "bounces": funnel.get("bounced", 0), "unsubscribes": funnel.get("unsubscribed", 0),
                         "reported_spam": funnel.get("spam", 0)}


async def test_canvas_data_series_counts_entries_and_steps(api) -> None:
    bz = Braze(api)
    users = await known_users(api, 10)
    status, body, _ = await bz.post("/canvas/trigger/send", {
        "canvas_id": CANVAS, "recipients": [{"external_user_id": u["external_id"]} for u in users]})
    assert status == 201, body
    await advance(api, 2 * DAY)
    now = (await api.control("GET", "/clock", params={"tenant": "test-key"}))["now"]
    status, series, _ = await bz.get("/canvas/data_series", canvas_id=CANVAS, ending_at=now, length="5",
                                     include_step_breakdown="true", include_variant_breakdown="true")
    assert status == 200, series
    assert series["data"]["name"] == "Onboarding journey"
    stats = series["data"]["stats"]
    sent = (await deliveries(api, vendor="braze", campaign_id=CANVAS))["total"]
    assert sum(day["total_stats"]["entries"] for day in stats) == sent > 0
    first_step = [day["step_stats"]["d1e2f3a4-0001-4a00-8000-0000000000d1"] for day in stats]
    assert sum(s["messages"]["email"][0]["sent"] for s in first_step) == sent
    assert (await bz.get("/canvas/data_series", canvas_id=CANVAS, ending_at=now))[0] == 400


async def test_opens_become_braze_engagement_events(api) -> None:
    bz = Braze(api)
    users = await known_users(api, 40)
    ids = [u["external_id"] for u in users]
    await bz.post("/messages/send", {"campaign_id": API_CAMPAIGN, "external_user_ids": ids,
                                     "recipient_subscription_state": "all", "messages": {"email": email()}})
    await advance(api, 3 * DAY)
    opened = (await deliveries(api, vendor="braze", status="opened"))["deliveries"]
    assert opened
    profile = await api.control("GET", f"/profiles/{opened[0]['user']}", params={"tenant": "test-key"})
    names = [e["name"] for e in profile.get("events", [])]
    assert "users.messages.email.Open" in names
