"""Issue 14's reproducers: bad input never breaks the server, memory stays bounded, the control API is
guarded, credentials never leak into exports. Each was a 500, a leak or unbounded growth before."""

from __future__ import annotations

import dataclasses
import gzip
import json
import zlib
from pathlib import Path
from typing import Any

import pytest
from support.http import CLEVERTAP_HEADERS, DEFAULT_SETTINGS, Api, raw_exchange

from sandbox.app import create_app
from sandbox.core import keys
from sandbox.core.accounts import AccountsError
from sandbox.settings import Settings

SMS = {"to": {"Identity": ["someone"]}, "content": {"body": "hello"}}
NETCORE_V4 = {"api-key": "NETCORE-KEY-0001", "Content-Type": "application/json"}
CLEVERTAP_INVALID_JSON = {"status": "fail", "error": "Invalid JSON payload", "code": 78}


async def started(aiohttp_client: Any, **changes: Any) -> Api:
    return Api(await aiohttp_client(create_app(dataclasses.replace(DEFAULT_SETTINGS, **changes))))


def nested(depth: int) -> bytes:
    return b'{"to":' + b"[" * depth + b"1" + b"]" * depth + b"}"


# -- bad input never breaks the server -----------------------------------------------------------
@pytest.mark.parametrize("depth", [100, 251, 600, 1023])
async def test_deep_json_gets_the_vendors_invalid_json_error_and_the_journal_still_renders(api, depth) -> None:
    status, body, _ = await api.call("POST", "/1/send/sms.json", data=nested(depth), headers=CLEVERTAP_HEADERS)
    assert (status, body) == (400, CLEVERTAP_INVALID_JSON)
    [entry] = await api.requests()
    assert entry["status"] == 400 and entry["body"] is None and entry["raw_body"].startswith('{"to":[[[')
    status, har, _ = await api.call("GET", "/_sandbox/requests.har")
    assert status == 200 and len(har["log"]["entries"]) == 1


async def test_deep_json_on_the_control_api_is_a_400(api) -> None:
    status, body, _ = await api.call("POST", "/_sandbox/audience/estimate", data=b'{"tree":' + nested(300) + b"}")
    assert status == 400 and body["error"]["kind"] == "bad_request" and "nested deeper" in body["error"]["message"]


@pytest.mark.parametrize("coding", ["gzip", "deflate", "x-gzip"])
async def test_compressed_bodies_are_decoded_and_journaled_decoded(api, coding) -> None:
    raw = json.dumps(SMS).encode()
    data = zlib.compress(raw) if coding == "deflate" else gzip.compress(raw)
    status, body, _ = await api.call("POST", "/1/send/sms.json", data=data,
                                     headers={**CLEVERTAP_HEADERS, "Content-Encoding": coding})
    assert status == 200, body
    [entry] = await api.requests()
    assert entry["body"] == SMS and entry["status"] == 200


UNDECODABLE = [("gzip", b"not gzip at all"), ("gzip", gzip.compress(b"{}", mtime=0)[:-4]), ("deflate", b"\x00\x01"),
               ("br", b"\x0b\x02\x80{}\x03"), ("zstd", b"(\xb5/\xfd")]


@pytest.mark.parametrize(("coding", "data"), UNDECODABLE,
                         ids=["gzip-garbage", "gzip-truncated", "deflate-garbage", "br", "zstd"])
async def test_undecodable_bodies_get_the_vendors_400_and_are_journaled(api, coding, data) -> None:
    status, body, _ = await api.call("POST", "/1/send/sms.json", data=data,
                                     headers={**CLEVERTAP_HEADERS, "Content-Encoding": coding})
    assert (status, body) == (400, CLEVERTAP_INVALID_JSON)
    [entry] = await api.requests()
    assert entry["status"] == 400 and entry["operation"] == "send_sms"
    status, body, _ = await api.call("POST", "/_sandbox/audience/estimate", data=data,
                                     headers={"Content-Encoding": coding})
    assert status == 400 and body["error"]["kind"] == "invalid_body"


