"""Every fault effect over HTTP, in each vendor's shape where the effect is a vendor error."""

from __future__ import annotations

from typing import Any

import aiohttp
import orjson
import pytest
from support.braze import HEADERS as BRAZE
from support.http import CLEVERTAP_HEADERS, Api
from support.netcore import V4

PUSH = {"to": {"Identity": ["JohnDoe"]}, "content": {"title": "Hi", "body": "There"}}
TRACK = {"attributes": [{"external_id": "u1", "plan": "gold"}]}
LIST = {"page_no": 1, "page_size": 10}
CALLS = {
    "clevertap": ("/1/send/push.json", PUSH, CLEVERTAP_HEADERS),
    "braze": ("/users/track", TRACK, BRAZE),
    "netcore": ("/v4/campaign/list", LIST, V4),
}


async def call(api: Api, vendor: str) -> tuple[int, Any, Any]:
    path, body, headers = CALLS[vendor]
    return await api.call("POST", path, json=body, headers=headers)


async def fault(api: Api, **rule: Any) -> dict[str, Any]:
    return await api.control("POST", "/faults", json=rule)


@pytest.mark.parametrize(("vendor", "effect", "status", "body"), [
    ("clevertap", "rate_limited", 429, {"status": "fail", "error": "Too many concurrent requests", "code": 429}),
    ("clevertap", "server_error", 500, {"status": "fail", "error": "Unexpected error, please try again", "code": 89}),
    ("clevertap", "unauthorized", 401, {"status": "fail", "error": "Invalid Credentials", "code": 401}),
    ("braze", "rate_limited", 429, {"message": "Rate limit exceeded"}),
    ("braze", "unavailable", 503, {"message": "Internal Server Error"}),
    ("braze", "unauthorized", 401, {"message": "Invalid API key: test-key"}),
    ("braze", "not_found", 404, {"message": "Not Found"}),
    ("braze", "forbidden", 403, {"message": "Access Denied"}),
    ("braze", "bad_request", 400, {"message": "Bad Request"}),
    ("braze", "bad_gateway", 502, {"message": "Internal Server Error"}),
    ("clevertap", "gateway_timeout", 504, {"status": "fail", "error": "Unexpected error, please try again",
                                           "code": 89}),
    ("netcore", "server_error", 500, {"data": {}, "message": "An error occurred on the server side.",
                                      "statusCode": 500}),
    ("netcore", "rate_limited", 429, {"data": {}, "message": "Too Many Requests", "statusCode": 429}),
])
async def test_named_errors_are_rendered_by_the_vendor(api: Api, vendor: str, effect: str, status: int,
                                                       body: Any) -> None:
    await fault(api, vendor=vendor, effect=effect, times=1)
    assert (await call(api, vendor))[:2] == (status, body)
    assert (await call(api, vendor))[0] < 300
    [first, _] = await api.requests(vendor=vendor)
    assert first["fault"]["effect"] == effect and first["status"] == status


async def test_any_status_with_a_custom_body_and_headers(api: Api) -> None:
    await fault(api, vendor="braze", status=418, response_body={"teapot": True}, headers={"Retry-After": "3"})
    status, body, headers = await call(api, "braze")
    assert (status, body, headers["Retry-After"]) == (418, {"teapot": True}, "3")
    assert headers["X-Ratelimit-Limit"] == "3000"  # the vendor's own headers still come
    await api.control("DELETE", "/faults")
    await fault(api, vendor="clevertap", status=502, response_body="<html>Bad Gateway</html>")
    assert (await call(api, "clevertap"))[:2] == (502, "<html>Bad Gateway</html>")


async def test_a_bare_status_gets_the_vendor_shaped_body(api: Api) -> None:
    await fault(api, vendor="braze", status=403)
    assert (await call(api, "braze"))[:2] == (403, {"message": "Access Denied"})


@pytest.mark.parametrize(("effect", "check"), [
    ("empty", lambda raw: raw == b""),
    ("truncated", lambda raw: raw == b'{"attributes_processed"'),
    ("malformed", lambda raw: raw == b'{"attributes_processed":1,"message":"success",}'),
])
async def test_body_effects_keep_the_status_and_spoil_the_body(api: Api, effect: str, check: Any) -> None:
    await fault(api, path="/users/track", effect=effect)
    async with api.client.post("/users/track", data=orjson.dumps(TRACK), headers=BRAZE) as resp:
        raw = await resp.read()
        assert resp.status == 201 and check(raw), raw
    with pytest.raises(orjson.JSONDecodeError):
        orjson.loads(raw)
    [entry] = await api.requests()
    assert entry["fault"] == {"rule": "f1", "effect": effect}


async def test_an_error_effect_can_be_spoiled_too(api: Api) -> None:
    await fault(api, vendor="braze", status=503, effect="truncated")
    async with api.client.post("/users/track", data=orjson.dumps(TRACK), headers=BRAZE) as resp:
        assert resp.status == 503 and await resp.read() == b'{"message":"Inter'


async def test_a_dropped_connection_is_seen_by_the_client_and_journaled(api: Api) -> None:
    await fault(api, vendor="clevertap", effect="drop", times=1)
    with pytest.raises(aiohttp.ClientError):
        await call(api, "clevertap")
    assert (await call(api, "clevertap"))[0] == 200
    entries = await api.requests(vendor="clevertap")
    assert [(e["status"], e["fault"]) for e in entries] == [(0, {"rule": "f1", "effect": "drop"}), (200, None)]
    assert (await api.control("GET", "/deliveries"))["total"] == 1  # the dropped send was not processed


async def test_a_slow_body_arrives_in_pieces_and_whole(api: Api) -> None:
    await fault(api, vendor="braze", effect="slow_body", duration_ms=50, chunks=5)
    async with api.client.post("/users/track", data=orjson.dumps(TRACK), headers=BRAZE) as resp:
        assert resp.status == 201 and resp.content_length == 46
        pieces = [chunk async for chunk in resp.content.iter_any()]
    assert orjson.loads(b"".join(pieces)) == {"attributes_processed": 1, "message": "success"}
    assert len(pieces) > 1


async def test_a_delay_passes_the_request_through_and_is_recorded(api: Api) -> None:
    await fault(api, path="/users/track", delay_ms=20)
    status, body, _ = await call(api, "braze")
    assert (status, body) == (201, {"attributes_processed": 1, "message": "success"})
    [entry] = await api.requests()
    assert entry["fault"] == {"rule": "f1", "effect": "delay", "delay_ms": 20}
    assert entry["duration_ms"] >= 20


async def test_faults_on_one_tenant_leave_the_others_alone(api: Api) -> None:
    await fault(api, tenant="test-key", effect="server_error")
    assert (await call(api, "braze"))[0] == 500
    assert (await call(api, "clevertap"))[0] == 200


async def test_a_client_giving_up_on_a_slow_body_is_no_server_error(api: Api) -> None:
    await fault(api, vendor="braze", effect="slow_body", duration_ms=2000, chunks=4)
    with pytest.raises(TimeoutError):
        async with api.client.post("/users/track", data=orjson.dumps(TRACK), headers=BRAZE,
                                   timeout=aiohttp.ClientTimeout(total=0.3)) as resp:
            await resp.read()
    assert (await api.control("GET", "/failures"))["failures"] == []
    assert (await call(api, "clevertap"))[0] == 200
