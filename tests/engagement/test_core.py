"""The core of engagement and outbound calls: same seed -> same funnel, rates from the profile, retries with
backoff, an unreachable or failing receiver changing nothing else, ``--webhooks off``, reset per tenant."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

import pytest
from support.clevertap import CREATE, EMAIL, post
from support.engagement import DAY, advance, deliveries, outbound, received, receiver
from support.http import CLEVERTAP_HEADERS, DEFAULT_SETTINGS, Api, clevertap_headers

from sandbox.app import create_app
from sandbox.settings import Settings

ON = dataclasses.replace(DEFAULT_SETTINGS, webhooks="on")


async def run_campaign(api: Any) -> list[tuple[str | None, str, list[str]]]:
    created = await post(api, CREATE, EMAIL)
    await advance(api, 2 * DAY)
    found = await deliveries(api, campaign_id=created["id"])
    return [(d["user"], d["status"], [h["status"] for h in d["history"]]) for d in found["deliveries"]]


async def test_two_runs_with_the_same_seed_give_the_same_funnel(aiohttp_client) -> None:
    first = await run_campaign(Api(await aiohttp_client(create_app(ON))))
    second = await run_campaign(Api(await aiohttp_client(create_app(ON))))
    assert first == second and len({s for _, s, _ in first}) > 2
    other = await run_campaign(Api(await aiohttp_client(create_app(dataclasses.replace(ON, seed=7)))))
    assert other != first


async def test_rates_come_from_the_population_profile(aiohttp_client, tmp_path: Path) -> None:
    profile = tmp_path / "profile.json"
    profile.write_text(json.dumps({"engagement": {"channels": {"email": {"failure": "bounced", "steps": [
        {"status": "delivered", "rate": 1.0, "within": 10}, {"status": "opened", "rate": 1.0, "within": 10}]}}}}))
    api = Api(await aiohttp_client(create_app(dataclasses.replace(ON, population=profile))))
    outcome = await run_campaign(api)
    assert outcome and {status for _, status, _ in outcome} <= {"opened", "bounced"}
    assert any(status == "opened" for _, status, _ in outcome)


async def test_a_bad_engagement_section_stops_startup(aiohttp_client, tmp_path: Path) -> None:
    profile = tmp_path / "profile.json"
    profile.write_text(json.dumps({"engagement": {"channels": {"email": {"steps": [{"status": "x", "rate": 2}]}}}}))
    with pytest.raises(ValueError, match=r"\$\.engagement\.channels\.email\.steps\[0\]\.rate"):
        await aiohttp_client(create_app(dataclasses.replace(ON, population=profile)))


async def ct_webhook(api: Any, url: str, tenant: str = "ACCOUNT_ID") -> int:
    await api.control("POST", "/vendors/clevertap/webhooks", params={"tenant": tenant},
                      json={"name": "hook", "url": url})
    body = {"name": "W", "target_mode": "webhook", "webhook_endpoint_name": "hook", "where": {}, "content": {},
            "when": "now", "estimate_only": False}
    status, created, _ = await api.call("POST", "/1/targets/create.json", json=body,
                                        headers=clevertap_headers(tenant))
    assert status == 200, created
    return created["id"]


async def test_a_failing_receiver_is_retried_with_backoff(aiohttp_client) -> None:
    api = Api(await aiohttp_client(create_app(ON)))
    with receiver() as hook:
        hook.respond_with(500, 503)
        await ct_webhook(api, hook.url)
        attempts = await outbound(api, count=3)
        assert [(a["attempt"], a["status"]) for a in attempts] == [(1, 500), (2, 503), (3, 200)]
        assert len(await received(api, hook, 3)) == 3
        assert await outbound(api, status="500") == attempts[:1]


async def test_an_unreachable_receiver_changes_nothing_else(aiohttp_client) -> None:
    api = Api(await aiohttp_client(create_app(ON)))
    with receiver() as hook:
        dead = hook.url
    campaign = await ct_webhook(api, dead)
    status, answer, _ = await api.call("POST", "/1/targets/result.json", json={"id": campaign},
                                       headers=CLEVERTAP_HEADERS)
    assert status == 200 and answer["result"]["sent"] > 0
    attempts = await outbound(api, count=4, wait=10)
    assert [a["attempt"] for a in attempts] == [1, 2, 3, 4]
    assert all(a["status"] == 0 and a["error"] for a in attempts)
    requests = await api.requests()
    assert [r["status"] for r in requests] == [200, 200]


async def test_webhooks_off_calls_nothing(aiohttp_client) -> None:
    api = Api(await aiohttp_client(create_app(dataclasses.replace(DEFAULT_SETTINGS, webhooks="off"))))
    with receiver() as hook:
        await ct_webhook(api, hook.url)
        [entry] = await outbound(api, wait=0)
        assert entry["attempt"] == 0 and "--webhooks off" in entry["error"]
        assert hook.requests == []


def test_the_switch_takes_on_or_off_only() -> None:
    assert Settings.from_sources({}, {"SANDBOX_WEBHOOKS": "off"}).webhooks == "off"
    with pytest.raises(ValueError, match="must be on or off"):
        create_app(dataclasses.replace(DEFAULT_SETTINGS, webhooks="sometimes"))


async def test_reset_forgets_one_tenants_outbound_calls(aiohttp_client) -> None:
    api = Api(await aiohttp_client(create_app(ON)))
    with receiver() as hook:
        await ct_webhook(api, hook.url, tenant="A")
        await ct_webhook(api, hook.url, tenant="B")
        await outbound(api, count=2)
    await api.control("POST", "/reset", params={"tenant": "A"})
    assert [e["tenant"] for e in await outbound(api, wait=0)] == ["B"]


async def test_a_recipient_the_population_does_not_know_fails(aiohttp_client) -> None:
    api = Api(await aiohttp_client(create_app(ON)))
    body = {"to": {"Identity": ["nobody-here"]}, "content": {"subject": "s", "body": "b", "sender_name": "x"}}
    status, answer, _ = await api.call("POST", "/1/send/email.json", json=body, headers=CLEVERTAP_HEADERS)
    assert status == 200, answer
    await advance(api, DAY)
    [delivery] = (await deliveries(api, user="nobody-here"))["deliveries"]
    assert delivery["known"] is False and [h["status"] for h in delivery["history"]] == ["sent", "failed"]
