"""Vendor rate limits: off by default, on with --rate-limits or per tenant, windows on the sandbox clock."""

from __future__ import annotations

import asyncio
import dataclasses
from typing import Any

import pytest
from support.braze import API_CAMPAIGN, GET_HEADERS, SEGMENT_ALL, TRANSACTIONAL
from support.braze import HEADERS as BRAZE
from support.http import CLEVERTAP_HEADERS, DEFAULT_SETTINGS, Api
from support.netcore import V4

from sandbox.settings import Settings

SEND = {"messages": {"apple_push": {"alert": "hello"}}, "external_user_ids": ["u1"]}
BROADCAST = {"messages": {"apple_push": {"alert": "hello"}}, "broadcast": True, "segment_id": SEGMENT_ALL}
TRACK = {"attributes": [{"external_id": "u1", "plan": "gold"}]}
PUSH = {"to": {"Identity": ["JohnDoe"]}, "content": {"title": "Hi", "body": "There"}}
RATE_HEADERS = ("X-Ratelimit-Limit", "X-Ratelimit-Remaining", "X-Ratelimit-Reset")


async def post(api: Api, path: str, body: Any = SEND) -> tuple[int, Any, Any]:
    return await api.call("POST", path, json=body, headers=BRAZE)


async def limit(api: Api, vendor: str, tenant: str | None = "test-key", **limits: Any) -> dict[str, Any]:
    params = {"tenant": tenant} if tenant else {}
    return await api.control("POST", "/limits", json={"vendor": vendor, "limits": limits}, params=params)


async def clock(api: Api) -> int:
    from datetime import datetime

    now = (await api.control("GET", "/clock"))["now"]
    return int(datetime.fromisoformat(now.replace("Z", "+00:00")).timestamp())


async def test_limits_are_off_by_default_and_listed(api: Api) -> None:
    shown = await api.control("GET", "/limits")
    assert shown["enforced_by_default"] is False and shown["overrides"] == []
    assert shown["vendors"]["braze"]["users_track"] == {"requests": 3000, "seconds": 3}
    assert shown["vendors"]["clevertap"] == {"upload": {"concurrent": 15}, "default": {"concurrent": 3}}
    assert shown["vendors"]["netcore"] == {}


async def test_braze_users_track_429_carries_only_retry_after_and_the_window_follows_the_clock(api: Api) -> None:
    await limit(api, "braze", users_track=2)
    assert [(await post(api, "/users/track", TRACK))[0] for _ in range(2)] == [201, 201]
    start = await clock(api)
    status, body, headers = await post(api, "/users/track", TRACK)
    assert (status, body) == (429, {"message": "Rate limit exceeded"})
    assert 1 <= int(headers["X-Ratelimit-Retry-After"]) <= 3
    assert not any(name in headers for name in RATE_HEADERS)
    await api.control("POST", "/clock", json={"advance_seconds": int(headers["X-Ratelimit-Retry-After"])})
    status, _, headers = await post(api, "/users/track", TRACK)
    assert status == 201 and headers["X-Ratelimit-Limit"] == "2" and headers["X-Ratelimit-Remaining"] == "1"
    assert int(headers["X-Ratelimit-Reset"]) > start
    [rejected] = await api.requests(status="429")
    assert rejected["fault"] is None  # a real limit, not an injected fault


async def test_braze_windowed_429_reports_the_window(api: Api) -> None:
    await limit(api, "braze", default=2)
    for remaining in ("1", "0"):
        status, _, headers = await post(api, "/messages/send")
        assert status == 201 and headers["X-Ratelimit-Remaining"] == remaining
    status, body, headers = await post(api, "/messages/send")
    assert (status, body) == (429, {"message": "Rate limit exceeded"})
    assert (headers["X-Ratelimit-Limit"], headers["X-Ratelimit-Remaining"]) == ("2", "0")
    reset = int(headers["X-Ratelimit-Reset"])
    assert reset % 3600 == 0 and reset > await clock(api)
    status, _, _ = await api.call("GET", "/campaigns/list", headers=GET_HEADERS)
    assert status == 429  # the default window is shared by every endpoint not listed
    assert (await post(api, "/users/track", TRACK))[0] == 201  # /users/track has its own
    await api.control("POST", "/clock", json={"advance_seconds": reset - await clock(api)})
    assert (await post(api, "/messages/send"))[0] == 201


async def test_braze_broadcast_sends_have_their_own_limit(api: Api) -> None:
    await limit(api, "braze", broadcast=1)
    assert (await post(api, "/messages/send", BROADCAST))[0] == 201
    status, _, headers = await post(api, "/messages/send", BROADCAST)
    assert status == 429 and headers["X-Ratelimit-Limit"] == "1" and int(headers["X-Ratelimit-Reset"]) % 60 == 0
    assert (await post(api, "/messages/send"))[0] == 201


async def test_braze_transactional_sends_are_never_limited(api: Api) -> None:
    await limit(api, "braze", default=0)
    assert (await post(api, "/messages/send"))[0] == 429
    for n in range(3):
        status, body, _ = await post(api, f"/transactional/v1/campaigns/{TRANSACTIONAL}/send",
                                     {"external_send_id": f"o{n}", "recipient": {"external_user_id": "u9"}})
        assert status == 201, body


async def test_limits_bind_one_tenant_and_delete_restores(api: Api) -> None:
    await limit(api, "braze", default=0)
    status, _, _ = await api.call("POST", "/messages/send", json=SEND,
                                  headers={**BRAZE, "Authorization": "Bearer another-key"})
    assert status == 201
    assert (await post(api, "/messages/send"))[0] == 429
    await api.control("DELETE", "/limits", params={"tenant": "test-key"})
    assert (await post(api, "/messages/send"))[0] == 201


