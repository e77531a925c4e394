"""Tenants own their state: two CI jobs sharing one sandbox (two credentials) never see each other's clock,
campaigns, resets or ids, and a tenant's ids do not depend on what other tenants did first."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer
from support.braze import MESSAGE_OBJECTS
from support.http import DEFAULT_SETTINGS, Api

from sandbox.app import create_app


def ct_headers(account: str) -> dict[str, str]:
    return {"X-CleverTap-Account-Id": account, "X-CleverTap-Passcode": "P", "Content-Type": "application/json"}


def bz_headers(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}


def later(hours: int) -> str:
    return (datetime.now(UTC) + timedelta(hours=hours)).strftime("%Y%m%d %H:%M")


async def schedule_clevertap(api: Api, account: str) -> int:
    status, body, _ = await api.call("POST", "/1/targets/create.json", headers=ct_headers(account), json={
        "name": "later", "target_mode": "push", "where": {}, "devices": ["ios"],
        "content": {"title": "t", "body": "b"}, "when": later(2), "skip_estimate": True})
    assert status == 200, body
    return int(body["id"])


async def result(api: Api, account: str, campaign_id: int) -> tuple[int, Any]:
    status, body, _ = await api.call("POST", "/1/targets/result.json", headers=ct_headers(account),
                                     json={"id": campaign_id})
    return status, body


async def test_moving_one_tenants_clock_runs_only_its_own_campaigns(api: Api) -> None:
    a_id = await schedule_clevertap(api, "A")
    b_id = await schedule_clevertap(api, "B")
    moved = await api.control("POST", "/clock", params={"tenant": "A"}, json={"advance_seconds": 3 * 3600})
    assert moved["tenant"] == "A" and moved["offset_seconds"] == pytest.approx(3 * 3600)
    assert (await result(api, "A", a_id))[0] == 200
    status, body = await result(api, "B", b_id)
    assert status != 200 and "status" in body  # B's campaign is still pending: its clock did not move
    assert (await api.control("GET", "/deliveries", params={"tenant": "B"}))["deliveries"] == []
    assert (await api.control("GET", "/deliveries", params={"tenant": "A"}))["deliveries"] != []
    clock_b = await api.control("GET", "/clock", params={"tenant": "B"})
    clock_a = await api.control("GET", "/clock", params={"tenant": "A"})
    assert clock_b["offset_seconds"] == 0 and clock_a["now"] > clock_b["now"]
    # Without a tenant every tenant moves: now B's campaign runs too.
    await api.control("POST", "/clock", json={"advance_seconds": 3 * 3600})
    assert (await result(api, "B", b_id))[0] == 200


async def test_reset_of_one_tenant_leaves_the_other_untouched(api: Api) -> None:
    await schedule_clevertap(api, "A")
    b_id = await schedule_clevertap(api, "B")
    await api.control("POST", "/clock", params={"tenant": "B"}, json={"advance_seconds": 60})
    await api.control("POST", "/reset", params={"tenant": "A"})
    for account, expected in (("A", 0), ("B", 1)):
        status, body, _ = await api.call("POST", "/1/targets/list.json", headers=ct_headers(account),
                                         json={"from": 20000101, "to": 29991231})
        assert status == 200 and len(body["targets"]) == expected, (account, body)
    assert (await api.control("GET", "/clock", params={"tenant": "B"}))["offset_seconds"] == pytest.approx(60)
    status, body = await result(api, "B", b_id)
    assert status != 200  # still pending, not run or dropped by A's reset


async def ids_of_one_tenant(api: Api, tenant: str) -> dict[str, Any]:
    """What a test sees as ids: CleverTap campaign ids, Braze dispatch/send ids, Netcore campaign ids."""
    ids: dict[str, Any] = {}
    ids["clevertap"] = [await schedule_clevertap(api, tenant) for _ in range(2)]
    status, body, _ = await api.call("POST", "/messages/send", headers=bz_headers(tenant), json={
        "broadcast": False, "external_user_ids": ["nobody"], "messages": {"email": MESSAGE_OBJECTS["email"]}})
    assert status == 201, body
    ids["braze_dispatch"] = body["dispatch_id"]
    status, body, _ = await api.call("POST", "/sends/id/create", headers=bz_headers(tenant),
                                     json={"campaign_id": "4f1a3b2c-9d8e-4f7a-b6c5-1d2e3f4a5b6c"})
    assert status == 201, body
    ids["braze_send"] = body["send_id"]
    status, body, _ = await api.call("POST", "/campaign/create", headers={"Authorization": tenant}, json={
        "type": "apn", "app_ids": ["app-1"], "name": "Offer", "template_id": 2})
    assert status == 200, body
    ids["netcore"] = body["campaign_id"]
    return ids


async def test_a_tenants_ids_do_not_depend_on_other_tenants() -> None:
    async def run(noise_first: bool) -> dict[str, Any]:
        async with TestClient(TestServer(create_app(DEFAULT_SETTINGS))) as client:
            api = Api(client)
            if noise_first:
                await ids_of_one_tenant(api, "OTHER-JOB")
                await ids_of_one_tenant(api, "OTHER-JOB")
            return await ids_of_one_tenant(api, "MY-JOB")

    quiet, noisy = await run(False), await run(True)
    assert quiet == noisy
    assert len(set(quiet["clevertap"])) == 2


async def test_reset_of_a_tenant_starts_its_ids_again(api: Api) -> None:
    first = await ids_of_one_tenant(api, "J")
    await ids_of_one_tenant(api, "K")
    await api.control("POST", "/reset", params={"tenant": "J"})
    assert await ids_of_one_tenant(api, "J") == first


@pytest.mark.parametrize("body", [
    {"advance_seconds": 1e300}, {"advance_seconds": float("1e20")}, {"advance_seconds": -1},
    {"advance_seconds": "10"}, {"now": "9999-12-31T23:00:00Z"}, {"now": 5}, {"now": "tomorrow"},
    {"now": "2020-01-01T00:00:00Z"}, {"now": "2030-01-01T00:00:00"},
])
async def test_a_bad_clock_move_is_refused_and_changes_nothing(api: Api, body: dict[str, Any]) -> None:
    before = await api.control("GET", "/clock")
    status, answer, _ = await api.call("POST", "/_sandbox/clock", json=body)
    assert status == 400 and answer["error"]["message"], answer
    after = await api.control("GET", "/clock")
    assert after["offset_seconds"] == before["offset_seconds"]
    # Everything still answers.
    assert (await result(api, "A", 1))[0] in (200, 400)
    await api.requests()
    status, _, _ = await api.call("POST", "/_sandbox/clock", json={"advance_seconds": 7200})
    assert status == 200
