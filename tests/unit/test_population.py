"""Population generation, summary and the TinyDB store (build cache, snapshot/restore, upserts)."""

from __future__ import annotations

import re
import zoneinfo
from collections import Counter
from pathlib import Path
from typing import Any

import orjson
import pytest
from tinydb import Query

from sandbox.population.audience.index import Index
from sandbox.population.audience.summary import summary
from sandbox.population.generator import generate, load_profile
from sandbox.population.store import frame_dir, load_population

REF = 1767225600  # 2026-01-01T00:00:00Z


@pytest.fixture(scope="module")
def profile() -> dict[str, Any]:
    return load_profile()


@pytest.fixture(scope="module")
def users(profile: dict[str, Any]) -> list[dict[str, Any]]:
    return generate(profile, seed=3, size=300)


def test_default_profile_declares_what_the_generator_needs(profile: dict[str, Any]) -> None:
    assert profile["size"] == 10000 and profile["seed"] == 42
    assert profile["reference_date"] == "2026-01-01T00:00:00Z"
    assert {e["name"] for e in profile["events"]} >= {
        "App Launched",
        "Product Viewed",
        "Added To Cart",
        "Charged",
        "Notification Clicked",
    }


def test_profiles_have_every_field_in_the_right_shape(users: list[dict[str, Any]]) -> None:
    identities = set()
    for u in users:
        identities.add(u["identity"])
        assert u["external_id"] == u["identity"]
        assert re.fullmatch(r"__[0-9a-f]{32}", u["objectId"])
        assert re.fullmatch(r"[0-9a-f]{24}", u["internal_id"])
        assert re.fullmatch(r"[^@\s]+@[a-z0-9.-]+\.[a-z]+", u["email"]), u["email"]
        assert re.fullmatch(r"\+[1-9]\d{7,14}", u["phone"]), u["phone"]
        assert u["name"] == f"{u['first_name']} {u['last_name']}"
        assert u["gender"] in ("M", "F", "O")
        assert 18 <= u["age"] <= 80 and re.fullmatch(r"\d{4}-\d{2}-\d{2}", u["dob"])
        zoneinfo.ZoneInfo(u["time_zone"])
        assert u["country"] and u["city"] and u["language"]
        assert u["customer_type"] in ("Platinum", "Gold", "Silver", "Bronze")
        assert re.fullmatch(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z", u["signup_date"])
        assert u["lifetime_value"] >= 0
        assert set(u["reachability"]) == {"push", "webpush", "email", "sms", "whatsapp"}
        for state in u["reachability"].values():
            assert state["state"] in ("opted_in", "subscribed", "unsubscribed")
            assert isinstance(state["invalid"], bool) and isinstance(state["dnd"], bool)
        for device in u["devices"]:
            assert device["platform"] in ("android", "ios", "web") and device["token"]
            assert REF - 366 * 86400 <= device["last_active"] <= REF
        stamps = [e["ts"] for e in u["events"]]
        assert stamps == sorted(stamps)
        assert all(REF - 365 * 86400 <= t <= REF for t in stamps)
        for event in u["events"]:
            if event["name"] == "Charged":
                assert event["props"]["Items"] and event["props"]["Amount"] > 0
    assert len(identities) == len(users)
    assert len({u["email"] for u in users}) == len(users)
    orjson.dumps(users)  # JSON-serialisable


def test_distributions_are_mixed(users: list[dict[str, Any]]) -> None:
    assert len(Counter(u["customer_type"] for u in users)) == 4
    assert len(Counter(u["country"] for u in users)) >= 4
    platforms = Counter(d["platform"] for u in users for d in u["devices"])
    assert set(platforms) == {"android", "ios", "web"}
    names = Counter(e["name"] for u in users for e in u["events"])
    assert names["App Launched"] > names["Charged"] > 0
    assert any(not u["events"] for u in users) and any(len(u["events"]) > 20 for u in users)


def test_same_seed_is_identical_and_another_seed_differs(profile: dict[str, Any]) -> None:
    first = generate(profile, seed=5, size=200)
    assert orjson.dumps(first) == orjson.dumps(generate(profile, seed=5, size=200))
    other = generate(profile, seed=6, size=200)
    assert [u["email"] for u in first] != [u["email"] for u in other]
    later = generate(profile, seed=5, size=200, reference_date="2027-01-01T00:00:00Z")
    assert later[0]["events"] != first[0]["events"] or later[1]["events"] != first[1]["events"]


def test_progress_callback_reaches_the_total(profile: dict[str, Any]) -> None:
    calls: list[tuple[int, int]] = []
    generate(profile, seed=1, size=2500, on_progress=lambda done, total: calls.append((done, total)))
    assert calls[-1] == (2500, 2500) and [done for done, _ in calls] == sorted(done for done, _ in calls)


def test_user_profile_file_overlays_the_default(tmp_path: Path) -> None:
    path = tmp_path / "mine.json"
    path.write_text('{"size": 5, "customer_types": {"Gold": {"weight": 1}}}')
    mine = load_profile(path)
    assert mine["size"] == 5 and mine["events"]
    assert {u["customer_type"] for u in generate(mine)} == {"Gold"}
    path.write_text('{"events": {}}')
    with pytest.raises(ValueError, match=r"\$\.events must be a list"):
        load_profile(path)


def test_summary_counts_match_a_python_loop(users: list[dict[str, Any]]) -> None:
    result = summary(Index.build(users))
    assert result["profiles"] == len(users)
    assert result["users_per_platform"]["web"] == sum(
        any(d["platform"] == "web" for d in u["devices"]) for u in users
    )
    assert result["devices_per_platform"]["android"] == sum(
        d["platform"] == "android" for u in users for d in u["devices"]
    )
    email = sum(
        u["reachability"]["email"]["state"] != "unsubscribed" and not u["reachability"]["email"]["invalid"]
        for u in users
    )
    assert result["reachable"]["email"] == {"email": email}
    counts = Counter(e["name"] for u in users for e in u["events"])
    assert result["top_events"][0] == ["App Launched", counts["App Launched"]] or result["top_events"][0] == (
        "App Launched",
        counts["App Launched"],
    )
    assert result["events_total"] == sum(counts.values())


# -- store ---------------------------------------------------------------------------------------------
def test_data_dir_builds_once_then_maps_the_same_users(tmp_path: Path, profile: dict[str, Any]) -> None:
    data = tmp_path / "data"
    store, first = load_population(profile, seed=9, size=120, data_dir=data)
    assert first.built and (frame_dir(data, first.fingerprint) / "frame.json").is_file()
    again, second = load_population(profile, seed=9, size=120, data_dir=data)
    assert not second.built and second.fingerprint == first.fingerprint
    assert again.profile_list() == generate(profile, seed=9, size=120) == store.profile_list()
    assert load_population(profile, seed=10, size=120, data_dir=data)[1].built
    assert load_population(profile, seed=10, size=121, data_dir=data)[1].built
    changed = {**profile, "dormant_share": 0.5}
    assert load_population(changed, seed=10, size=121, data_dir=data)[1].built


def test_an_unreadable_saved_population_is_built_again(tmp_path: Path, profile: dict[str, Any]) -> None:
    _, info = load_population(profile, seed=4, size=30, data_dir=tmp_path)
    next(frame_dir(tmp_path, info.fingerprint).glob("events.ts.npy")).write_bytes(b"not numpy")
    store, again = load_population(profile, seed=4, size=30, data_dir=tmp_path)
    assert again.built and store.profile_list() == generate(profile, seed=4, size=30)


def test_tinydb_serves_the_profiles_and_refuses_writes(profile: dict[str, Any]) -> None:
    store, info = load_population(profile, seed=2, size=50)
    people = store.profiles
    assert len(people) == 50 and people.get(doc_id=1)["identity"] == "user0000001"
    gold = people.search(Query().customer_type == "Gold")
    assert gold and all(p["customer_type"] == "Gold" for p in gold)
    assert store.meta()["population_size"] == 50 and store.meta()["population_fingerprint"] == info.fingerprint
    with pytest.raises(TypeError, match="read-only"):
        people.insert({"identity": "new-user"})
