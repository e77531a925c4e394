"""The journal over HTTP: every request recorded with its answer, filters, clear, reset, concurrency."""

from __future__ import annotations

import asyncio
import dataclasses
from datetime import datetime

import pytest
from support.http import CLEVERTAP_HEADERS

PUSH = {"to": {"Identity": ["JohnDoe"]}, "content": {"title": "Hi", "body": "There"}}


async def test_entry_has_every_field(api) -> None:
    status, body, _ = await api.call("POST", "/1/send/push.json", json=PUSH, headers=CLEVERTAP_HEADERS,
                                     params={"trace": "1"})
    assert status == 200
    [entry] = await api.requests()
    assert set(entry) == {"id", "received_at", "tenant", "vendor", "operation", "method", "path", "query",
                          "headers", "body", "raw_body", "status", "response", "response_headers", "duration_ms",
                          "notes", "hint", "fault"}
    assert entry["tenant"] == "ACCOUNT_ID"
    assert (entry["vendor"], entry["operation"], entry["method"]) == ("clevertap", "send_push", "POST")
    assert entry["path"] == "/1/send/push.json"
    assert entry["query"] == {"trace": "1"}
    assert entry["headers"]["X-CleverTap-Passcode"] == "PASSCODE"
    assert entry["body"] == PUSH
    assert entry["status"] == 200 and entry["response"] == body
    assert datetime.fromisoformat(entry["received_at"].replace("Z", "+00:00")).tzinfo is not None
    assert entry["duration_ms"] >= 0


async def test_entry_keeps_the_answers_headers(api) -> None:
    status, _, sent = await api.call("POST", "/1/send/push.json", json=PUSH, headers=CLEVERTAP_HEADERS)
    assert status == 200
    await api.call("POST", "/messages/send", json={"external_user_ids": ["x"], "messages": {}},
                   headers={"Authorization": "Bearer some-braze-key", "Content-Type": "application/json"})
    clevertap, braze = await api.requests()
    assert clevertap["response_headers"] == {"Content-Type": sent["Content-Type"]}
    assert clevertap["response_headers"]["Content-Type"] == "application/json;charset=utf-8"
    headers = braze["response_headers"]
    assert headers["Content-Type"].startswith("application/json")
    assert headers["X-Ratelimit-Limit"] == "250000" and int(headers["X-Ratelimit-Remaining"]) < 250000
    assert headers["X-Request-Id"] and braze["status"] == 400  # an empty messages object: rejected, still headed


async def test_rejected_and_malformed_requests_are_journaled(api) -> None:
    await api.call("POST", "/1/send/push.json", data=b"{not json", headers=CLEVERTAP_HEADERS)
    await api.call("POST", "/1/send/push.json", json=PUSH, headers={"X-CleverTap-Account-Id": "ACC2"})
    await api.call("GET", "/nowhere/at/all")
    await api.call("DELETE", "/clevertap/1/send/sms.json", headers=CLEVERTAP_HEADERS)
    entries = await api.requests()
    assert [(e["status"], e["operation"], e["vendor"]) for e in entries] == [
        (400, "send_push", "clevertap"), (401, "send_push", "clevertap"), (404, None, None),
        (405, None, "clevertap")]
    assert entries[0]["raw_body"] == "{not json" and entries[0]["body"] is None
    assert entries[1]["tenant"] == "ACC2"
    assert entries[2]["response"] == {"error": {"kind": "not_found", "message": "no route for GET /nowhere/at/all",
                                                "details": None}}


async def test_ids_increase_and_get_one(api) -> None:
    for _ in range(3):
        await api.call("POST", "/1/send/push.json", json=PUSH, headers=CLEVERTAP_HEADERS)
    ids = [e["id"] for e in await api.requests()]
    assert ids == sorted(ids) and len(set(ids)) == 3
    one = await api.control("GET", f"/requests/{ids[1]}")
    assert one["id"] == ids[1]
    status, body, _ = await api.call("GET", "/_sandbox/requests/999999")
    assert status == 404 and body["error"]["kind"] == "not_found"


