"""Profiles and estimates over the shared population, and reset of run-time writes."""

from __future__ import annotations

import pytest

from sandbox.core import keys

GOLD = {"attribute": "Customer Type", "op": "equals", "value": "Gold"}


async def test_profiles_listing_filters_and_lookup(api) -> None:
    size = (await api.control("GET", "/health"))["population"]["size"]
    listing = await api.control("GET", "/profiles", params={"limit": "5"})
    assert listing["total"] == size and len(listing["profiles"]) == 5
    first = listing["profiles"][0]
    everyone = (await api.control("GET", "/profiles", params={"limit": str(size)}))["profiles"]
    gold = await api.control("GET", "/profiles", params={"customer_type": "Gold", "limit": "1"})
    assert gold["total"] == sum(1 for p in everyone if p["customer_type"] == "Gold") > 0
    both = await api.control("GET", "/profiles", params={"Newsletter": "true", "country": "IN", "limit": str(size)})
    wanted = [p["identity"] for p in everyone if p["properties"].get("Newsletter") is True and p["country"] == "IN"]
    assert [p["identity"] for p in both["profiles"]] == wanted and both["total"] == len(wanted) > 0
    for key in ("identity", "email", "objectId", "phone"):
        assert (await api.control("GET", f"/profiles/{first[key]}"))["identity"] == first["identity"]
    status, body, _ = await api.call("GET", "/_sandbox/profiles/nobody-like-this")
    assert status == 404 and body["error"]["kind"] == "not_found"


async def test_a_profiles_page_is_bounded_and_total_counts_everyone(api, monkeypatch) -> None:
    if not hasattr(api.client, "server"):
        pytest.skip("lowers the bound of the in-process app")
    from sandbox.control import audience

    monkeypatch.setattr(audience, "PROFILES_PAGE_MAX", 7)  # the real bound (10,000) exceeds the test population
    size = (await api.control("GET", "/health"))["population"]["size"]
    page = await api.control("GET", "/profiles", params={"limit": "999999", "offset": "-3"})
    assert len(page["profiles"]) == 7 and page["total"] == size
    assert page["profiles"][0]["identity"] == (await api.control("GET", "/profiles"))["profiles"][0]["identity"]


async def test_estimate_of_a_neutral_tree_counts_like_a_plain_loop(api) -> None:
    size = (await api.control("GET", "/health"))["population"]["size"]
    people = (await api.control("GET", "/profiles", params={"limit": str(size)}))["profiles"]
    expected = [p["identity"] for p in people if p["customer_type"] == "Gold"]
    result = await api.control("POST", "/audience/estimate", json={"tree": GOLD, "sample": 3})
    assert result["matched"] == len(expected) and result["sample"] == expected[:3]
    emailable = [p for p in people if p["customer_type"] == "Gold" and p.get("email")
                 and p["reachability"]["email"]["state"] != "unsubscribed"
                 and not p["reachability"]["email"]["invalid"]]
    by_email = await api.control("POST", "/audience/estimate", json={"tree": GOLD, "channel": "email"})
    assert by_email["estimates"] == {"email": len(emailable)}


async def test_bad_estimate_requests_are_400_with_the_reason(api) -> None:
    for body in ({}, {"tree": {"bogus": 1}}, {"vendor": "nope", "audience": {}}):
        status, answer, _ = await api.call("POST", "/_sandbox/audience/estimate", json=body)
        assert status == 400 and answer["error"]["kind"] == "bad_request", answer


async def test_reset_restores_the_population_per_tenant(api) -> None:
    if not hasattr(api.client, "server"):
        pytest.skip("drives the in-process app's audience service directly")
    service = api.client.server.app[keys.AUDIENCE]
    first = service.profiles(tenant=None)[0]
    service.update(first["identity"], {"customer_type": "Platinum"}, tenant="t1")
    service.upsert({"identity": "new-user", "email": "new@example.com"}, tenant="t2")
    assert service.find("new@example.com", tenant="t2")["identity"] == "new-user"
    assert service.find("new@example.com", tenant="t1") is None
    assert service.find(first["identity"], tenant="t2") == first
    await api.control("POST", "/reset", params={"tenant": "t2"})
    assert service.find("new-user", tenant="t2") is None
    assert service.find(first["identity"], tenant="t1")["customer_type"] == "Platinum"
    await api.control("POST", "/reset")
    assert service.find(first["identity"], tenant="t1") == first
    assert len(service) == (await api.control("GET", "/health"))["population"]["size"]
