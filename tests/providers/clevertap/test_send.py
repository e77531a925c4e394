"""CleverTap Message Identity API (send/*.json): rules beyond the golden pairs."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from support.http import CLEVERTAP_HEADERS

from sandbox.settings import Settings

ACCEPTED = {"status": "success", "message": "Added to queue for processing"}


def fail(error: str, code: int) -> dict:
    return {"status": "fail", "error": error, "code": code}


@pytest.mark.parametrize("channel", ["push", "webpush", "email", "sms", "whatsapp"])
async def test_every_channel_is_served_at_root_and_under_vendor_prefix(api, channel: str) -> None:
    content = {"push": {"title": "t", "body": "b"}, "webpush": {"title": "t", "body": "b"},
               "email": {"subject": "s", "body": "<p>b</p>"}, "sms": {"body": "b"},
               "whatsapp": {"template_name": "ns:ticket_update", "replacements": {"1": "x"}}}[channel]
    payload = {"to": {"Email": ["a@example.com"]}, "content": content}
    for prefix in ("", "/clevertap"):
        status, body, headers = await api.call("POST", f"{prefix}/1/send/{channel}.json", json=payload,
                                               headers=CLEVERTAP_HEADERS)
        assert (status, body) == (200, ACCEPTED)
        assert headers["Content-Type"] == "application/json;charset=utf-8"
    assert [e["operation"] for e in await api.requests()] == [f"send_{channel}"] * 2


async def test_at_most_1000_recipients_in_total(api) -> None:
    to = {"Identity": [f"u{n}" for n in range(600)], "Email": [f"u{n}@example.com" for n in range(400)]}
    ok = await api.call("POST", "/1/send/sms.json", json={"to": to, "content": {"body": "b"}},
                        headers=CLEVERTAP_HEADERS)
    assert ok[:2] == (200, ACCEPTED)
    to["objectId"] = ["__one_more"]
    status, body, _ = await api.call("POST", "/1/send/sms.json", json={"to": to, "content": {"body": "b"}},
                                     headers=CLEVERTAP_HEADERS)
    assert (status, body) == (400, fail("Invalid recipients", 84))


@pytest.mark.parametrize(("to", "expected"), [
    ("JohnDoe", fail("Invalid recipients", 84)),
    ({"Identity": [1, 2]}, fail("Invalid recipients", 84)),
    ({}, fail("Invalid recipients", 84)),
    ({"Unknown": ["x"]}, fail("Invalid recipients", 84)),
])
async def test_invalid_recipients(api, to, expected) -> None:
    status, body, _ = await api.call("POST", "/1/send/sms.json", json={"to": to, "content": {"body": "b"}},
                                     headers=CLEVERTAP_HEADERS)
    assert (status, body) == (400, expected)


async def test_recipient_errors_win_over_content_errors(api) -> None:
    status, body, _ = await api.call("POST", "/1/send/push.json", json={"to": {"Identity": "x"}, "content": {}},
                                     headers=CLEVERTAP_HEADERS)
    assert (status, body) == (400, fail("Invalid recipients", 84))


@pytest.mark.parametrize("raw", [b"", b"null", b"[]", b'"text"', b"{'single': 'quotes'}", b'{"a": NaN}',
                                 b'{"to": {} // comment\n}', b"\xff\xfe"])
async def test_bodies_that_are_not_a_json_object_get_code_78(api, raw: bytes) -> None:
    status, body, _ = await api.call("POST", "/1/send/push.json", data=raw, headers=CLEVERTAP_HEADERS)
    assert (status, body) == (400, fail("Invalid JSON payload", 78))


async def test_unknown_keys_and_type_slack_are_accepted(api) -> None:
    payload = {"to": {"Identity": ["x"], "Phone": ["+4912345"]}, "campaign_id": "1000000043", "": "odd",
               "content": {"title": "t", "body": "b", "custom": {"k": 1},
                           "platform_specific": {"ios": {"mutable-content": True, "badge_count": "2"},
                                                 "android": {"wzrk_cid": "engagement", "wzrk_bc": 3}}}}
    status, body, _ = await api.call("POST", "/1/send/push.json", json=payload, headers=CLEVERTAP_HEADERS)
    assert (status, body) == (200, ACCEPTED)


async def test_wrong_type_names_the_field(api) -> None:
    payload = {"to": {"Identity": ["x"]}, "tag_group": 12, "content": {"body": "b"}}
    status, body, _ = await api.call("POST", "/1/send/sms.json", json=payload, headers=CLEVERTAP_HEADERS)
    assert status == 400 and body["status"] == "fail" and body["code"] == 78
    assert body["error"].startswith("Field tag_group is invalid")


class TestBodyLimit:
    @pytest.fixture
    def settings(self) -> Settings:
        return Settings(max_body_size=2048, population_size=300)

    async def test_oversized_body_gets_413_in_the_envelope_and_is_journaled(self, api) -> None:
        big = {"to": {"Identity": ["x" * 4096]}, "content": {"body": "b"}}
        status, body, _ = await api.call("POST", "/1/send/sms.json", json=big, headers=CLEVERTAP_HEADERS)
        assert (status, body) == (413, fail("Payload too large", 413))
        [entry] = await api.requests()
        assert entry["status"] == 413 and entry["operation"] == "send_sms" and entry["raw_body"] == ""

    async def test_a_body_at_the_limit_is_read(self, api) -> None:
        small = {"to": {"Identity": ["x"]}, "content": {"body": "b"}}
        status, _, _ = await api.call("POST", "/1/send/sms.json", json=small, headers=CLEVERTAP_HEADERS)
        assert status == 200


class TestConfiguredAccounts:
    @pytest.fixture
    def settings(self, tmp_path: Path) -> Settings:
        accounts = tmp_path / "accounts.json"
        accounts.write_text(json.dumps({"clevertap": {"W9R-KNOWN": "secret-1"}}))
        return Settings(accounts=accounts, population_size=300)

    @pytest.mark.parametrize(("headers", "expected"), [
        ({"X-CleverTap-Account-Id": "W9R-KNOWN", "X-CleverTap-Passcode": "secret-1"}, (200, ACCEPTED)),
        ({"X-CleverTap-Account-Id": "W9R-OTHER", "X-CleverTap-Passcode": "secret-1"},
         (401, fail("Account ID is not valid", 401))),
        ({"X-CleverTap-Account-Id": "W9R-KNOWN", "X-CleverTap-Passcode": "wrong"},
         (401, fail("Invalid Credentials", 401))),
        ({"X-CleverTap-Account-Id": "W9R-KNOWN"}, (401, fail("Invalid Credentials", 401))),
        ({"X-CleverTap-Passcode": "secret-1"}, (401, fail("Account ID is not valid", 401))),
    ])
    async def test_only_listed_accounts_are_valid(self, api, headers, expected) -> None:
        status, body, _ = await api.call("POST", "/1/send/sms.json",
                                         json={"to": {"Identity": ["x"]}, "content": {"body": "b"}},
                                         headers=headers)
        assert (status, body) == expected

    async def test_auth_is_checked_before_the_body(self, api) -> None:
        status, body, _ = await api.call("POST", "/1/send/sms.json", data=b"{broken",
                                         headers={"X-CleverTap-Account-Id": "nope", "X-CleverTap-Passcode": "x"})
        assert (status, body) == (401, fail("Account ID is not valid", 401))
