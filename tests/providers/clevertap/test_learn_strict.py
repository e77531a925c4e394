"""CleverTap dashboard data, learn and strict (issue 13): every collection (channels, providers, provider groups,
control groups, segments, API campaigns) is learned on first use by default, rejected with CleverTap's exact
error and a hint in strict mode, added/listed/removed at run time, merged from the overlay, and kept by
``export_state``; a known object of the wrong kind is rejected in both modes."""

from __future__ import annotations

import copy
import json
import pickle
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from support.golden import Golden, load_all, matches, replay
from support.http import CLEVERTAP_HEADERS, DEFAULT_SETTINGS, Api, clevertap_headers

from sandbox.app import create_app
from sandbox.core import keys
from sandbox.settings import Settings

TENANT = CLEVERTAP_HEADERS["X-CleverTap-Account-Id"]
OTHER = clevertap_headers("OTHER_ACCOUNT")
STRICT = Settings(population_size=300, strict=True)
VENDORS = "/vendors/clevertap"
CREATE = "/1/targets/create.json"


def fail(text: str) -> dict[str, Any]:
    return {"status": "fail", "error": text, "code": 78}


@dataclass(frozen=True)
class Use:
    """A request naming one object of ``collection`` the packaged fixtures do not hold."""

    collection: str
    path: str
    body: dict[str, Any]
    listed: dict[str, Any]
    """How the object is listed at ``/_sandbox/vendors/clevertap/<collection>`` once learned."""
    add: Any
    """The body of ``POST /_sandbox/vendors/clevertap/<collection>`` that declares it."""
    error: str
    """CleverTap's answer in strict mode (400, code 78)."""


def create(**extra: Any) -> dict[str, Any]:
    return {"name": "Learn", "when": "now", "where": {}, "estimate_only": True, "content": {"title": "t", "body": "b"},
            **extra}


SMS = {"target_mode": "sms", "content": {"body": "Your code is 1234"}}
ANDROID = {"devices": ["android"], "content": {"title": "t", "body": "b",
                                               "platform_specific": {"android": {"wzrk_cid": "order_updates"}}}}
USES = [
    Use("channels", CREATE, create(**ANDROID), {"id": "order_updates"}, {"id": "order_updates"},
        "Invalid Notification Channel ID"),
    Use("providers", CREATE, create(**SMS, provider_nick_name="MSG91 Transactional"),
        {"id": "sms:MSG91 Transactional", "channel": "sms", "name": "MSG91 Transactional"},
        {"channel": "sms", "name": "MSG91 Transactional"}, "InCorrect provider_nick_name!"),
    Use("provider_groups", CREATE, create(**SMS, provider_group_nickname="OTP Fallback"),
        {"id": "sms:OTP Fallback", "channel": "sms", "name": "OTP Fallback"},
        {"channel": "sms", "name": "OTP Fallback"}, "InCorrect provider_group_nickname!"),
    Use("control_groups", CREATE, create(control_group={"type": "custom", "name": "Q3 Holdout"}),
        {"id": "Q3 Holdout", "percentage": 10.0}, {"id": "Q3 Holdout", "percentage": 10},
        "No custom control group with name Q3 Holdout is defined"),
    Use("segments", CREATE, {**create(segment=4711), "where": None},
        {"id": "4711", "name": "Segment 4711", "where": {}}, {"id": 4711, "name": "Everyone"},
        "Segment 4711 is not defined"),
    Use("campaigns", "/1/send/sms.json", {"to": {"Identity": ["user0000003"]}, "campaign_id": 1698765432,
                                          "content": {"body": "b"}},
        {"id": 1698765432, "name": "API sms campaign 1698765432 (learned)", "channel": "sms"},
        {"id": 1698765432, "name": "OTP", "channel": "sms"},
        "Invalid campaign_id 1698765432: no API campaign with this id exists in the dashboard"),
]
IDS = [u.collection for u in USES]


def body_of(use: Use) -> dict[str, Any]:
    return {k: v for k, v in copy.deepcopy(use.body).items() if v is not None}


async def send(api: Api, use: Use, headers: dict[str, str] = CLEVERTAP_HEADERS) -> tuple[int, Any]:
    status, answer, _ = await api.call("POST", use.path, json=body_of(use), headers=headers)
    return status, answer


async def listed(api: Api, collection: str, tenant: str | None = TENANT) -> list[dict[str, Any]]:
    params = {"tenant": tenant} if tenant else None
    return (await api.control("GET", f"{VENDORS}/{collection}", params=params))["items"]