async def test_counted_but_not_enforced_when_disabled(api: Api) -> None:
    await api.control("POST", "/limits", json={"vendor": "braze", "limits": {"default": 1}, "enabled": False})
    for remaining in ("0", "0"):
        status, _, headers = await post(api, "/messages/send")
        assert (status, headers["X-Ratelimit-Limit"], headers["X-Ratelimit-Remaining"]) == (201, "1", remaining)


async def test_reset_drops_the_tenants_limits(api: Api) -> None:
    await limit(api, "braze", default=0)
    await api.control("POST", "/reset", params={"tenant": "test-key"})
    assert (await post(api, "/messages/send"))[0] == 201


async def test_clevertap_caps_requests_in_flight_per_account_and_api(api: Api) -> None:
    await limit(api, "clevertap", tenant="ACCOUNT_ID", send_push=1)
    await api.control("POST", "/faults", json={"vendor": "clevertap", "operation": "send_push", "delay_ms": 60_000,
                                               "times": 1})
    slow = asyncio.create_task(api.call("POST", "/1/send/push.json", json=PUSH, headers=CLEVERTAP_HEADERS))
    while (await api.control("GET", "/faults"))["faults"][0]["hits"] == 0:  # the first holds the only slot
        await asyncio.sleep(0.01)
    status, body, _ = await api.call("POST", "/1/send/push.json", json=PUSH, headers=CLEVERTAP_HEADERS)
    assert (status, body) == (429, {"status": "fail", "error": "Too many concurrent requests", "code": 429})
    status, _, _ = await api.call("POST", "/1/send/sms.json", json={**PUSH, "content": {"body": "x"}},
                                  headers=CLEVERTAP_HEADERS)
    assert status == 200  # another API has its own cap
    slow.cancel()
    await asyncio.gather(slow, return_exceptions=True)


async def test_clevertap_answers_in_sequence_never_reach_a_concurrency_cap(api: Api) -> None:
    await limit(api, "clevertap", tenant="ACCOUNT_ID", default=1)
    for _ in range(5):
        assert (await api.call("POST", "/1/send/push.json", json=PUSH, headers=CLEVERTAP_HEADERS))[0] == 200


@pytest.mark.parametrize(("body", "message"), [
    ({"vendor": "netcore", "limits": {"default": 1}}, "netcore has no limit 'default'"),
    ({"vendor": "braze", "limits": {"users_trak": 1}}, "braze has no limit 'users_trak'"),
    ({"vendor": "braze", "limits": {"users_track": -1}}, "limit users_track must be a whole number"),
    ({"vendor": "acme", "limits": {"x": 1}}, "limits need a known vendor"),
    ({"enabled": "yes"}, "enabled must be true or false"),
    ({"limit": 1}, "expected {"),
])
async def test_bad_limit_requests_are_400s(api: Api, body: Any, message: str) -> None:
    status, answer, _ = await api.call("POST", "/_sandbox/limits", json=body)
    assert status == 400 and answer["error"]["message"].startswith(message), answer


class TestEnforcedForEveryone:
    @pytest.fixture
    def settings(self) -> Settings:
        return dataclasses.replace(DEFAULT_SETTINGS, rate_limits=True)

    async def test_documented_limits_apply_without_any_override(self, api: Api) -> None:
        assert (await api.control("GET", "/limits"))["enforced_by_default"] is True
        for _ in range(100):
            assert (await post(api, "/sends/id/create", {"campaign_id": API_CAMPAIGN}))[0] == 201
        status, body, headers = await post(api, "/sends/id/create", {"campaign_id": API_CAMPAIGN})
        assert (status, body, headers["X-Ratelimit-Limit"]) == (429, {"message": "Rate limit exceeded"}, "100")
        assert int(headers["X-Ratelimit-Reset"]) % 86_400 == 0
        metrics = (await api.call("GET", "/_sandbox/metrics"))[1]
        assert 'campaign_sandbox_rate_limited_total{limit="sends_id_create",vendor="braze"} 1.0' in metrics

    async def test_netcore_documents_no_limit_so_none_is_enforced(self, api: Api) -> None:
        for _ in range(20):
            status, _, _ = await api.call("POST", "/v4/campaign/list", json={"page_no": 1, "page_size": 10},
                                          headers=V4)
            assert status == 200

    async def test_a_tenant_can_opt_out(self, api: Api) -> None:
        await api.control("POST", "/limits", json={"vendor": "braze", "limits": {"default": 0}, "enabled": False},
                          params={"tenant": "test-key"})
        assert (await post(api, "/messages/send"))[0] == 201


def test_the_rate_limits_switch() -> None:
    import argparse

    from sandbox.settings import add_arguments

    parser = argparse.ArgumentParser()
    add_arguments(parser)
    assert Settings.from_sources(vars(parser.parse_args(["--rate-limits"]))).rate_limits is True
    assert Settings.from_sources(vars(parser.parse_args([])), environ={}).rate_limits is False
    assert Settings.from_sources({}, environ={"SANDBOX_RATE_LIMITS": "1"}).rate_limits is True
    assert Settings.from_sources({}, environ={"SANDBOX_RATE_LIMITS": "off"}).rate_limits is False
    with pytest.raises(ValueError, match="SANDBOX_RATE_LIMITS"):
        Settings.from_sources({}, environ={"SANDBOX_RATE_LIMITS": "maybe"})
