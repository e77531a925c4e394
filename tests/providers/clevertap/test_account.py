"""account.json / campaigns.json through the fixtures overlay: a bad file stops startup naming file, JSON path and
problem; a user's file changes the answers; send deliveries and dashboard campaign ids; async counts."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from support.http import CLEVERTAP_HEADERS

from sandbox.app import create_app
from sandbox.core.resources import data_path
from sandbox.providers.clevertap.account import FixtureError, load_account, load_campaigns
from sandbox.settings import Settings

PACKAGED = data_path("fixtures") / "clevertap"


def test_packaged_files_load() -> None:
    account = load_account(PACKAGED / "account.json")
    assert "engagement" in account.notification_channels and account.frequency_cap == (10, 1)
    campaigns = load_campaigns(PACKAGED / "campaigns.json")
    assert campaigns[1000000043].channel == "push"
    assert {c.channel for c in campaigns.values()} == {"push", "webpush", "email", "sms", "whatsapp"}


BAD_ACCOUNTS = [
    ("not json", "{", "$: not valid JSON"),
    ("not an object", [], "$: must be an object, got list"),
    ("channels not strings", {"notification_channels": ["ok", 3]}, "$.notification_channels[1]: must be a non-empty"),
    ("provider channel", {"providers": {"fax": ["x"]}}, "$.providers.fax: unknown channel"),
    ("control group percentage", {"custom_control_groups": {"CG": 150}}, "$.custom_control_groups.CG: must be a "
                                                                         "percentage"),
    ("frequency cap", {"frequency_cap": {"messages": 0, "days": 1}}, "$.frequency_cap.messages: must be a positive"),
    ("segment id", {"segments": {"vip": {"where": {}}}}, "$.segments.vip: segment ids are integers"),
    ("segment where", {"segments": {"7": {"where": {"event_name": "E", "from": 20250102, "to": 20250101}}}},
     "$.segments.7.where: where.from is after where.to"),
    ("async_counts", {"async_counts": "yes"}, "$.async_counts: must be a boolean, got str"),
]


@pytest.mark.parametrize(("content", "problem"), [row[1:] for row in BAD_ACCOUNTS], ids=[r[0] for r in BAD_ACCOUNTS])
def test_bad_account_file_names_file_path_and_problem(tmp_path: Path, content: Any, problem: str) -> None:
    path = tmp_path / "account.json"
    path.write_text(content if isinstance(content, str) else json.dumps(content))
    with pytest.raises(FixtureError) as caught:
        load_account(path)
    assert str(caught.value).startswith(f"{path}: {problem}")


@pytest.mark.parametrize(("content", "problem"), [
    ({"campaigns": {}}, "$.campaigns: must be an array of campaigns"),
    ({"campaigns": [{"id": "1", "channel": "push"}]}, "$.campaigns[0].id: must be an integer campaign id"),
    ({"campaigns": [{"id": 1, "channel": "fax"}]}, "$.campaigns[0].channel: must be one of"),
    ({"campaigns": [{"id": 1, "channel": "sms"}, {"id": 1, "channel": "sms"}]}, "$.campaigns[1].id: duplicate"),
])
def test_bad_campaigns_file(tmp_path: Path, content: Any, problem: str) -> None:
    path = tmp_path / "campaigns.json"
    path.write_text(json.dumps(content))
    with pytest.raises(FixtureError) as caught:
        load_campaigns(path)
    assert str(caught.value).startswith(f"{path}: {problem}")


async def test_bad_overlay_stops_startup(aiohttp_client, tmp_path: Path) -> None:
    (tmp_path / "clevertap").mkdir()
    (tmp_path / "clevertap" / "account.json").write_text('{"notification_channels": "engagement"}')
    with pytest.raises(FixtureError, match=r"account\.json: \$\.notification_channels: must be an array"):
        await aiohttp_client(create_app(Settings(population_size=50, fixtures=tmp_path)))


async def post(api, path: str, body: Any) -> tuple[int, Any]:
    status, answer, _ = await api.call("POST", path, json=body, headers=CLEVERTAP_HEADERS)
    return status, answer


async def deliveries(api, **filters: Any) -> list[dict[str, Any]]:
    return (await api.control("GET", "/deliveries", params={k: str(v) for k, v in filters.items()}))["deliveries"]


async def test_send_records_known_and_unknown_recipients(api) -> None:
    user = (await api.user(lambda p: p["reachability"]["push"]["state"] != "unsubscribed"
                           and [d["platform"] for d in p["devices"]] == ["android"]))["identity"]
    payload = {"to": {"Identity": [user, "nobody-here"], "FBID": ["102029292929388"]},
               "campaign_id": 1000000043, "content": {"title": "t", "body": "b"}}
    assert (await post(api, "/1/send/push.json", payload))[0] == 200
    sent = await deliveries(api)
    assert [(d["user"], d["known"], d["campaign_id"]) for d in sent] == [
        ("102029292929388", False, "1000000043"), (user, True, "1000000043"),
        ("nobody-here", False, "1000000043")]
    assert sent[1]["platform"] == "android" and sent[1]["device"] and sent[1]["content"] == payload["content"]
    assert sent[0]["extra"] == {"identifier": "FBID"}


async def test_send_looks_each_recipient_up_by_the_key_it_was_addressed_by(api) -> None:
    user = await api.user(lambda p: p["reachability"]["email"]["state"] != "unsubscribed" and p.get("email"))
    payload = {"to": {"Email": [user["email"]], "Identity": [user["email"]]}, "content": {"subject": "s", "body": "b"}}
    assert (await post(api, "/1/send/email.json", payload))[0] == 200
    sent = await deliveries(api)
    # Email finds the user by their email; the same text as an Identity names nobody (identities are not emails)
    assert [(d["user"], d["known"], d["extra"]["identifier"]) for d in sent] == [
        (user["identity"], True, "Email"), (user["email"], False, "Identity")]
    assert sent[0]["extra"]["address"] == user["email"]


async def test_send_skips_known_users_who_are_unreachable(api) -> None:
    user = (await api.user(lambda p: p["reachability"]["email"]["state"] == "unsubscribed"))["identity"]
    await post(api, "/1/send/email.json", {"to": {"Identity": [user], "Email": ["x@example.com"]},
                                           "content": {"subject": "s", "body": "b"}})
    assert [(d["user"], d["known"]) for d in await deliveries(api)] == [("x@example.com", False)]


@pytest.mark.parametrize(("channel", "campaign_id", "expected"), [
    ("sms", 1000000046, None),
    ("sms", 1000000043, "Invalid campaign_id 1000000043: it is a push campaign"),
    ("email", 999, None),  # unknown: learned (strict mode: test_learn_strict.py)
    ("email", "1000000045", None),
])
async def test_send_campaign_id_must_not_be_a_dashboard_campaign_of_another_channel(api, channel: str, campaign_id: Any,
                                                                           expected: str | None) -> None:
    content = {"sms": {"body": "b"}, "email": {"subject": "s", "body": "b"}}[channel]
    status, answer = await post(api, f"/1/send/{channel}.json", {"to": {"Identity": ["a"]}, "campaign_id": campaign_id,
                                                                "content": content})
    if expected is None:
        assert status == 200 and len(await deliveries(api, campaign_id=campaign_id)) == 1
    else:
        assert (status, answer) == (400, {"status": "fail", "error": expected, "code": 78})
        assert await deliveries(api) == []