async def last_entry(api: Api, path: str) -> dict[str, Any]:
    return (await api.requests(path=path))[-1]


# -- learn (the default) -----------------------------------------------------------------------------
@pytest.mark.parametrize("use", USES, ids=IDS)
async def test_learn_provisions_on_first_use(api: Api, use: Use) -> None:
    status, answer = await send(api, use)
    assert status == 200 and answer["status"] == "success", answer
    assert {**use.listed, "provisioned": True} in await listed(api, use.collection)
    entry = await last_entry(api, use.path)
    assert len(entry["notes"]) == 1 and "provisioned clevertap" in entry["notes"][0]
    assert entry["hint"] is None
    assert (await send(api, use))[0] == 200
    assert (await last_entry(api, use.path))["notes"] == []  # later calls see it: nothing new to learn
    # it belongs to the tenant that named it
    assert use.listed["id"] not in [item["id"] for item in await listed(api, use.collection, "OTHER_ACCOUNT")]
    await api.control("POST", "/reset")
    assert use.listed["id"] not in [item["id"] for item in await listed(api, use.collection)]


async def test_learned_segment_and_control_group_shape_estimates_and_deliveries(api: Api) -> None:
    email = {"target_mode": "email", "content": {"subject": "s", "body": "b"}}
    _, everyone, _ = await api.call("POST", CREATE, json=create(**email), headers=CLEVERTAP_HEADERS)
    by_segment = create(**email, segment=4711)
    del by_segment["where"]
    _, learned, _ = await api.call("POST", CREATE, json=by_segment, headers=CLEVERTAP_HEADERS)
    assert learned["estimates"] == everyone["estimates"]  # a learned segment is everyone
    run = {**create(control_group={"type": "custom", "name": "Q3 Holdout"}), "estimate_only": False,
           "target_mode": "email", "content": {"subject": "s", "body": "b"}}
    _, created, _ = await api.call("POST", CREATE, json=run, headers=CLEVERTAP_HEADERS)
    _, result, _ = await api.call("POST", "/1/targets/result.json", json={"id": created["id"]},
                                  headers=CLEVERTAP_HEADERS)
    assert result["result"]["control_group"] > 0  # the learned group holds out its share


async def test_a_send_teaches_the_channel_that_create_then_accepts(api: Api) -> None:
    push = {"to": {"Identity": ["user0000003"]}, "content": {
        "title": "t", "body": "b", "platform_specific": {"android": {"wzrk_cid": "order_updates"}}}}
    assert (await api.call("POST", "/1/send/push.json", json=push, headers=CLEVERTAP_HEADERS))[0] == 200
    assert {"id": "order_updates", "provisioned": True} in await listed(api, "channels")
    status, _, _ = await api.call("POST", CREATE, json=create(**ANDROID), headers=CLEVERTAP_HEADERS)
    assert status == 200 and (await last_entry(api, CREATE))["notes"] == []


# -- a known object of the wrong kind, and checks that do not depend on dashboard state ----------------
async def test_known_campaign_of_another_channel_is_rejected_in_learn_mode(api: Api) -> None:
    push = {"to": {"Identity": ["a"]}, "campaign_id": 1000000046, "content": {"title": "t", "body": "b"}}
    status, answer, _ = await api.call("POST", "/1/send/push.json", json=push, headers=CLEVERTAP_HEADERS)
    assert (status, answer) == (400, fail("Invalid campaign_id 1000000046: it is a sms campaign"))
    # a learned campaign has the channel of the endpoint that named it
    sms = {"to": {"Identity": ["a"]}, "campaign_id": 1698765432, "content": {"body": "b"}}
    assert (await api.call("POST", "/1/send/sms.json", json=sms, headers=CLEVERTAP_HEADERS))[0] == 200
    _, result, _ = await api.call("POST", "/1/targets/result.json", json={"id": 1698765432},
                                  headers=CLEVERTAP_HEADERS)
    learned = {"id": 1698765432, "name": "API sms campaign 1698765432 (learned)", "target_mode": "sms", "sent": 1,
               "provisioned": True}
    assert result["status"] == "success" and {k: result["result"][k] for k in learned} == learned
    status, answer, _ = await api.call("POST", "/1/send/push.json", json={**push, "campaign_id": 1698765432},
                                       headers=CLEVERTAP_HEADERS)
    assert (status, answer) == (400, fail("Invalid campaign_id 1698765432: it is a sms campaign"))


