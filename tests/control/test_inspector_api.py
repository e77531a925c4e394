"""The inspector's own endpoints over HTTP: the page and its files, the live feed (server-sent events), a request
with credentials masked, the HAR of a filter, the population summary, and what each vendor holds."""

from __future__ import annotations

import asyncio
from typing import Any

import orjson
import pytest
from support.browser import BRAZE_HEADERS, push
from support.http import DEFAULT_SETTINGS, Api

from sandbox.app import create_app
from sandbox.core import keys


async def read_events(response: Any, count: int) -> list[dict[str, Any]]:
    """The next ``count`` ``rows`` events of a live feed, parsed."""
    events: list[dict[str, Any]] = []
    buffer = b""
    while len(events) < count:
        buffer += await asyncio.wait_for(response.content.readany(), 10)
        while b"\n\n" in buffer:
            block, buffer = buffer.split(b"\n\n", 1)
            data = [line[6:] for line in block.split(b"\n") if line.startswith(b"data: ")]
            if data:
                events.append(orjson.loads(b"\n".join(data)))
    return events


async def test_the_page_and_its_files_are_served(api: Api) -> None:
    for path, kind in (("/_sandbox/ui", "text/html"), ("/_sandbox/ui/static/app.js", "text/javascript"),
                       ("/_sandbox/ui/static/app.css", "text/css")):
        async with api.client.get(path) as resp:
            assert (resp.status, resp.content_type) == (200, kind)
    status, body, _ = await api.call("GET", "/_sandbox/ui/static/nope.js")
    assert status == 404 and body["error"]["kind"] == "not_found"


async def test_root_redirects_browsers_only(api: Api) -> None:
    async with api.client.get("/?tenant=t1", headers={"Accept": "text/html"}, allow_redirects=False) as resp:
        assert (resp.status, resp.headers["Location"]) == (302, "/_sandbox/ui?tenant=t1")
    status, body, _ = await api.call("GET", "/")
    assert status == 404 and body["error"]["kind"] == "not_found"
    status, _, _ = await api.call("POST", "/", headers={"Accept": "text/html"})
    assert status == 404
    assert [e["path"] for e in await api.requests()] == ["/", "/"]  # API clients' calls are journaled as before


async def test_the_live_feed_sends_the_backlog_then_new_matching_requests(api: Api) -> None:
    await push(api, "before", account="A")
    await push(api, "other tenant", account="B")
    async with api.client.get("/_sandbox/ui/live", params={"tenant": "A"}) as resp:
        assert resp.headers["Content-Type"] == "text/event-stream"
        [backlog] = await read_events(resp, 1)
        assert [r["tenant"] for r in backlog["rows"]] == ["A"]
        assert set(backlog["rows"][0]) == {"id", "received", "vendor", "operation", "method", "path", "status",
                                           "tenant", "duration_ms"}
        await push(api, "not shown", account="B")
        await push(api, "after", account="A")
        [live] = await read_events(resp, 1)
        assert [(r["tenant"], r["operation"], r["status"]) for r in live["rows"]] == [("A", "send_push", 200)]
        assert live["last"] == live["rows"][-1]["id"]


async def test_the_live_feed_resumes_after_the_last_event_id(api: Api) -> None:
    await push(api, "one")
    await push(api, "two")
    first = (await api.requests())[0]["id"]
    async with api.client.get("/_sandbox/ui/live", headers={"Last-Event-ID": str(first)}) as resp:
        [event] = await read_events(resp, 1)
    assert [r["id"] for r in event["rows"]] == [first + 1]


@pytest.mark.parametrize(("query", "expected"), [
    ({"class": "rejected"}, ["/messages/send"]),
    ({"class": "2xx"}, ["/1/send/push.json"]),
    ({"vendor": "braze"}, ["/messages/send"]),
    ({"q": "HELLO there"}, ["/1/send/push.json"]),
    ({"q": "nowhere"}, []),
])
async def test_filters_of_the_list_and_its_har(api: Api, query: dict[str, str], expected: list[str]) -> None:
    await push(api, "hello there")
    await api.call("POST", "/messages/send", json={}, headers={"Content-Type": "application/json"})
    async with api.client.get("/_sandbox/ui/live", params=query) as resp:
        [event] = await read_events(resp, 1)
    assert [r["path"] for r in event["rows"]] == expected
    async with api.client.get("/_sandbox/ui/requests.har", params=query) as resp:
        assert resp.headers["Content-Disposition"].startswith("attachment")
        har = await resp.json()
    assert [e["request"]["url"].split("/", 3)[3] for e in har["log"]["entries"]] == [p[1:] for p in expected]


async def test_a_bad_filter_is_explained(api: Api) -> None:
    status, body, _ = await api.call("GET", "/_sandbox/ui/live", params={"class": "9xx"})
    assert status == 400 and "class must be one of" in body["error"]["message"]
    status, body, _ = await api.call("GET", "/_sandbox/ui/live", params={"after": "x"})
    assert status == 400