async def test_a_gzip_bomb_is_refused_as_too_large(aiohttp_client) -> None:
    api = await started(aiohttp_client, max_body_size=10_000)
    bomb = gzip.compress(b'{"to": "' + b"a" * 1_000_000 + b'"}')
    status, body, _ = await api.call("POST", "/1/send/sms.json", data=bomb,
                                     headers={**CLEVERTAP_HEADERS, "Content-Encoding": "gzip"})
    assert status == 413 and body["status"] == "fail"


async def test_netcore_v4_campaign_list_with_a_page_size_json_cannot_echo_is_a_400(api) -> None:
    status, body, _ = await api.call("POST", "/v4/campaign/list", data=b'{"page_size": 1e23, "page_no": 1}',
                                     headers=NETCORE_V4)
    assert status == 400, body
    assert body["data"]["field"] == "page_size"


async def test_clevertap_operator_given_as_a_list_is_a_400(api) -> None:
    where = {"common_profile_properties": {"profile_fields": [
        {"name": "Customer Type", "operator": ["equals"], "value": "Gold"}]}}
    status, body, _ = await api.call("POST", "/_sandbox/audience/estimate",
                                     json={"vendor": "clevertap", "audience": where})
    assert status == 400 and body["error"]["kind"] == "bad_request"
    campaign = {"name": "c", "target_mode": "sms", "where": where, "content": {"body": "b"}, "when": "now"}
    status, body, _ = await api.call("POST", "/1/targets/create.json", json=campaign, headers=CLEVERTAP_HEADERS)
    assert 400 <= status < 500 and body["status"] == "fail", body


@pytest.mark.parametrize("sample", ["all", None, -1, 2.5, True])
async def test_estimate_sample_that_is_not_a_count_is_a_400(api, sample) -> None:
    status, body, _ = await api.call("POST", "/_sandbox/audience/estimate",
                                     json={"tree": {"all": []}, "sample": sample})
    assert status == 400 and "sample" in body["error"]["message"], body


@pytest.mark.parametrize("path", ["/_sandbox/requests/%C2%B2", "/_sandbox/requests/%D9%A3",
                                  "/_sandbox/requests/99999999999999999999999999"])
async def test_entry_ids_that_are_unicode_digits_or_huge_are_404(api, path) -> None:
    status, body, _ = await api.call("GET", path)
    assert status == 404 and body["error"]["kind"] == "not_found"


@pytest.mark.parametrize("query", ["limit=1e9", "after=abc", "wait=inf", "wait=nan", "limit=0"])
async def test_bad_journal_query_parameters_are_400s(api, query) -> None:
    status, body, _ = await api.call("GET", "/_sandbox/requests?" + query)
    assert status == 400 and body["error"]["kind"] == "bad_request", (query, body)


@pytest.mark.parametrize(("accounts", "words"), [
    ({"clevertap": ["ACC1"]}, ["$.clevertap", "an array", "<passcode>"]),
    ({"clevertap": {"ACC1": {"passcode": "x"}}}, ['$.clevertap["ACC1"]', "an object"]),
    ({"netcore": {"KEY": ["client"]}}, ['$.netcore["KEY"]', "<clientid>"]),
    ({"netcore": "KEY"}, ["$.netcore", "a string"]),
    ({"braze": {"KEY": "workspace"}}, ['$.braze["KEY"]']),
    ({"clevertap": {"": "x"}}, ["empty credential"]),
])
def test_malformed_accounts_sections_stop_startup_naming_the_path(tmp_path: Path, accounts, words) -> None:
    path = tmp_path / "accounts.json"
    path.write_text(json.dumps(accounts))
    with pytest.raises(AccountsError) as caught:
        create_app(Settings(accounts=path, population_size=50))
    for word in words:
        assert word in str(caught.value), (word, str(caught.value))


# -- memory and time stay bounded ----------------------------------------------------------------
async def test_control_routes_have_the_body_limit_too(aiohttp_client) -> None:
    api = await started(aiohttp_client, max_body_size=1_000)
    for path in ("/_sandbox/clock", "/_sandbox/audience/estimate", "/_sandbox/vendors/braze/campaigns"):
        status, body, _ = await api.call("POST", path, data=b'{"tree": "' + b"x" * 5_000 + b'"}')
        assert status == 413 and body["error"]["kind"] == "payload_too_large", (path, body)

    async def chunks():
        for _ in range(20):
            yield b"x" * 100  # no Content-Length: the limit still holds while reading
    async with api.client.post("/_sandbox/audience/estimate", data=chunks()) as resp:
        assert resp.status == 413


