"""``GET /_sandbox/requests.har``: the journal as HAR 1.2, same filters, credentials masked unless mask=0."""

from __future__ import annotations

import json

from support.http import CLEVERTAP_HEADERS

from sandbox.records.har import to_har

PUSH = {"to": {"Identity": ["JohnDoe"]}, "content": {"title": "Hi", "body": "There"}}
LONG_PASSCODE = "PASSCODE-0123456789"


async def test_har_export_of_the_journal(api) -> None:
    headers = {**CLEVERTAP_HEADERS, "X-CleverTap-Passcode": LONG_PASSCODE}
    await api.call("POST", "/1/send/push.json", json=PUSH, headers=headers, params={"trace": "1"})
    await api.call("POST", "/1/send/sms.json", data=b"{not json", headers=headers)
    [push, sms] = await api.requests()
    status, har, _ = await api.call("GET", "/_sandbox/requests.har")
    assert status == 200
    assert har["log"]["version"] == "1.2"
    assert har["log"]["creator"]["name"] == "campaign-sandbox"
    first, second = har["log"]["entries"]
    request = first["request"]
    assert request["method"] == "POST"
    assert request["url"].startswith("http://") and request["url"].endswith("/1/send/push.json?trace=1")
    assert request["queryString"] == [{"name": "trace", "value": "1"}]
    assert {"name": "X-CleverTap-Passcode", "value": "***6789"} in request["headers"]
    assert {"name": "X-CleverTap-Account-Id", "value": "ACCOUNT_ID"} in request["headers"]
    assert json.loads(request["postData"]["text"]) == PUSH
    assert request["postData"]["mimeType"] == "application/json"
    assert first["response"]["status"] == 200 and first["response"]["statusText"] == "OK"
    assert json.loads(first["response"]["content"]["text"]) == push["response"]
    assert first["response"]["content"]["mimeType"] == "application/json"
    assert first["response"]["headers"] == [{"name": "Content-Type", "value": "application/json;charset=utf-8"}]
    assert first["startedDateTime"] == push["received_at"]
    assert (first["_id"], first["_vendor"], first["_operation"], first["_tenant"]) == (
        push["id"], "clevertap", "send_push", "ACCOUNT_ID")
    assert second["request"]["postData"]["text"] == "{not json"
    assert second["response"]["status"] == 400 and second["_id"] == sms["id"]


async def test_har_filters_and_unmasked_export(api) -> None:
    headers = {**CLEVERTAP_HEADERS, "X-CleverTap-Passcode": LONG_PASSCODE}
    await api.call("POST", "/1/send/push.json", json=PUSH, headers=headers)
    await api.call("POST", "/1/send/sms.json", json={"to": {"Identity": ["x"]}, "content": {"body": "b"}},
                   headers=headers)
    _, har, _ = await api.call("GET", "/_sandbox/requests.har", params={"operation": "send_sms", "mask": "0"})
    [entry] = har["log"]["entries"]
    assert entry["_operation"] == "send_sms"
    assert {"name": "X-CleverTap-Passcode", "value": LONG_PASSCODE} in entry["request"]["headers"]
    _, empty, _ = await api.call("GET", "/_sandbox/requests.har", params={"tenant": "nobody"})
    assert empty["log"]["entries"] == []


def test_bearer_keys_query_keys_and_body_keys_are_masked_and_so_is_a_tenant_named_by_them() -> None:
    key = "0f3c1e5a-aaaa-bbbb-cccc-1234567890ab"
    entry = {"id": 1, "received_at": "2026-01-01T00:00:00.000Z", "tenant": key, "vendor": "v", "operation": "op",
             "method": "POST", "path": "/x", "query": {"api_key": key, "page": "2"},
             "headers": {"Host": "sandbox:8080", "Authorization": f"Bearer {key}",
                         "Content-Type": "application/x-www-form-urlencoded"},
             "body": {"apikey": key, "name": "n"}, "raw_body": f"apikey={key}&name=n", "status": 201,
             "response": None, "response_text": "created", "duration_ms": 1.5,
             "response_headers": {"Content-Type": "text/plain", "Set-Cookie": "session=abcdefghijklmnop"}}
    [har] = to_har([entry])["log"]["entries"]
    assert har["response"]["headers"] == [{"name": "Content-Type", "value": "text/plain"},
                                          {"name": "Set-Cookie", "value": "***mnop"}]
    assert har["request"]["url"] == "http://sandbox:8080/x?api_key=%2A%2A%2A90ab&page=2"
    assert {"name": "Authorization", "value": "***90ab"} in har["request"]["headers"]
    assert har["request"]["postData"] == {"mimeType": "application/x-www-form-urlencoded",
                                          "text": "apikey=%2A%2A%2A90ab&name=n"}
    assert har["_tenant"] == "***90ab"
    assert har["response"]["content"] == {"size": 7, "mimeType": "text/plain", "text": "created"}
    assert har["response"]["statusText"] == "Created"
    assert key not in json.dumps(har)
    [plain] = to_har([entry], mask=False)["log"]["entries"]
    assert plain["_tenant"] == key and plain["request"]["postData"]["text"] == entry["raw_body"]
