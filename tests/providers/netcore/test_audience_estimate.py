"""Netcore audiences on the shared population: ``POST /_sandbox/audience/estimate`` with each generation's
audience JSON, rule segments, and contacts/events uploaded through Netcore's APIs landing in the population."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from support.netcore import email_campaign

from sandbox.core.resources import data_path


async def estimate(nc, audience, channel: str | None = None, tenant: str = "API_KEY") -> dict:
    body = {"vendor": "netcore", "audience": audience, "tenant": tenant}
    if channel is not None:
        body["channel"] = channel
    status, answer, _ = await nc.api.call("POST", "/_sandbox/audience/estimate", json=body)
    assert status == 200, answer
    return answer


async def test_list_reach_per_channel(nc) -> None:
    push = await estimate(nc, {"include_list": {"list_ids": ["151"]}}, "push")
    assert (push["matched"], push["estimates"]) == (4, {"android": 2, "ios": 1})  # Noor has no app device
    assert push["sample"] == ["00000132", "00000133", "00000134", "noid@shop.example"]
    email = await estimate(nc, {"include_list": {"list_ids": [151]}, "exclude_list": {"list_ids": [153]}}, "email")
    assert (email["matched"], email["estimates"]) == (3, {"email": 3})


@pytest.mark.parametrize(("audience", "expected"), [
    ({"data_source": "segment", "segment_id": 41, "type": "apn"}, {"android": 2, "ios": 0}),
    ({"data_source": "list", "list_id": "151", "channel": "email"}, {"email": 4}),
    ({"list_ids": [151], "suppression_segment_ids": [40], "channel": "apn"}, {"android": 2, "ios": 0}),
])
async def test_every_generation_audience_shape_and_channel_inside_it(nc, audience, expected) -> None:
    assert (await estimate(nc, audience))["estimates"] == expected


@pytest.mark.parametrize(("audience", "message"), [
    ({"include_list": {"list_ids": ["999"]}}, "List not found"),
    ({"data_source": "segment", "segment_id": 12345}, "Segment not found"),
    ({"data_source": "everyone"}, "netcore audience: data_source must be list or segment"),
    ({"list_ids": [151], "channel": "sms"}, "netcore audience: unknown channel 'sms': use apn or email"),
    ([151], "netcore audience: expected an object: v4 audience_details, v3 contact_details or gen-1 data_source"),
])
async def test_audiences_netcore_would_reject(nc, audience, message) -> None:
    status, body, _ = await nc.api.call("POST", "/_sandbox/audience/estimate",
                                        json={"vendor": "netcore", "audience": audience, "channel": "email"})
    assert status == 400 and body["error"]["message"] == message


async def test_a_rule_segment_reaches_what_the_estimate_says(nc) -> None:
    reach = await estimate(nc, {"include_list": {"seg_ids": ["9"]}}, "email")
    assert reach["estimates"]["email"] > 0
    entry = email_campaign("Buyers", campaign_state="active", audience_details={"include_list": {"seg_ids": ["9"]}})
    assert (await nc.v4("create", {"campaign_details": [entry]}))[0] == 200
    deliveries = await nc.deliveries()
    assert len(deliveries) == reach["estimates"]["email"]
    first = deliveries[0]
    profile = await nc.api.control("GET", f"/profiles/{first['user']}")
    assert first["content"]["subject"] == f"Hello {profile['first_name']}"  # merge tags read the population


async def test_uploaded_events_and_contacts_feed_rule_segments(nc) -> None:
    reference = json.loads((data_path("fixtures") / "population" / "default.json").read_text())["reference_date"]
    when = datetime.fromisoformat(reference.replace("Z", "+00:00")) - timedelta(days=3)
    before = (await estimate(nc, {"include_list": {"seg_ids": ["9"]}}, "email"))["estimates"]["email"]
    event = {"activity_name": "Charged", "asset_id": "web-1", "identity": "new@shop.example",
             "timestamp": when.astimezone(UTC).isoformat(), "activity_params": {"amount": 10}}
    status, _, _ = await nc.api.call("POST", "/v1/activity/upload", json=[event],
                                     headers={"Authorization": "Bearer API_KEY"})
    assert status == 200
    after = await estimate(nc, {"include_list": {"seg_ids": ["9"]}}, "email")
    assert after["estimates"]["email"] == before + 1
    await nc.contact("update", json.dumps({"EMAIL": "new@shop.example", "FIRST_NAME": "Nia"}))
    entry = email_campaign("Buyers", campaign_state="active", audience_details={"include_list": {"seg_ids": [9]}})
    await nc.v4("create", {"campaign_details": [entry]})
    mine = [d for d in await nc.deliveries() if d["user"] == "new@shop.example"]
    assert [d["content"]["subject"] for d in mine] == ["Hello Nia"]


async def test_a_tenant_reset_removes_its_contacts_from_the_population(nc) -> None:
    await nc.contact("addsync", json.dumps({"EMAIL": "gone@shop.example", "CUSTOMER_ID": "G-1"}), listid="160")
    mine = {"tenant": "API_KEY"}
    assert (await nc.api.control("GET", "/profiles/G-1", params=mine))["email"] == "gone@shop.example"
    await nc.api.control("POST", "/reset", params=mine)
    status, _, _ = await nc.api.call("GET", "/_sandbox/profiles/G-1", params=mine)
    assert status == 404
    assert (await estimate(nc, {"include_list": {"list_ids": [160]}}, "email"))["matched"] == 0


async def test_a_contact_removed_by_another_tenants_reset_is_written_back(nc) -> None:
    await estimate(nc, {"include_list": {"list_ids": [151]}}, "email", tenant="A")
    await estimate(nc, {"include_list": {"list_ids": [151]}}, "email", tenant="B")
    await nc.api.control("POST", "/reset", params={"tenant": "A"})
    assert (await estimate(nc, {"include_list": {"list_ids": [151]}}, "email", tenant="B"))["matched"] == 4
