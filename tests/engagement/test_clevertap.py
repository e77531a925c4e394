"""CleverTap after the send: the lifecycle on the clock, Notification Viewed/Clicked events a segment can
select, the campaign report's funnel, and webhook campaigns called for real."""

from __future__ import annotations

from support.clevertap import CREATE, EMAIL, post
from support.engagement import DAY, advance, deliveries, outbound, received, receiver


async def test_lifecycle_moves_with_the_clock_and_the_report_shows_the_same_funnel(api) -> None:
    campaign_id = (await post(api, CREATE, EMAIL))["id"]
    before = await deliveries(api, campaign_id=campaign_id)
    assert before["total"] > 0 and {d["status"] for d in before["deliveries"]} == {"sent"}
    assert before["funnel"] == {"sent": before["total"]}
    await advance(api, 3 * DAY)
    after = await deliveries(api, campaign_id=campaign_id)
    funnel = after["funnel"]
    assert funnel["sent"] >= funnel["delivered"] >= funnel["opened"] >= funnel["clicked"] > 0
    assert funnel["delivered"] + funnel.get("bounced", 0) == funnel["sent"]
    for delivery in after["deliveries"]:
        steps = [h["status"] for h in delivery["history"]]
        assert steps[0] == "sent" and delivery["status"] == steps[-1]
        assert [h["at"] for h in delivery["history"]] == sorted(h["at"] for h in delivery["history"])
    result = (await post(api, "/1/targets/result.json", {"id": campaign_id}))["result"]
    assert result["funnel"] == funnel
    assert (result["sent"], result["delivered"], result["clicked"]) == (
        funnel["sent"], funnel["delivered"], funnel["clicked"])
    clicked = await deliveries(api, campaign_id=campaign_id, status="clicked")
    assert clicked["total"] == funnel["clicked"]


async def test_clicks_become_events_a_segment_selects(api) -> None:
    campaign_id = (await post(api, CREATE, EMAIL))["id"]
    await advance(api, 3 * DAY)
    clicked = {d["user"] for d in (await deliveries(api, campaign_id=campaign_id, status="clicked"))["deliveries"]}
    assert clicked
    where = {"event_name": "Notification Clicked", "from": 20000101, "to": 29991231,
             "event_properties": [{"name": "Campaign id", "operator": "equals", "value": campaign_id}]}
    answer = await api.control("POST", "/audience/estimate", json={"vendor": "clevertap", "audience": where,
                                                                  "tenant": "ACCOUNT_ID"})
    assert answer["matched"] == len(clicked)
    assert set(answer["sample"]) <= clicked


async def test_webhook_campaign_calls_the_named_endpoint(api) -> None:
    with receiver() as hook:
        await api.control("POST", "/vendors/clevertap/webhooks", params={"tenant": "ACCOUNT_ID"},
                          json={"name": "crm", "url": hook.url + "/ct", "headers": {"X-Secret": "s3"}})
        body = {"name": "To CRM", "target_mode": "webhook", "webhook_endpoint_name": "crm",
                "webhook_fields": ["identities", "tokens"], "webhook_key_value": {"offer": "10%"},
                "where": {"common_profile_properties": {"profile_fields": [
                    {"name": "Customer Type", "operator": "equals", "value": "Platinum"}]}},
                "content": {}, "when": "20300101 10:00"}
        campaign_id = (await post(api, CREATE, body))["id"]
        assert await outbound(api, wait=0) == []
        await advance(api, 10 * 365 * DAY)
        [call] = await outbound(api, vendor="clevertap")
        assert call["status"] == 200 and call["attempt"] == 1 and call["url"] == hook.url + "/ct"
        [got] = await received(api, hook)
        assert got.method == "POST" and got.path == "/ct" and got.headers["X-Secret"] == "s3"
        payload = got.json
        assert payload["targetId"] == campaign_id and payload["key_values"] == {"offer": "10%"}
        sent = (await deliveries(api, campaign_id=campaign_id))["deliveries"]
        assert [p["Identity"] for p in payload["profiles"]] == [d["user"] for d in sent]
        assert all("objectId" in p for p in payload["profiles"])


async def test_an_unknown_endpoint_name_is_not_called(api) -> None:
    body = {"name": "Nowhere", "target_mode": "webhook", "webhook_endpoint_name": "missing", "where": {},
            "content": {}, "when": "now"}
    await post(api, CREATE, body)
    [entry] = await outbound(api, wait=0)
    assert entry["attempt"] == 0 and entry["status"] == 0 and "no webhook endpoint named 'missing'" in entry["error"]
