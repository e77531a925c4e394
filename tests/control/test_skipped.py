"""``GET /_sandbox/deliveries/skipped``: filters, reset per tenant, bounds (per run, count, bytes) and
``--data-dir`` snapshots (the deliveries log's state carries them)."""

from __future__ import annotations

import pickle
from typing import Any

import pytest
from support.http import DEFAULT_SETTINGS, Api, clevertap_headers
from support.skipped import pick, population, reasons_by_user, skipped

from sandbox.app import collect_state, create_app, restore_state
from sandbox.records.deliveries import REASONS, SKIPPED_PER_RUN, SkippedLog
from sandbox.settings import Settings


async def push(api: Any, account: str, *identities: str) -> None:
    status, body, _ = await api.call("POST", "/1/send/push.json", headers=clevertap_headers(account), json={
        "to": {"Identity": list(identities)}, "content": {"title": "t", "body": "b"}})
    assert status == 200, body


async def test_reset_drops_one_tenants_skipped_users(api) -> None:
    users = pick(await population(api), "push")
    await push(api, "A", users["unsubscribed"])
    await push(api, "B", users["unsubscribed"], users["no_channel"])
    assert (await skipped(api, tenant="A"))["counts"] == {"unsubscribed": 1}
    await api.control("POST", "/reset", params={"tenant": "A"})
    assert (await skipped(api, tenant="A"))["skipped"] == []
    assert (await skipped(api))["counts"] == {"unsubscribed": 1, "no_channel": 1}
    await api.control("POST", "/reset")
    assert (await skipped(api))["total"] == 0


async def test_filters_limit_and_the_reason_vocabulary(api) -> None:
    users = pick(await population(api), "push")
    await push(api, "A", users["unsubscribed"], users["no_channel"])
    answer = await skipped(api, limit=1)
    assert len(answer["skipped"]) == 1 and answer["total"] == 2 and answer["reasons"] == REASONS
    assert reasons_by_user(await skipped(api, channel="push", reason="no_channel")) == {
        users["no_channel"]: "no_channel"}
    assert (await skipped(api, vendor="braze"))["total"] == 0
    assert (await skipped(api, user="nobody"))["counts"] == {}


class TestCountBound:
    @pytest.fixture
    def settings(self) -> Settings:
        return Settings(journal_limit=3, population_size=300, webhooks="off")

    async def test_oldest_are_evicted_and_counted(self, api) -> None:
        profiles = await population(api)
        unreachable = [p["identity"] for p in profiles
                       if (p["reachability"].get("push") or {}).get("state") == "unsubscribed"][:5]
        await push(api, "A", *unreachable)
        answer = await skipped(api)
        assert [s["user"] for s in answer["skipped"]] == unreachable[2:] and answer["evicted"] == 2
        health = (await api.control("GET", "/health"))["skipped"]
        assert {k: health[k] for k in ("size", "limit", "evicted")} == {"size": 3, "limit": 3, "evicted": 2}
        assert 0 < health["bytes"] <= health["max_bytes"]


async def test_a_run_names_at_most_its_cap_and_counts_the_rest(aiohttp_client: Any) -> None:
    api = Api(await aiohttp_client(create_app(Settings(population_size=1200, webhooks="off"))))
    status, created, _ = await api.call("POST", "/1/targets/create.json", headers=clevertap_headers("A"), json={
        "name": "Late", "target_mode": "push", "where": {}, "devices": ["ios"], "when": "now",
        "content": {"title": "t", "body": "b"}, "ttl": {"ttl_type": "absolute", "value": 202001010000}})
    assert status == 200, created
    answer = await skipped(api, campaign_id=created["id"])
    named = [s for s in answer["skipped"] if s["user"] is not None]
    more = [s for s in answer["skipped"] if s["user"] is None]
    assert len(named) == SKIPPED_PER_RUN and more and all(s["count"] > 1 for s in more)
    assert sum(answer["counts"].values()) == 1200  # every user: unreachable on iOS push, or expired
    assert answer["counts"]["expired"] == created["estimates"]["ios"]


def test_the_log_is_bounded_by_bytes() -> None:
    log = SkippedLog(limit=1000, max_bytes=2000)
    for n in range(20):
        log.record(tenant="t", vendor="v", campaign_id="c", user=f"user-{n}", channel="push", platform=None,
                   reason="dnd", detail="x" * 100, time="", known=True)
    assert log.bytes <= 2000 and log.evicted == 20 - len(log) and len(log) < 20
    with pytest.raises(ValueError, match="unknown skip reason"):
        log.record(tenant="t", vendor="v", campaign_id="c", user="u", channel="push", platform=None,
                   reason="bored", detail=None, time="", known=True)


async def test_snapshots_keep_them(aiohttp_client: Any) -> None:
    first = await aiohttp_client(create_app(DEFAULT_SETTINGS))
    api = Api(first)
    users = pick(await population(api), "push")
    await push(api, "A", users["unsubscribed"])
    before = await skipped(api)
    saved = pickle.loads(pickle.dumps(collect_state(first.app)))
    second = await aiohttp_client(create_app(DEFAULT_SETTINGS))
    assert (await skipped(Api(second)))["total"] == 0
    restore_state(second.app, saved)
    assert await skipped(Api(second)) == before