async def test_the_detail_masks_credentials_and_keeps_notes(api: Api) -> None:
    key = "BRAZE-KEY-0123456789"
    body = {"external_user_ids": ["nobody"], "messages": {}, "api_key": "in-the-body-secret"}
    await api.call("POST", "/messages/send", json=body, headers=BRAZE_HEADERS)
    entry = (await api.requests())[0]
    detail = await api.control("GET", f"/ui/requests/{entry['id']}")
    text = orjson.dumps(detail).decode()
    assert key not in text and "in-the-body-secret" not in text
    assert dict(detail["headers"])["Authorization"] == "***6789"
    assert detail["tenant"] == "***6789"
    assert detail["body"]["external_user_ids"] == ["nobody"] and detail["body_parsed"] is True
    assert detail["status"] == entry["status"] and detail["response"] == entry["response"]
    assert detail["url"].endswith("/messages/send") and detail["notes"] == {}
    answer_headers = dict(detail["response_headers"])
    assert answer_headers["Content-Type"].startswith("application/json") and "X-Ratelimit-Remaining" in answer_headers
    async with api.client.get("/_sandbox/ui/live") as resp:
        [event] = await read_events(resp, 1)
    assert event["rows"][0]["tenant"] == "***6789"  # the list masks a tenant named by its key too
    status, _, _ = await api.call("GET", "/_sandbox/ui/requests/999999")
    assert status == 404


async def test_population_summary(api: Api) -> None:
    summary = await api.control("GET", "/ui/population")
    size = summary["population"]["size"]
    assert summary["counted_profiles"] == size
    assert sum(summary["tiers"].values()) == size
    assert summary["reach"]["email"]["email"] <= size and set(summary["reach"]["push"]) <= {"android", "ios"}
    assert summary["top_events"] and all(n > 0 for n in summary["top_events"].values())


async def test_what_each_vendor_holds(api: Api) -> None:
    ct = await api.control("GET", "/ui/vendors/clevertap")
    assert ct["vendor"] == "clevertap" and ct["dashboard_campaigns"] == len(ct["collections"]["campaigns"])
    assert ct["state"] == {"api_campaigns": []} and ct["collections"]["segments"]
    braze = await api.control("GET", "/ui/vendors/braze", params={"tenant": "nobody"})
    assert braze["state"]["schedules"] == [] and braze["collections"]["campaigns"]
    netcore = await api.control("GET", "/ui/vendors/netcore")
    assert len(netcore["collections"]["templates"]) == netcore["templates"]
    assert netcore["state"]["api_campaigns"] == []
    status, body, _ = await api.call("GET", "/_sandbox/ui/vendors/nope")
    assert status == 404 and body["error"]["details"]["vendors"] == ["clevertap", "braze", "netcore"]


async def test_scheduled_campaigns_show_their_due_time(api: Api) -> None:
    headers = {"X-CleverTap-Account-Id": "ACCOUNT_ID", "X-CleverTap-Passcode": "PASSCODE",
               "Content-Type": "application/json"}
    create = {"name": "later", "when": "20991231 10:00", "where": {}, "devices": ["android"],
              "content": {"title": "t", "body": "b", "platform_specific": {"android": {"wzrk_cid": "engagement"}}}}
    status, answer, _ = await api.call("POST", "/1/targets/create.json", json=create, headers=headers)
    assert status == 200, answer
    [campaign] = (await api.control("GET", "/ui/vendors/clevertap", params={"tenant": "ACCOUNT_ID"}))[
        "state"]["api_campaigns"]
    assert (campaign["name"], campaign["status"], campaign["runs_at"][:4]) == ("later", "pending", "2099")


async def test_shutdown_ends_live_views(aiohttp_client: Any) -> None:
    app = create_app(DEFAULT_SETTINGS)
    client = await aiohttp_client(app)
    async with client.get("/_sandbox/ui/live") as resp:
        await read_events(resp, 1)
        await app.shutdown()  # what Ctrl-C runs first: the feed must end, not hold the server open
        assert await asyncio.wait_for(resp.content.read(), 10) == b""


async def test_journal_notes_and_hints_reach_the_detail(aiohttp_client: Any) -> None:
    app = create_app(DEFAULT_SETTINGS)
    api = Api(await aiohttp_client(app))
    await push(api, "noted")
    entry = app[keys.JOURNAL].get((await api.requests())[0]["id"])
    entry.notes = ("provisioned clevertap campaigns '7' (learn mode)",)
    detail = await api.control("GET", f"/ui/requests/{entry.id}")
    assert detail["notes"] == {"notes": ["provisioned clevertap campaigns '7' (learn mode)"]}


async def test_a_reset_lists_the_journal_afresh(api: Api) -> None:
    await push(api, "before the reset", account="A")
    await push(api, "kept", account="B")
    async with api.client.get("/_sandbox/ui/live") as resp:
        [backlog] = await read_events(resp, 1)
        assert len(backlog["rows"]) == 2 and backlog["reset"] is False
        await api.control("POST", "/reset", params={"tenant": "A"})
        [fresh] = await read_events(resp, 1)
    assert fresh["reset"] is True and [r["tenant"] for r in fresh["rows"]] == ["B"]


async def test_an_injected_fault_is_shown_with_the_request(api: Api) -> None:
    await api.control("POST", "/faults", json={"vendor": "clevertap", "operation": "send_push", "status": 503,
                                               "times": 1})
    status, _ = await push(api, "faulted")
    assert status == 503
    detail = await api.control("GET", f"/ui/requests/{(await api.requests())[0]['id']}")
    assert detail["status"] == 503 and set(detail["notes"]) == {"fault"}
