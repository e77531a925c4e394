"""Workspace reads (spec §10): lists, details and data series (counted from the simulated deliveries)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from support.braze import (
    API_CAMPAIGN,
    CANVAS,
    SEGMENT_ALL,
    SEGMENT_VIP,
    TRIGGERED,
    VARIATION,
    Braze,
    fail,
)

SHARED = pytest.mark.asyncio(loop_scope="module")


@SHARED
async def test_campaigns_list_pages_sorts_and_hides_archived(shared_bz: Braze) -> None:
    status, body, headers = await shared_bz.get("/campaigns/list")
    assert status == 200 and list(body) == ["campaigns", "message"]
    names = [c["name"] for c in body["campaigns"]]
    assert names == ["Order updates (API campaign)", "Welcome (API-triggered)", "Password reset (transactional)",
                     "Receipts (transactional, paused)", "Spring sale (paused)"]
    assert body["campaigns"][0] == {"id": API_CAMPAIGN, "last_edited": "2026-02-01T10:00:00+00:00",
                                    "name": "Order updates (API campaign)", "is_api_campaign": True,
                                    "tags": ["transactional"]}
    assert headers["Cache-Control"] == "max-age=0, private, must-revalidate"
    _, body, _ = await shared_bz.get("/campaigns/list", include_archived="true", sort_direction="desc")
    assert body["campaigns"][-1]["name"] == "Old promo (archived)"
    _, body, _ = await shared_bz.get("/campaigns/list", page="1")
    assert body == {"campaigns": [], "message": "success"}
    _, body, _ = await shared_bz.get("/campaigns/list", **{"last_edit.time[gt]": "2026-02-15T00:00:00Z"})
    assert [c["id"] for c in body["campaigns"]] == [TRIGGERED, "9a8b7c6d-0003-4e00-8000-000000000003"]


@SHARED
async def test_canvas_and_segment_lists(shared_bz: Braze) -> None:
    _, body, _ = await shared_bz.get("/canvas/list")
    assert body["canvases"][0] == {"id": CANVAS, "name": "Onboarding journey", "tags": ["onboarding"],
                                   "last_edited": "2026-03-05T10:00:00+00:00"}
    assert list(body["canvases"][0]) == ["id", "name", "tags", "last_edited"]
    assert len(body["canvases"]) == 2
    status, body, _ = await shared_bz.get("/segments/list")
    assert (status, body) == (200, {"segments": [
        {"id": SEGMENT_ALL, "name": "All users", "analytics_tracking_enabled": True, "tags": []},
        {"id": SEGMENT_VIP, "name": "VIP customers", "analytics_tracking_enabled": False, "tags": ["vip"]}],
        "message": "success"})


@SHARED
@pytest.mark.parametrize(("path", "query", "expected"), [
    ("/campaigns/details", {"campaign_id": "nope"}, "campaign_id must be a string of the campaign api identifier"),
    ("/campaigns/details", {}, "campaign_id must be a string of the campaign api identifier"),
    ("/canvas/details", {"canvas_id": "non-existing"}, "canvas_id must be a string of the Canvas api identifier"),
    ("/segments/details", {"segment_id": "nope"}, "segment_id must be a string of the segment api identifier"),
    ("/campaigns/data_series", {"campaign_id": API_CAMPAIGN}, "length is missing"),
    ("/campaigns/data_series", {"campaign_id": API_CAMPAIGN, "length": "101"}, "length does not have a valid value"),
    ("/campaigns/data_series", {"campaign_id": "nope", "length": "1"},
     "campaign_id must be a string of the campaign api identifier"),
    ("/campaigns/data_series", {"campaign_id": API_CAMPAIGN, "length": "1", "ending_at": "someday"},
     "ending_at does not have a valid value"),
    ("/sends/data_series", {"campaign_id": API_CAMPAIGN, "length": "1"}, "send_id is missing"),
    ("/canvas/data_series", {"canvas_id": CANVAS, "length": "1"}, "ending_at is missing"),
    ("/canvas/data_series", {"canvas_id": "nope", "length": "1", "ending_at": "2026-01-20T00:00:00Z"},
     "canvas_id must be a string of the Canvas api identifier"),
    ("/canvas/data_series", {"canvas_id": CANVAS, "starting_at": "2026-01-01T00:00:00Z",
                             "ending_at": "2026-01-20T00:00:00Z"}, "starting_at does not have a valid value"),
    ("/canvas/data_series", {"canvas_id": CANVAS, "ending_at": "2026-01-20T00:00:00Z"}, "body is invalid"),
    ("/campaigns/list", {"page": "-1"}, "page does not have a valid value"),
    ("/campaigns/list", {"sort_direction": "up"}, "sort_direction does not have a valid value"),
])
async def test_read_errors(shared_bz: Braze, path: str, query: dict, expected: str) -> None:
    status, body, _ = await shared_bz.get(path, **query)
    assert (status, body) == (400, fail(expected))


@SHARED
async def test_campaign_canvas_and_segment_details(shared_bz: Braze) -> None:
    status, body, _ = await shared_bz.get("/campaigns/details", campaign_id=API_CAMPAIGN)
    assert status == 200 and list(body)[-1] == "message"
    assert (body["name"], body["archived"], body["enabled"], body["draft"]) == (
        "Order updates (API campaign)", False, True, False)
    assert body["channels"] == sorted(["ios_push", "android_push", "kindle_push", "web_push", "email", "sms",
                                       "webhook", "content_cards", "whats_app"])
    assert body["messages"][VARIATION["apple_push"]] == {"channel": "ios_push", "name": "iOS"}
    _, body, _ = await shared_bz.get("/canvas/details", canvas_id=CANVAS)
    assert [s["name"] for s in body["steps"]] == ["Welcome", "Follow-up"]
    assert body["variants"][0]["first_step_ids"] == ["d1e2f3a4-0001-4a00-8000-0000000000d1"]
    status, body, _ = await shared_bz.get("/segments/details", segment_id=SEGMENT_VIP)
    assert (status, body) == (200, {"created_at": "2026-01-02T00:00:00+00:00",
                                    "updated_at": "2026-02-02T00:00:00+00:00", "name": "VIP customers",
                                    "description": "Custom attribute vip is true", "text_description": "vip is true",
                                    "tags": ["vip"], "teams": [], "message": "success"})


async def test_data_series_count_deliveries(bz: Braze) -> None:
    variation = VARIATION["apple_push"]
    for users in (["a", "b"], ["a"]):
        await bz.post("/messages/send", {"campaign_id": API_CAMPAIGN, "external_user_ids": users, "send_id": "s-1",
                                         "messages": {"apple_push": {"alert": "x", "message_variation_id": variation}}})
    today = datetime.now(UTC).date().isoformat()
    status, body, _ = await bz.get("/campaigns/data_series", campaign_id=API_CAMPAIGN, length="2")
    assert status == 200 and [day["time"] for day in body["data"]][-1] == today
    last = body["data"][-1]
    assert last["unique_recipients"] == 2
    [stats] = last["messages"]["ios_push"]
    assert (stats["variation_name"], stats["variation_api_id"], stats["sent"], stats["unique_recipients"]) == (
        "iOS", variation, 3, 2)
    assert body["data"][0]["messages"]["ios_push"][0]["sent"] == 0
    _, body, _ = await bz.get("/sends/data_series", campaign_id=API_CAMPAIGN, send_id="s-1", length="1")
    assert body["data"][0]["messages"]["ios_push"][0]["sent"] == 3
    _, body, _ = await bz.get("/sends/data_series", campaign_id=API_CAMPAIGN, send_id="other", length="1")
    assert body["data"][0]["messages"]["ios_push"][0]["sent"] == 0
    _, body, _ = await bz.get("/campaigns/details", campaign_id=API_CAMPAIGN)
    assert body["first_sent"] is not None and body["first_sent"] <= body["last_sent"]