async def test_a_declared_content_length_over_the_limit_is_answered_413_without_sending_the_body(
        aiohttp_client) -> None:
    api = await started(aiohttp_client, max_body_size=1_000)
    for path, shape in (("/1/send/sms.json", b'"status":"fail"'), ("/_sandbox/clock", b'"payload_too_large"')):
        head = (f"POST {path} HTTP/1.1\r\nHost: x\r\nX-CleverTap-Account-Id: A\r\nX-CleverTap-Passcode: P\r\n"
                f"Content-Type: application/json\r\nContent-Length: {10**12}\r\n\r\n").encode()
        answer = await raw_exchange(api.client, head)  # the body never comes: the answer must not wait for it
        assert answer.startswith(b"HTTP/1.1 413") and shape in answer, answer[:300]
    [entry] = await api.requests()
    assert entry["status"] == 413 and entry["raw_body"] == ""


async def test_idle_connections_and_half_sent_requests_time_out(aiohttp_client) -> None:
    api = await started(aiohttp_client, request_timeout=0.5)
    assert await raw_exchange(api.client, b"") == b""  # idle: closed by the server
    assert await raw_exchange(api.client, b"POST /1/send/sms.json HTTP/1.1\r\nHost: x\r\n") == b""
    half = (b"POST /1/send/sms.json HTTP/1.1\r\nHost: x\r\nX-CleverTap-Account-Id: A\r\nX-CleverTap-Passcode: P\r\n"
            b"Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"to\":")
    answer = await raw_exchange(api.client, half)
    assert answer.startswith(b"HTTP/1.1 400") and b'"code":78' in answer
    [entry] = await api.requests()
    assert entry["status"] == 400 and entry["raw_body"] == '{"to":'


async def test_the_journal_is_bounded_by_bytes_evicting_oldest_first(aiohttp_client) -> None:
    api = await started(aiohttp_client, journal_max_bytes=200_000)
    big = {"to": {"Identity": ["x"]}, "content": {"body": "b" * 40_000}}
    for _ in range(12):
        await api.call("POST", "/1/send/sms.json", json=big, headers=CLEVERTAP_HEADERS)
    health = await api.control("GET", "/health")
    journal = health["journal"]
    assert journal["bytes"] <= journal["max_bytes"] == 200_000
    assert journal["size"] + journal["evicted"] == 12 and journal["evicted"] >= 7
    ids = [e["id"] for e in await api.requests()]
    assert ids == list(range(13 - len(ids), 13))


async def test_requests_are_paged_with_a_cursor(aiohttp_client) -> None:
    api = await started(aiohttp_client)
    for n in range(130):
        await api.call("POST", "/1/send/sms.json", json={**SMS, "to": {"Identity": [str(n)]}},
                       headers=CLEVERTAP_HEADERS)
    first = await api.control("GET", "/requests")
    assert len(first["requests"]) == 100 and first["total"] == 130 and first["next"] == 100
    rest = await api.control("GET", "/requests", params={"after": str(first["next"])})
    assert [e["id"] for e in rest["requests"]] == list(range(101, 131)) and rest["next"] is None
    small = await api.control("GET", "/requests", params={"limit": "7", "operation": "send_sms"})
    assert len(small["requests"]) == 7 and small["next"] == 7
    status, har, _ = await api.call("GET", "/_sandbox/requests.har")
    assert status == 200 and [e["_id"] for e in har["log"]["entries"]] == list(range(1, 131))


