"""Auth, routing and parsing errors (spec §3, §5.2, §5.3, §15) and the headers on every answer (§1, §4)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from support.braze import GRAPE_INVALID_JSON, HEADERS, KEY, Braze, fail

from sandbox.core.errors import TooManyRequests, Unexpected
from sandbox.providers.braze import errors
from sandbox.settings import Settings

SEND = {"messages": {"apple_push": {"alert": "hello"}}, "external_user_ids": [12345]}


def hex32(body: dict) -> bool:
    return re.fullmatch(r"[0-9a-f]{32}", body.get("dispatch_id", "")) is not None


@pytest.mark.asyncio(loop_scope="module")
@pytest.mark.parametrize(("headers", "expected"), [
    ({"Content-Type": "application/json"}, "Invalid API key: "),
    ({"Content-Type": "application/json", "Authorization": "Bearer non-existent-but-quoted\""},
     'Invalid API key: non-existent-but-quoted"'),
    ({"Content-Type": "application/json", "Authorization": "Token abc"}, "Invalid API key: "),
    ({"Content-Type": "application/json", "Authorization": "Bearer "}, "Invalid API key: "),
])
async def test_missing_or_malformed_key_is_401_echoing_the_key(shared_bz: Braze, headers, expected) -> None:
    status, body, got = await shared_bz.api.call("POST", "/messages/send", json=SEND, headers=headers)
    assert (status, body) == (401, fail(expected))
    assert got["X-Ratelimit-Limit"] == got["X-Ratelimit-Remaining"] == got["X-Ratelimit-Reset"] == ""
    assert got["Cache-Control"] == "no-cache"


@pytest.mark.parametrize("where", ["body", "query"])
async def test_legacy_api_key_in_body_or_query_is_accepted(api, where) -> None:
    headers = {"Content-Type": "application/json"}
    if where == "body":
        status, body, _ = await api.call("POST", "/messages/send", json={**SEND, "api_key": KEY}, headers=headers)
    else:
        status, body, _ = await api.call("POST", "/messages/send", json=SEND, headers=headers,
                                         params={"api_key": KEY})
    assert status == 201 and list(body) == ["dispatch_id", "message"] and hex32(body)
    assert (await api.requests(operation="messages_send"))[-1]["tenant"] in (None, KEY)


@pytest.mark.asyncio(loop_scope="module")
@pytest.mark.parametrize(("content_type", "status"), [(None, 415), ("text/plain", 415),
                                                      ("application/x-www-form-urlencoded", 415),
                                                      ("application/json; charset=utf-8", 201)])
async def test_content_type_must_be_json(shared_bz: Braze, content_type, status) -> None:
    headers = {"Authorization": f"Bearer {KEY}"}
    if content_type:
        headers["Content-Type"] = content_type
    got, body, _ = await shared_bz.api.call("POST", "/messages/send", data=json.dumps(SEND), headers=headers)
    assert got == status
    if status == 415:
        assert body == fail("Unsupported Media Type")


@pytest.mark.asyncio(loop_scope="module")
@pytest.mark.parametrize("raw", [b"{bad", b"", b"[]", b"null", b'"text"', b"\xff\xfe"])
async def test_invalid_json_gets_the_grape_body(shared_bz: Braze, raw) -> None:
    status, body, headers = await shared_bz.api.call("POST", "/users/track", data=raw, headers=HEADERS)
    assert (status, body) == (400, GRAPE_INVALID_JSON)
    assert headers["Content-Type"] == "application/json"


@pytest.mark.asyncio(loop_scope="module")
@pytest.mark.parametrize("path", ["/users/track/", "/messages/send/", "/braze/users/track/",
                                  "/transactional/v1/campaigns/abc/send/"])
async def test_trailing_slash_is_403_access_denied(shared_bz: Braze, path) -> None:
    status, body, _ = await shared_bz.api.call("POST", path, json={}, headers=HEADERS)
    assert (status, body) == (403, fail("Access Denied"))


@pytest.mark.asyncio(loop_scope="module")
@pytest.mark.parametrize("path", ["/users/nothing", "/messages/fax", "/braze/anything", "/segments/"])
async def test_unknown_path_is_json_404(shared_bz: Braze, path) -> None:
    status, body, headers = await shared_bz.api.call("POST", path, json={}, headers=HEADERS)
    assert (status, body) == (404, fail("Not Found"))
    assert headers["Content-Type"] == "application/json"
    assert (await shared_bz.api.requests(path=path))[-1]["vendor"] == "braze"


async def test_wrong_method_is_json_405(api) -> None:
    status, body, _ = await api.call("GET", "/messages/send", headers=HEADERS)
    assert (status, body) == (405, fail("405 Not Allowed"))


def test_unexpected_and_rate_limited_bodies() -> None:
    assert errors.wire(Unexpected("boom")) == (500, fail("Internal Server Error"))
    assert errors.wire(TooManyRequests("x")) == (429, fail("Rate limit exceeded"))


async def test_every_answer_carries_rate_limit_and_request_id_headers(bz: Braze) -> None:
    status, _, first = await bz.post("/messages/send", SEND)
    _, _, second = await bz.post("/messages/send", SEND)
    assert status == 201
    assert first["X-Ratelimit-Limit"] == "250000"
    assert int(first["X-Ratelimit-Remaining"]) == int(second["X-Ratelimit-Remaining"]) + 1
    assert int(first["X-Ratelimit-Reset"]) % 3600 == 0
    assert first["X-Request-Id"] != second["X-Request-Id"]
    assert re.fullmatch(r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}", first["X-Request-Id"])
    assert first["Cache-Control"] == "max-age=0, private, must-revalidate"
    assert first["Etag"].startswith('W/"')
    assert first["Content-Type"] == "application/json"
    _, _, track = await bz.post("/users/track", {"attributes": [{"external_id": "a", "x": 1}]})
    assert track["X-Ratelimit-Limit"] == "3000" and int(track["X-Ratelimit-Reset"]) % 3 == 0
    _, _, broadcast = await bz.post("/messages/send", {"messages": {"apple_push": {"alert": "a"}}, "broadcast": True,
                                                       "segment_id": "5e6f7a8b-0001-4c00-9000-00000000a001"})
    assert broadcast["X-Ratelimit-Limit"] == "250" and int(broadcast["X-Ratelimit-Reset"]) % 60 == 0


async def test_served_under_the_vendor_prefix_too(bz: Braze) -> None:
    status, body, _ = await bz.post("/braze/messages/send", SEND)
    assert status == 201 and hex32(body)
    assert (await bz.api.requests(path="/braze/messages/send"))[-1]["operation"] == "messages_send"


async def test_ids_are_deterministic_from_the_seed(aiohttp_client, settings) -> None:
    from support.http import Api

    from sandbox.app import create_app

    seen = []
    for _ in range(2):
        api = Api(await aiohttp_client(create_app(settings)))
        _, body, _ = await api.call("POST", "/messages/send", json=SEND, headers=HEADERS)
        seen.append(body["dispatch_id"])
    assert seen[0] == seen[1]


class TestAccounts:
    @pytest.fixture
    def settings(self, tmp_path: Path) -> Settings:
        accounts = tmp_path / "accounts.json"
        accounts.write_text(json.dumps({"braze": {
            "sender-key": {"workspace": "shop-prod", "permissions": ["messages.send"]},
            "all-key": {"workspace": "shop-prod"},
            "other-key": {"workspace": "shop-staging", "permissions": ["messages.send", "users.track"]},
            "off-key": {"workspace": "closed", "active": False}}}))
        return Settings(population_size=300, accounts=accounts)

    async def test_unknown_key_is_401_with_the_key_as_sent(self, api) -> None:
        status, body, _ = await bz_post(api, "non-existent", "/messages/send", SEND)
        assert (status, body) == (401, fail("Invalid API key: non-existent"))

    async def test_known_key_sends_as_its_workspace(self, api) -> None:
        status, body, _ = await bz_post(api, "sender-key", "/messages/send", SEND)
        assert status == 201 and hex32(body)
        assert (await api.requests(operation="messages_send"))[-1]["tenant"] == "shop-prod"

    async def test_key_without_the_permission_gets_the_section_15_answer(self, api) -> None:
        status, body, _ = await bz_post(api, "sender-key", "/users/track", {"attributes": []})
        assert (status, body) == (401, fail("You do not have permission to access this resource"))
        status, _, _ = await bz_post(api, "all-key", "/users/track", {"attributes": [{"external_id": "u", "a": 1}]})
        assert status == 201

    async def test_inactive_account_is_403_forbidden(self, api) -> None:
        status, body, _ = await bz_post(api, "off-key", "/messages/send", SEND)
        assert (status, body) == (403, fail("Forbidden"))

    async def test_resetting_a_workspace_undoes_its_profile_writes(self, api) -> None:
        """A workspace's profile writes are its own (another workspace never sees them); ``reset?tenant=``
        undoes them."""
        await bz_post(api, "other-key", "/users/track", {"attributes": [{"external_id": "u1", "first_name": "A"}]})
        seen = await api.control("GET", "/profiles/u1", params={"tenant": "shop-staging"})
        assert seen["first_name"] == "A"
        status, body, _ = await bz_post(api, "all-key", "/users/export/ids", {"external_ids": ["u1"]})
        assert (status, body) == (201, {"users": [], "invalid_user_ids": ["u1"], "message": "success"})
        await api.control("POST", "/reset", params={"tenant": "shop-staging"})
        status, _, _ = await api.call("GET", "/_sandbox/profiles/u1", params={"tenant": "shop-staging"})
        assert status == 404


async def bz_post(api, key: str, path: str, body: dict):
    return await Braze(api, key).post(path, body)


def test_bad_accounts_section_stops_startup(tmp_path: Path) -> None:
    from sandbox.app import create_app

    accounts = tmp_path / "accounts.json"
    accounts.write_text(json.dumps({"braze": {"k": {"permissions": "messages.send"}}}))
    with pytest.raises(ValueError, match=r'\$\.braze\["k"\]\.permissions: expected a list'):
        create_app(Settings(accounts=accounts))

