"""Activity upload (spec §6.3): arrays of 1-1000 events; unknown users become contacts."""

from __future__ import annotations

import pytest

HEADERS = {"Authorization": "Bearer API_KEY", "Content-Type": "application/json"}
ACCEPTED = {"status": "success", "message": "Activities uploaded successfully"}


def event(**extra) -> dict:
    return {"activity_name": "Page Browse", "asset_id": "ASSET", "timestamp": "2021-12-29T12:06:28Z",
            "activity_params": {"url": "/home"}, **extra}


async def test_up_to_1000_events(api) -> None:
    status, body, _ = await api.call("POST", "/v1/activity/upload", json=[event(identity=f"u{n}") for n in range(1000)],
                                     headers=HEADERS)
    assert (status, body) == (200, ACCEPTED)
    status, body, _ = await api.call("POST", "/v1/activity/upload", json=[event(identity="u")] * 1001, headers=HEADERS)
    assert (status, body) == (400, {"status": "error", "message": "body is invalid"})
    status, body, _ = await api.call("POST", "/v1/activity/upload", json=[], headers=HEADERS)
    assert (status, body) == (400, {"status": "error", "message": "body is invalid"})


@pytest.mark.parametrize(("bad", "message"), [
    ({"activity_name": None}, "[0].activity_name is invalid"),
    ({"timestamp": "yesterday"}, "[0].timestamp is invalid"),
    ({"activity_params": "x"}, "[0].activity_params is invalid"),
])
async def test_event_errors_name_the_field(api, bad, message) -> None:
    status, body, _ = await api.call("POST", "/v1/activity/upload", json=[event(identity="u1", **bad)],
                                     headers=HEADERS)
    assert (status, body) == (400, {"status": "error", "message": message})


async def test_timestamps_without_offset_and_both_anonymous_spellings(api) -> None:
    events = [event(anonid="a1", timestamp="2021-12-29T12:06:28"), event(annonid="a2"), event(mobile=919000000001)]
    status, body, _ = await api.call("POST", "/v1/activity/upload", json=events, headers=HEADERS)
    assert (status, body) == (200, ACCEPTED)


async def test_an_event_for_an_unknown_user_creates_the_contact(nc) -> None:
    test_send = {"test_campaign_details": [{"channel": "email", "campaign_id": 1231,
                                            "test_user_details": {"email_ids": ["new@example.com"]}}]}
    await nc.v4("test", test_send)
    status, _, _ = await nc.api.call("POST", "/v1/activity/upload",
                                     json=[event(identity="new@example.com"), event(email="new@example.com")],
                                     headers=HEADERS)
    assert status == 200
    await nc.v4("test", test_send)
    assert [d["known"] for d in await nc.deliveries()] == [False, True]