async def test_a_rejected_request_learns_nothing(api: Api) -> None:
    bad_ttl = create(**ANDROID, control_group={"type": "custom", "name": "Q3 Holdout"}, ttl={"value": 0})
    status, answer, _ = await api.call("POST", CREATE, json=bad_ttl, headers=CLEVERTAP_HEADERS)
    assert (status, answer) == (400, fail("Field ttl.value is invalid: must be a positive integer"))
    assert "order_updates" not in [c["id"] for c in await listed(api, "channels")]
    assert "Q3 Holdout" not in [c["id"] for c in await listed(api, "control_groups")]
    assert (await last_entry(api, CREATE))["notes"] == []


async def test_android_channel_rule_stays_exact_in_learn_mode(api: Api) -> None:
    no_channel = create(devices=["android"], content={"title": "t", "body": "b"})
    status, answer, _ = await api.call("POST", CREATE, json=no_channel, headers=CLEVERTAP_HEADERS)
    assert (status, answer) == (400, {"status": "fail", "code": 9, "error":
                                      "Notification channel is required for devices having Android 8.0 or above"})


# -- strict ------------------------------------------------------------------------------------------
@pytest.mark.parametrize("settings", [STRICT], ids=["strict"])
@pytest.mark.parametrize("use", USES, ids=IDS)
async def test_strict_rejects_with_the_exact_error_and_a_hint(api: Api, use: Use) -> None:
    assert await send(api, use) == (400, fail(use.error))
    entry = await last_entry(api, use.path)
    fixture_file = "clevertap/campaigns.json" if use.collection == "campaigns" else "clevertap/account.json"
    assert fixture_file in entry["hint"] and f"/_sandbox/vendors/clevertap/{use.collection}" in entry["hint"]
    assert entry["notes"] == []
    assert use.listed["id"] not in [item["id"] for item in await listed(api, use.collection)]


STRICT_GOLDEN = load_all("clevertap/strict")


@pytest.mark.parametrize("settings", [STRICT], ids=["strict"])
@pytest.mark.parametrize("golden", STRICT_GOLDEN, ids=[g.path.stem for g in STRICT_GOLDEN])
async def test_strict_golden_pairs(api: Api, golden: Golden) -> None:
    """``tests/golden/clevertap/strict/``: the unknown-reference answers, replayed with ``--strict``."""
    expected = golden.response
    status, body, _ = await replay(api, golden)
    assert status == expected["status"] and matches(expected["body"], body), body
    assert "clevertap/" in (await last_entry(api, golden.request["path"]))["hint"]


# -- run-time additions ------------------------------------------------------------------------------
@pytest.mark.parametrize("settings", [STRICT], ids=["strict"])
@pytest.mark.parametrize("use", USES, ids=IDS)
async def test_runtime_add_list_delete_for_every_tenant(api: Api, use: Use) -> None:
    added = await api.control("POST", f"{VENDORS}/{use.collection}", json=use.add)
    [item] = added["added"]
    assert added["tenant"] is None and "provisioned" not in item
    assert item in await listed(api, use.collection, None)
    assert (await send(api, use))[0] == 200
    assert (await send(api, use, OTHER))[0] == 200
    await api.control("DELETE", f"{VENDORS}/{use.collection}/{item['id']}")
    assert item not in await listed(api, use.collection, None)
    assert (await send(api, use))[0] == 400


@pytest.mark.parametrize("settings", [STRICT], ids=["strict"])
@pytest.mark.parametrize("use", USES, ids=IDS)
async def test_runtime_add_for_one_tenant(api: Api, use: Use) -> None:
    added = await api.control("POST", f"{VENDORS}/{use.collection}", json=use.add, params={"tenant": TENANT})
    [item] = added["added"]
    assert item in await listed(api, use.collection)
    assert item not in await listed(api, use.collection, "OTHER_ACCOUNT")
    assert (await send(api, use))[0] == 200
    assert await send(api, use, OTHER) == (400, fail(use.error))
    status, _, _ = await api.call("DELETE", f"/_sandbox{VENDORS}/{use.collection}/{item['id']}")
    assert status == 404  # not an addition for every tenant
    await api.control("DELETE", f"{VENDORS}/{use.collection}/{item['id']}", params={"tenant": TENANT})
    assert (await send(api, use))[0] == 400
    await api.control("POST", f"{VENDORS}/{use.collection}", json=use.add, params={"tenant": TENANT})
    await api.control("POST", "/reset", params={"tenant": TENANT})
    assert (await send(api, use))[0] == 400  # additions vanish on reset


