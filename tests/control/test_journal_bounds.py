"""The journal keeps at most ``journal_limit`` entries and counts what it evicted."""

from __future__ import annotations

import pickle

import orjson
import pytest
from support.http import CLEVERTAP_HEADERS

from sandbox.records.deliveries import DELIVERY_OVERHEAD, Deliveries, Target
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


def test_shared_encodings_keep_the_byte_count_an_upper_bound_within_the_budget() -> None:
    """Equal contents and details share one encoding across sends; the log still counts at least what its
    records hold, never more than its budget, evicts oldest first, and a restored copy counts the same."""
    log = Deliveries(limit=1000, max_bytes=20_000)
    for n in range(40):
        send = log.send(tenant=f"t{n % 3}", vendor="v", campaign_id=n, time="", extra={"tag_group": "g"})
        content = {"body": "long" * 400 if n % 2 else "short"}  # sends 0, 2, 4... share one short encoding
        for user in ("a", "b", "c"):
            send.deliver(Target(f"{user}{n}"), "push", content, {"identifier": "Email"})
        kept = log.query({})
        held = {orjson.dumps(d.content) for d in kept} | {orjson.dumps(d.extra) for d in kept}
        assert len(kept) * DELIVERY_OVERHEAD + sum(map(len, held)) <= log.bytes <= log.max_bytes
    ids = [d.id for d in log.query({})]
    assert ids == list(range(ids[0], 121)) and log.evicted == ids[0] - 1 > 0
    restored = Deliveries(limit=1000, max_bytes=20_000)
    restored.import_state(pickle.loads(pickle.dumps(log.export_state())))
    assert restored.bytes == log.bytes and [d.as_dict() for d in restored.query({})] == [
        d.as_dict() for d in log.query({})]
    log.reset("t1")  # the others' records are now next to each other: counted as a fresh log would
    restored.import_state(log.export_state())
    assert log.bytes == restored.bytes and {d.tenant for d in log.query({})} == {"t0", "t2"}
