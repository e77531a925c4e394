"""Population writes belong to their tenant: two tenants against one sandbox, over HTTP.

Tenant A's uploads (CleverTap ``/1/upload``) and tracked users (Braze ``/users/track``) change what A sees
(profiles, counts, estimates, deliveries) and nothing that tenant B sees; ``reset?tenant=A`` takes back
A's writes only.
"""

from __future__ import annotations

from typing import Any

from support.braze import Braze
from support.http import clevertap_headers

A, B = "ACC-A", "ACC-B"
DIAMOND = {"common_profile_properties": {"profile_fields": [
    {"name": "Customer Type", "operator": "equals", "value": "Diamond"}]}}
DIAMOND_TREE = {"attribute": "Customer Type", "op": "equals", "value": "Diamond"}


async def ct(api: Any, account: str, path: str, body: Any = None, **params: str) -> tuple[int, Any]:
    method = "GET" if body is None else "POST"
    status, answer, _ = await api.call(method, path, json=body, params=params or None,
                                       headers=clevertap_headers(account))
    return status, answer


async def upload(api: Any, account: str, *records: dict[str, Any]) -> None:
    status, answer = await ct(api, account, "/1/upload", {"d": list(records)})
    assert status == 200 and answer["status"] == "success", answer


def diamond(identity: str, **extra: Any) -> dict[str, Any]:
    return {"identity": identity, "type": "profile", "profileData": {"Customer Type": "Diamond", **extra}}


def token(identity: str, value: str) -> dict[str, Any]:
    return {"identity": identity, "objectId": f"__{identity}", "type": "token",
            "tokenData": {"id": value, "type": "apns"}}


async def diamonds(api: Any, account: str) -> int:
    status, answer = await ct(api, account, "/1/counts/profiles.json", DIAMOND)
    assert status == 200, answer
    return int(answer["count"])


async def estimate(api: Any, tenant: str | None, tree: dict[str, Any] = DIAMOND_TREE) -> int:
    body: dict[str, Any] = {"tree": tree}
    if tenant is not None:
        body["tenant"] = tenant
    return int((await api.control("POST", "/audience/estimate", json=body))["matched"])


async def test_clevertap_uploads_are_seen_by_their_account_only(api) -> None:
    first = (await api.control("GET", "/profiles", params={"limit": "1"}))["profiles"][0]["identity"]
    await upload(api, A, diamond("a-new", Email="a-new@example.com"), diamond(first), token("a-new", "tok-a"))
    # A sees its new user and its change to a generated one
    assert (await ct(api, A, "/1/profile.json", identity="a-new"))[0] == 200
    assert (await ct(api, A, "/1/profile.json", email="a-new@example.com"))[0] == 200
    assert (await ct(api, A, "/1/profile.json", identity=first))[1]["record"]["profileData"][
        "Customer Type"] == "Diamond"
    assert await diamonds(api, A) == 2 and await estimate(api, A) == 2
    # B sees the built population only
    assert (await ct(api, B, "/1/profile.json", identity="a-new"))[0] == 404
    assert (await ct(api, B, "/1/profile.json", identity=first))[1]["record"]["profileData"][
        "Customer Type"] != "Diamond"
    assert await diamonds(api, B) == 0 and await estimate(api, B) == 0 and await estimate(api, None) == 0
    assert (await api.call("GET", "/_sandbox/profiles/a-new", params={"tenant": B}))[0] == 404
    assert (await api.control("GET", "/profiles/a-new", params={"tenant": A}))["customer_type"] == "Diamond"
    listed = await api.control("GET", "/profiles", params={"tenant": A, "customer_type": "Diamond"})
    assert sorted(p["identity"] for p in listed["profiles"]) == sorted(["a-new", first])
    assert (await api.control("GET", "/profiles", params={"tenant": B, "customer_type": "Diamond"}))["total"] == 0


async def test_deliveries_reach_a_users_writes_only_for_its_tenant(api) -> None:
    await upload(api, A, diamond("a-new"), token("a-new", "tok-a"))
    push = {"to": {"Identity": ["a-new"]}, "content": {"title": "t", "body": "b"}}
    for account in (A, B):
        assert (await ct(api, account, "/1/send/push.json", push))[0] == 200
    mine = (await api.control("GET", "/deliveries", params={"tenant": A}))["deliveries"]
    theirs = (await api.control("GET", "/deliveries", params={"tenant": B}))["deliveries"]
    assert [(d["user"], d["known"], d["device"]) for d in mine] == [("a-new", True, "tok-a")]
    assert [(d["user"], d["known"]) for d in theirs] == [("a-new", False)]  # B has no such user


async def test_a_campaign_targets_the_tenants_own_view(api) -> None:
    await upload(api, A, diamond("a-1"), token("a-1", "tok-1"), diamond("a-2"), token("a-2", "tok-2"))
    body = {"name": "diamonds", "target_mode": "push", "where": DIAMOND, "when": "now",
            "content": {"title": "t", "body": "b"}, "devices": ["ios"], "estimate_only": True}
    for account, expected in ((A, {"ios": 2}), (B, {"ios": 0})):
        status, answer = await ct(api, account, "/1/targets/create.json", body)
        assert status == 200 and answer["estimates"] == expected, answer


async def test_resetting_one_tenant_keeps_the_others_writes(api) -> None:
    await upload(api, A, diamond("a-only"))
    await upload(api, B, diamond("b-only"), diamond("a-only"))
    assert await diamonds(api, A) == 1 and await diamonds(api, B) == 2
    await api.control("POST", "/reset", params={"tenant": A})
    assert await diamonds(api, A) == 0
    assert await diamonds(api, B) == 2
    assert (await ct(api, B, "/1/profile.json", identity="a-only"))[0] == 200
    await api.control("POST", "/reset")
    assert await diamonds(api, B) == 0


async def test_braze_tracked_users_belong_to_their_key(api) -> None:
    a, b = Braze(api, "braze-key-a"), Braze(api, "braze-key-b")
    await a.track(attributes=[{"external_id": "bz-a", "first_name": "Ann", "Plan": "platinum-a"}])
    await b.track(attributes=[{"external_id": "bz-b", "first_name": "Bob", "Plan": "platinum-b"}])
    for mine, other, name in ((a, "bz-b", "Ann"), (b, "bz-a", "Bob")):
        status, body, _ = await mine.post("/users/export/ids", {"external_ids": ["bz-a", "bz-b"],
                                                                "fields_to_export": ["first_name"]})
        assert status == 201 and body["users"] == [{"first_name": name}] and body["invalid_user_ids"] == [other]
    plan = {"attribute": "Plan", "op": "starts_with", "value": "platinum-"}
    assert await estimate(api, a.key, plan) == 1 and await estimate(api, b.key, plan) == 1
    assert await estimate(api, None, plan) == 0
    await api.control("POST", "/reset", params={"tenant": a.key})
    assert await estimate(api, a.key, plan) == 0 and await estimate(api, b.key, plan) == 1
