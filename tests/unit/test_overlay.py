"""The audience service's per-tenant overlay: a tenant's view answers exactly like one index built over the
merged population, other tenants never see it, its state round-trips, and the population checks its size."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import orjson
import pytest

from sandbox.core.clock import Clock
from sandbox.population.audience.evaluate import estimate, recipients
from sandbox.population.audience.index import Index
from sandbox.population.audience.overlay import FRESH_MIN
from sandbox.population.audience.service import AudienceService
from sandbox.population.audience.summary import summary
from sandbox.population.generator import PopulationError, check_size, parse_timestamp

SIZE = 300
TREES: list[dict[str, Any]] = [
    {"everyone": True},
    {"attribute": "Customer Type", "op": "equals", "value": ["Gold", "Diamond"]},
    {"all": [{"event": "Charged", "last_days": 90}, {"not": {"attribute": "Plan", "op": "equals", "value": "x"}}]},
    {"any": [{"subscription": "email", "state": "unsubscribed"}, {"attribute": "age", "op": "less_than",
                                                                  "value": 30}]},
]
CHANNELS: list[str | None] = [None, "push", "email", "sms", "webpush"]


@pytest.fixture
def service() -> AudienceService:
    return AudienceService.load(clock=Clock(), size=SIZE, seed=7)


def write_some(service: AudienceService, tenant: str, count: int) -> None:
    base = service.profiles(tenant=None)
    for i in range(count):
        victim = base[(i * 7) % len(base)]
        if i % 5 == 0:
            service.delete(victim["identity"], tenant=tenant)
        elif i % 5 == 1:
            service.upsert({"identity": f"{tenant}-new-{i}", "customer_type": "Diamond", "age": 20 + i % 40,
                            "email": f"{tenant}{i}@example.com", "events": [], "reachability": {},
                            "devices": [{"platform": "ios", "token": f"t{i}", "last_active": 1}]}, tenant=tenant)
        elif i % 5 == 2:
            service.add_event(victim["identity"], "Charged", service.now() - 86400, {"Amount": i}, tenant=tenant)
        else:
            service.update(victim["identity"], {"customer_type": "Diamond", "properties": {"Plan": "x"}},
                           tenant=tenant)


def merged_index(service: AudienceService, tenant: str) -> Index:
    return Index.build(service.profiles(tenant=tenant), service.reference_ts)


@pytest.mark.parametrize("writes", [3, FRESH_MIN * 3])  # a small overlay, and one merged into ``frozen``
def test_a_tenants_view_answers_like_an_index_over_the_merged_population(service: AudienceService,
                                                                         writes: int) -> None:
    write_some(service, "A", writes)
    merged = merged_index(service, "A")
    now = service.now()
    for tree in TREES:
        members = [p["identity"] for p in service.members(tree, tenant="A")]
        expected = merged.identities(np.flatnonzero(merged_mask := _mask(merged, tree, now)))
        assert members == expected and merged_mask.any()
        for channel in CHANNELS:
            assert service.estimate(tree, tenant="A", channel=channel) == estimate(tree, merged, channel=channel,
                                                                                   now=now)
            got = [(r["identity"], r.get("token"), r.get("email")) for r in
                   service.recipients(tree, tenant="A", channel=channel)]
            want = [(r["identity"], r.get("token"), r.get("email")) for r in
                    recipients(tree, merged, channel=channel, now=now)]
            assert got == want
    seen = list(service.profiles(tenant="A"))
    for where in ({"customer_type": "Diamond"}, {"Plan": "x", "country": "IN"}, {"customer_type": "Gold"}):
        expected = [p["identity"] for p in seen if all(
            str(p.get(k, p.get("properties", {}).get(k))) == v for k, v in where.items())]
        assert [p["identity"] for p in service.profiles(tenant="A", where=where)] == expected
    assert service.summary(tenant="A") == summary(merged)
    assert service.size(tenant="A") == merged.n


def _mask(index: Index, tree: dict[str, Any], now: float) -> np.ndarray:
    from sandbox.population.audience.evaluate import evaluate

    return evaluate(tree, index, now=now)


def test_other_tenants_and_the_base_do_not_see_a_tenants_writes(service: AudienceService) -> None:
    before = {str(i): service.estimate(tree, tenant=None, channel="email") for i, tree in enumerate(TREES)}
    write_some(service, "A", 40)
    for tenant in (None, "B"):
        assert {str(i): service.estimate(tree, tenant=tenant, channel="email")
                for i, tree in enumerate(TREES)} == before
        assert service.find("A-new-1", tenant=tenant) is None
        assert service.find("A1@example.com", tenant=tenant) is None
    assert service.find("A1@example.com", tenant="A")["identity"] == "A-new-1"
    first = service.profiles(tenant=None)[0]
    assert service.find(first["identity"], tenant="A") is None  # deleted by A (write 0)
    assert service.find(first["identity"], tenant="B") is first


def test_rows_are_stable_and_in_population_order(service: AudienceService) -> None:
    base = service.profiles(tenant=None)
    service.update(base[5]["identity"], {"customer_type": "Diamond"}, tenant="A")
    service.upsert({"identity": "z", "customer_type": "Diamond"}, tenant="A")
    assert service.row_of(base[5]["identity"], tenant="A") == 5
    assert service.row_of("z", tenant="A") == SIZE
    assert service.profile_at(SIZE, tenant="A")["identity"] == "z"
    diamonds = service.members({"attribute": "customer_type", "op": "equals", "value": "Diamond"}, tenant="A")
    assert [p["identity"] for p in diamonds] == [base[5]["identity"], "z"]


def test_reset_drops_one_tenant_or_all(service: AudienceService) -> None:
    write_some(service, "A", 10)
    write_some(service, "B", 10)
    service.reset("A")
    assert service.find("A-new-1", tenant="A") is None and service.find("B-new-1", tenant="B") is not None
    service.reset(None)
    assert service.find("B-new-1", tenant="B") is None and service.tenants() == []


def test_export_and_import_state_round_trip(service: AudienceService) -> None:
    write_some(service, "A", FRESH_MIN + 10)
    write_some(service, "B", 6)
    state = orjson.loads(orjson.dumps(service.export_state()))
    other = AudienceService.load(clock=Clock(), size=SIZE, seed=7)
    other.import_state(state)
    for tenant in ("A", "B", None):
        assert list(other.profiles(tenant=tenant)) == list(service.profiles(tenant=tenant))
        for tree in TREES:
            assert other.estimate(tree, tenant=tenant, channel="push") == service.estimate(tree, tenant=tenant,
                                                                                           channel="push")
        assert other.row_of(f"{tenant}-new-1", tenant=tenant) == service.row_of(f"{tenant}-new-1", tenant=tenant)
    other.import_state({"tenants": []})
    assert other.tenants() == []


def test_population_size_is_checked_against_the_machine() -> None:
    with pytest.raises(PopulationError, match="at least 1"):
        check_size(0)
    with pytest.raises(PopulationError, match=r"2,000,000 users needs about .* GiB .* this machine has 1.0 GiB"):
        check_size(2_000_000, memory=2**30)
    check_size(1_000, memory=2**30)
    assert issubclass(PopulationError, ValueError)


def test_a_data_dir_keeps_one_population_per_fingerprint(tmp_path: Path) -> None:
    first = AudienceService.load(clock=Clock(), data_dir=tmp_path, size=50, seed=1)
    second = AudienceService.load(clock=Clock(), data_dir=tmp_path, size=60, seed=1)
    assert first.info.built and second.info.built and len(list(tmp_path.glob("population-*/frame.json"))) == 2
    again = AudienceService.load(clock=Clock(), data_dir=tmp_path, size=50, seed=1)
    assert not again.info.built and len(again) == 50
    assert again.reference_ts == float(parse_timestamp(again.info.reference_date))