async def test_learned_objects_can_be_deleted(api: Api) -> None:
    use = USES[0]
    await send(api, use)
    await api.control("DELETE", f"{VENDORS}/channels/order_updates", params={"tenant": TENANT})
    assert "order_updates" not in [c["id"] for c in await listed(api, "channels")]


@pytest.mark.parametrize(("collection", "item", "problem"), [
    ("channels", {"id": ""}, "id must be a non-empty string"),
    ("providers", {"channel": "push", "name": "x"}, "channel must be one of sms, email, whatsapp"),
    ("provider_groups", ["sms"], "expected an object"),
    ("control_groups", {"id": "x", "percentage": 100}, "percentage must be a number from 0 to below 100"),
    ("segments", {"id": "vip"}, "id must be an integer segment id"),
    ("segments", {"id": 7, "where": {"event_name": 3}}, "where: "),
    ("campaigns", {"id": 5, "channel": "fax"}, "channel must be one of"),
])
async def test_bad_runtime_items_are_refused(api: Api, collection: str, item: Any, problem: str) -> None:
    status, answer, _ = await api.call("POST", f"/_sandbox{VENDORS}/{collection}", json=item)
    assert status == 400 and problem in answer["error"]["message"], answer


async def test_unknown_collection_lists_the_valid_ones(api: Api) -> None:
    status, answer, _ = await api.call("GET", f"/_sandbox{VENDORS}/templates")
    assert status == 404 and answer["error"]["details"]["collections"] == [
        "channels", "providers", "provider_groups", "control_groups", "segments", "campaigns", "webhooks"]


async def test_fixture_objects_are_listed_and_cannot_be_deleted(api: Api) -> None:
    assert {"id": "engagement"} in await listed(api, "channels", None)
    assert {"id": "sms:Twilio", "channel": "sms", "name": "Twilio"} in await listed(api, "providers", None)
    assert {"id": "Global Holdout", "percentage": 10.0} in await listed(api, "control_groups", None)
    assert {"id": 1000000043, "name": "API push campaign (seed 000)", "channel": "push"} in await listed(
        api, "campaigns", None)
    status, _, _ = await api.call("DELETE", f"/_sandbox{VENDORS}/channels/engagement")
    assert status == 404


# -- the overlay and the per-vendor setting ------------------------------------------------------------
def overlay(tmp_path: Path, account: dict[str, Any] | None = None, campaigns: dict[str, Any] | None = None) -> Path:
    folder = tmp_path / "clevertap"
    folder.mkdir(exist_ok=True)
    if account is not None:
        (folder / "account.json").write_text(json.dumps(account))
    if campaigns is not None:
        (folder / "campaigns.json").write_text(json.dumps(campaigns))
    return tmp_path


async def start(aiohttp_client: Any, settings: Settings) -> Api:
    return Api(await aiohttp_client(create_app(settings)))


async def test_overlay_adds_to_the_packaged_files(aiohttp_client: Any, tmp_path: Path) -> None:
    fixtures = overlay(tmp_path, {"notification_channels": ["order_updates"], "custom_control_groups": {"Q3": 5}},
                       {"campaigns": [{"id": 1698765432, "name": "OTP", "channel": "sms"}]})
    api = await start(aiohttp_client, Settings(population_size=300, fixtures=fixtures, strict=True))
    channels = [c["id"] for c in await listed(api, "channels", None)]
    assert "order_updates" in channels and "engagement" in channels
    assert {"Global Holdout", "Q3"} <= {c["id"] for c in await listed(api, "control_groups", None)}
    campaigns = {c["id"] for c in await listed(api, "campaigns", None)}
    assert {1698765432, 1000000043} <= campaigns
    for use in (USES[0], USES[5]):
        assert (await send(api, use))[0] == 200


async def test_overlay_with_replace_replaces(aiohttp_client: Any, tmp_path: Path) -> None:
    fixtures = overlay(tmp_path, {"replace": True, "notification_channels": ["order_updates"]},
                       {"replace": True, "campaigns": [{"id": 42, "channel": "push"}]})
    api = await start(aiohttp_client, Settings(population_size=300, fixtures=fixtures, strict=True))
    assert await listed(api, "channels", None) == [{"id": "order_updates"}]
    assert await listed(api, "campaigns", None) == [{"id": 42, "name": "", "channel": "push"}]
    assert await listed(api, "control_groups", None) == []