async def test_filters(api) -> None:
    other = dict(CLEVERTAP_HEADERS, **{"X-CleverTap-Account-Id": "OTHER"})
    await api.call("POST", "/1/send/push.json", json=PUSH, headers=CLEVERTAP_HEADERS)
    await api.call("POST", "/1/send/sms.json", json={"to": {"Identity": ["x"]}, "content": {"body": "b"}},
                   headers=other)
    await api.call("POST", "/1/send/sms.json", json={"content": {"body": "b"}}, headers=other)
    assert len(await api.requests(operation="send_sms")) == 2
    assert len(await api.requests(tenant="OTHER", status=400)) == 1
    assert len(await api.requests(method="post", vendor="clevertap")) == 3
    assert [e["operation"] for e in await api.requests(**{"body.to.Identity": "JohnDoe"})] == ["send_push"]
    assert len(await api.requests(**{"body.content.body": "b"})) == 2
    assert await api.requests(**{"body.to.Identity.²": "JohnDoe"}) == []  # not an index: no match, no 500
    first = (await api.requests())[0]["id"]
    assert len(await api.requests(after=first)) == 2
    assert [e["id"] for e in await api.requests(limit=1)] == [first]
    listing = await api.control("GET", "/requests", params={"limit": "1"})
    assert listing["total"] == 3 and len(listing["requests"]) == 1


async def test_clear_and_reset_per_tenant(api) -> None:
    other = dict(CLEVERTAP_HEADERS, **{"X-CleverTap-Account-Id": "OTHER"})
    await api.call("POST", "/1/send/push.json", json=PUSH, headers=CLEVERTAP_HEADERS)
    await api.call("POST", "/1/send/push.json", json=PUSH, headers=other)
    cleared = await api.control("DELETE", "/requests", params={"tenant": "OTHER"})
    assert cleared == {"cleared": 1, "tenant": "OTHER"}
    assert [e["tenant"] for e in await api.requests()] == ["ACCOUNT_ID"]
    await api.control("POST", "/reset")
    assert await api.requests() == []


async def test_concurrent_requests_are_neither_lost_nor_mixed(api) -> None:
    async def send(n: int) -> None:
        headers = dict(CLEVERTAP_HEADERS, **{"X-CleverTap-Account-Id": f"acct-{n % 7}"})
        body = {"to": {"Identity": [f"user-{n}"]}, "content": {"title": f"t{n}", "body": "b"}}
        status, _, _ = await api.call("POST", "/1/send/push.json", json=body, headers=headers)
        assert status == 200

    await asyncio.gather(*(send(n) for n in range(300)))
    entries = await api.requests()
    assert len(entries) == 300
    assert len({e["id"] for e in entries}) == 300
    for e in entries:
        n = int(e["body"]["to"]["Identity"][0].split("-")[1])
        assert e["body"]["content"]["title"] == f"t{n}"
        assert e["tenant"] == f"acct-{n % 7}"


async def test_routes_and_health(api) -> None:
    routes = await api.control("GET", "/routes")
    push = next(r for r in routes["routes"] if r["operation"] == "send_push")
    assert push == {"vendor": "clevertap", "operation": "send_push", "method": "POST",
                    "path": "/1/send/push.json", "schema": "schemas/clevertap/send_push.json"}
    health = await api.control("GET", "/health")
    assert health["status"] == "ok" and "clevertap" in health["vendors"]
    assert health["journal"] == {"size": 0, "limit": 100_000, "evicted": 0, "bytes": 0, "max_bytes": 256 * 1024 * 1024}


async def test_an_unexpected_handler_error_is_the_vendors_5xx_and_is_remembered(api, monkeypatch) -> None:
    if not hasattr(api.client, "server"):
        pytest.skip("breaks a handler of the in-process app")
    from sandbox.core import keys

    provider = next(p for p in api.client.server.app[keys.PROVIDERS] if p.name == "clevertap")
    op = next(o for o in provider.operations() if o.name == "send_push")

    async def broken(call):
        raise RuntimeError("boom")

    endpoint = next(r.handler for r in api.client.server.app.router.routes()
                    if getattr(r.handler, "endpoint", None) and r.handler.endpoint.operation.name == "send_push")
    monkeypatch.setattr(endpoint.endpoint, "operation", dataclasses.replace(op, handler=broken))
    status, body, _ = await api.call("POST", "/1/send/push.json", json=PUSH, headers=CLEVERTAP_HEADERS)
    assert (status, body) == (500, {"status": "fail", "error": "Unexpected error, please try again", "code": 89})
    failures = (await api.control("GET", "/failures"))["failures"]
    assert failures and "RuntimeError: boom" in failures[-1]["traceback"]
    assert api.client.server.app[keys.FAILURES].maxlen == keys.FAILURES_KEPT  # bounded: the oldest go first
    [entry] = await api.requests()
    assert entry["status"] == 500 and entry["operation"] == "send_push"