async def test_frequency_cap_history_keeps_only_what_the_cap_needs(api, external_url) -> None:
    if external_url is not None:
        pytest.skip("reads the in-process app's CleverTap state")
    profile = (await api.control("GET", "/profiles", params={"limit": "1"}))["profiles"][0]
    identity = str(profile["identity"])
    for _ in range(40):
        status, _, _ = await api.call("POST", "/1/send/email.json",
                                      json={"to": {"Identity": [identity]}, "content": {"subject": "s", "body": "b"}},
                                      headers=CLEVERTAP_HEADERS)
        assert status == 200
    delivered = (await api.control("GET", "/deliveries", params={"user": identity}))["deliveries"]
    app = api.client.server.app
    clevertap = next(p for p in app[keys.PROVIDERS] if p.name == "clevertap")
    history = clevertap.state.tenant("ACCOUNT_ID").sent.get(identity, ())
    assert len(delivered) <= 10 and len(history) <= 10  # the packaged cap: 10 messages a day


# -- the control API is guarded when exposed -----------------------------------------------------
async def test_the_control_token_guards_every_control_route_but_health(aiohttp_client) -> None:
    api = await started(aiohttp_client, control_token="s3cret-token")
    for method, path in (("GET", "/_sandbox/requests"), ("POST", "/_sandbox/reset"), ("GET", "/_sandbox/routes"),
                         ("GET", "/_sandbox/requests.har"), ("POST", "/_sandbox/clock"), ("GET", "/_sandbox/x")):
        status, body, _ = await api.call(method, path)
        assert status == 401 and body["error"]["kind"] == "unauthorized", (path, body)
        status, _, _ = await api.call(method, path, headers={"Authorization": "Bearer wrong"})
        assert status == 401
    assert (await api.call("GET", "/_sandbox/requests", headers={"Authorization": "Bearer s3cret-token"}))[0] == 200
    assert (await api.call("GET", "/_sandbox/requests", headers={"X-Sandbox-Token": "s3cret-token"}))[0] == 200
    status, health, _ = await api.call("GET", "/_sandbox/health")
    assert status == 200 and health["settings"]["control_token"] == "***"
    assert "s3cret-token" not in json.dumps(health)
    status, _, _ = await api.call("POST", "/1/send/sms.json", json=SMS, headers=CLEVERTAP_HEADERS)
    assert status == 200  # vendor routes are not guarded by it


async def test_credentials_never_leak_into_exports(aiohttp_client, tmp_path: Path) -> None:
    accounts = tmp_path / "accounts.json"
    accounts.write_text(json.dumps({"braze": {"PROD-1234-5678-abcd": {"workspace": "prod"}}}))
    api = await started(aiohttp_client, accounts=accounts)
    wrong = "PROD-9999-8888-wxyz"
    status, body, _ = await api.call("POST", "/messages/send", json={"messages": {}},
                                     headers={"Authorization": f"Bearer {wrong}", "Content-Type": "application/json"})
    assert status == 401 and wrong in json.dumps(body)  # Braze echoes the key: the export must not
    await api.call("POST", "/1/send/sms.json", data=b'{"api_key": "KEY-NOT-PARSED-0001", broken',
                   headers=CLEVERTAP_HEADERS)
    await api.call("POST", "/1/send/sms.json", headers=CLEVERTAP_HEADERS,
                   json={**SMS, "settings": {"smtp": {"password": "hunter2-hunter2"}, "auth": {"token": "tok-12345"}},
                         "api_key": "TOP-LEVEL-KEY-77"})
    _, har, _ = await api.call("GET", "/_sandbox/requests.har")
    masked = (await api.control("GET", "/requests", params={"mask": "1"}))["requests"]
    one = await api.control("GET", "/requests/3", params={"mask": "1"})
    inspector = [await api.control("GET", f"/ui/requests/{n}") for n in (1, 2, 3)]
    secrets = (wrong, "KEY-NOT-PARSED-0001", "hunter2-hunter2", "tok-12345", "TOP-LEVEL-KEY-77")
    for export in (json.dumps(har), json.dumps(masked), json.dumps(inspector)):
        for secret in secrets:
            assert secret not in export, (secret, export[:500])
    assert not any(secret in json.dumps(one) for secret in secrets)
    assert one["body"]["settings"]["smtp"]["password"].startswith("***")
    plain = await api.control("GET", "/requests")
    assert wrong in json.dumps(plain)  # without mask=1 the journal shows what was sent