@pytest.mark.parametrize(("flag", "in_file", "strict"), [
    (False, True, True), (True, False, False), (True, None, True), (False, None, False)])
async def test_strict_in_account_json_decides_for_clevertap(aiohttp_client: Any, tmp_path: Path, flag: bool,
                                                            in_file: bool | None, strict: bool) -> None:
    fixtures = overlay(tmp_path, {} if in_file is None else {"strict": in_file})
    api = await start(aiohttp_client, Settings(population_size=300, fixtures=fixtures, strict=flag))
    assert (await api.control("GET", VENDORS))["strict"] is strict
    assert (await send(api, USES[0]))[0] == (400 if strict else 200)


# -- state kept across restarts ------------------------------------------------------------------------
async def test_export_state_keeps_learned_and_added_objects(aiohttp_client: Any) -> None:
    client = await aiohttp_client(create_app(DEFAULT_SETTINGS))
    api = Api(client)
    await send(api, USES[3])
    await api.control("POST", f"{VENDORS}/segments", json=USES[4].add)
    hook = {"name": "crm", "url": "http://127.0.0.1:9/hook"}
    await api.control("POST", f"{VENDORS}/webhooks", json=hook, params={"tenant": TENANT})
    [first] = [p for p in client.app[keys.PROVIDERS] if p.name == "clevertap"]
    saved = pickle.loads(pickle.dumps(first.export_state()))  # --data-dir snapshots are pickled
    client2 = await aiohttp_client(create_app(DEFAULT_SETTINGS))
    [second] = [p for p in client2.app[keys.PROVIDERS] if p.name == "clevertap"]
    second.import_state(saved)
    again = Api(client2)
    assert {**USES[3].listed, "provisioned": True} in await listed(again, "control_groups")
    assert {"id": "4711", "name": "Everyone", "where": {}} in await listed(again, "segments", None)
    assert "crm" in [w["name"] for w in await listed(again, "webhooks")]


# -- a real QA suite's campaign requests, with its own dashboard names ---------------------------------
QA_SUITE: list[tuple[str, dict[str, Any]]] = [
    ("/1/send/push.json", {"to": {"Identity": ["qa-user-1"]}, "campaign_id": 1700000101, "content": {
        "title": "Your order has shipped", "body": "Track it in the app",
        "platform_specific": {"android": {"wzrk_cid": "order_updates", "priority": "high"}}}}),
    ("/1/send/sms.json", {"to": {"Identity": ["qa-user-2"]}, "campaign_id": 1700000102,
                          "provider_nick_name": "MSG91 Transactional", "content": {"body": "OTP 482913"}}),
    ("/1/targets/create.json", {"name": "QA Android push", "when": "now", "where": {"event_name": "App Launched"},
                                "devices": ["android"], "target_mode": "push",
                                "control_group": {"type": "custom", "name": "QA Holdout 5%"},
                                "content": {"title": "Hi", "body": "Welcome back", "platform_specific": {
                                    "android": {"wzrk_cid": "promotions_android"}}}}),
    ("/1/targets/create.json", {"name": "QA SMS", "when": "now", "where": {}, "target_mode": "sms",
                                "provider_nick_name": "MSG91 Transactional",
                                "provider_group_nickname": "OTP Failover Group",
                                "control_group": {"type": "custom", "name": "QA Holdout 5%"},
                                "content": {"body": "Sale starts now"}}),
    ("/1/targets/create.json", {"name": "QA segment email", "when": "now", "segment": 1680000123,
                                "target_mode": "email", "provider_nick_name": "Amazon SES Marketing",
                                "content": {"subject": "Hello", "body": "<p>Hi</p>"}}),
]


async def test_qa_suite_replays_with_zero_configuration(api: Api) -> None:
    for path, body in QA_SUITE:
        status, answer, _ = await api.call("POST", path, json=body, headers=CLEVERTAP_HEADERS)
        assert status == 200 and answer["status"] == "success", (path, answer)
    notes = [note for entry in await api.requests() for note in entry["notes"]]
    assert len(notes) == 9  # 2 campaigns, 2 channels, 2 providers, 1 group, 1 control group, 1 segment


@pytest.mark.parametrize("settings", [STRICT], ids=["strict"])
async def test_qa_suite_fails_only_in_strict_mode(api: Api) -> None:
    for path, body in QA_SUITE:
        status, answer, _ = await api.call("POST", path, json=body, headers=CLEVERTAP_HEADERS)
        assert status == 400 and answer["status"] == "fail", (path, answer)
        assert (await last_entry(api, path))["hint"]
