"""The journal keeps at most ``journal_limit`` entries and counts what it evicted."""

from __future__ import annotations

import pytest
from support.http import CLEVERTAP_HEADERS

from sandbox.settings import Settings


@pytest.fixture
def settings() -> Settings:
    return Settings(journal_limit=5, population_size=300)


async def test_oldest_entries_are_evicted_and_counted(api) -> None:
    for n in range(8):
        await api.call("POST", "/1/send/sms.json", json={"to": {"Identity": [str(n)]}, "content": {"body": "b"}},
                       headers=CLEVERTAP_HEADERS)
    entries = await api.requests()
    assert [e["body"]["to"]["Identity"][0] for e in entries] == ["3", "4", "5", "6", "7"]
    health = await api.control("GET", "/health")
    assert {k: health["journal"][k] for k in ("size", "limit", "evicted")} == {"size": 5, "limit": 5, "evicted": 3}


async def test_deliveries_are_bounded_the_same_way(api) -> None:
    for n in range(8):
        await api.call("POST", "/1/send/sms.json", json={"to": {"Identity": [f"stranger-{n}"]},
                                                          "content": {"body": "b"}}, headers=CLEVERTAP_HEADERS)
    deliveries = (await api.control("GET", "/deliveries"))["deliveries"]
    assert [d["user"] for d in deliveries] == [f"stranger-{n}" for n in range(3, 8)]
    assert all(d["known"] is False and d["content"] == {"body": "b"} for d in deliveries)
    health = await api.control("GET", "/health")
    assert {k: health["deliveries"][k] for k in ("size", "limit", "evicted")} == {"size": 5, "limit": 5, "evicted": 3}


@pytest.mark.parametrize("settings", [Settings(journal_limit=1000, journal_max_bytes=40_000, population_size=300)])
async def test_deliveries_are_bounded_by_bytes_with_a_sends_content_counted_once(api) -> None:
    big = "x" * 8_000
    users = [f"stranger-{n}" for n in range(60)]
    await api.call("POST", "/1/send/sms.json", json={"to": {"Identity": users}, "content": {"body": big}},
                   headers=CLEVERTAP_HEADERS)
    health = (await api.control("GET", "/health"))["deliveries"]
    assert health["size"] == 60 and health["evicted"] == 0  # 60 records, one copy of the 8 KB content
    assert 8_000 < health["bytes"] <= health["max_bytes"] == 40_000
    for n in range(6):  # six more sends, each its own 8 KB: more than the budget holds
        body = {"to": {"Identity": [f"late-{n}"]}, "content": {"body": str(n) * 8_000}}
        await api.call("POST", "/1/send/sms.json", json=body, headers=CLEVERTAP_HEADERS)
    health = (await api.control("GET", "/health"))["deliveries"]
    assert health["evicted"] >= 60 and health["bytes"] <= 40_000
    kept = [d["user"] for d in (await api.control("GET", "/deliveries"))["deliveries"]]
    assert kept == [f"late-{n}" for n in range(6 - len(kept), 6)] and len(kept) >= 3
