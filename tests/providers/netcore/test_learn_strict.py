"""Account data, learn and strict (issue 13): every Netcore panel reference (templates, lists, segments, v4
campaigns, app ids) is learned on first use by default, rejected with Netcore's error plus a hint with
--strict (or ``"strict": true`` in ``netcore/account.json``); run-time additions through
``/_sandbox/vendors/netcore/<collection>``; the ``--fixtures`` overlay merges by id."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer
from support.golden import Golden, load_all, matches, replay
from support.http import DEFAULT_SETTINGS, Api
from support.netcore import KEY, OWN_APP, STRICT_GOLDEN, Netcore, email_campaign, learned

from sandbox.app import create_app
from sandbox.core import keys
from sandbox.settings import Settings

V3_TENANT = "10223"
"""The v3 helper's clientid: the tenant of v3 calls."""


def bad(description: str, field: str) -> dict[str, Any]:
    return {"data": {"status": "failure", "description": description, "field": field},
            "message": "The request parameters are invalid.", "statusCode": 400}


def gen1_error(message: str) -> dict[str, Any]:
    return {"status": "error", "message": message}


@dataclass(frozen=True)
class Reference:
    """One request naming a panel object the sandbox has no record of (``n`` varies names between calls)."""

    collection: str
    item_id: str
    path: str
    tenant: str
    send: Callable[[Netcore, int], Awaitable[tuple[int, Any]]]
    strict_answer: tuple[int, dict[str, Any]]
    file: str


REFERENCES = [
    Reference("templates", "777", "/campaign/create", KEY,
              lambda nc, n: nc.gen1("create", {"type": "apn", "app_ids": [OWN_APP], "template_id": 777}),
              (400, gen1_error("Template not found")), "netcore/templates.json"),
    Reference("lists", "777", "/v4/campaign/create", KEY,
              lambda nc, n: nc.v4("create", {"campaign_details": [email_campaign(
                  f"Own list {n}", audience_details={"include_list": {"list_ids": ["777"]}})]}),
              (400, bad("List not found", "campaign_details[0].audience_details.include_list.list_ids")),
              "netcore/lists.json"),
    Reference("segments", "777", "/v3/campaign/create", V3_TENANT,
              lambda nc, n: nc.v3({"campaign_status": "draft", "contact_details": {"segment_ids": [777]}}),
              (400, gen1_error("Segment not found")), "netcore/segments.json"),
    Reference("campaigns", "777", "/v4/campaign/get", KEY,
              lambda nc, n: nc.v4("get", {"channel": ["email"], "campaign_ids": [777]}),
              (400, bad("Campaign not found", "campaign_ids[0]")), "netcore/campaigns.json"),
    Reference("app_ids", "my-own-app", "/campaign/create", KEY,
              lambda nc, n: nc.gen1("create", {"type": "apn", "app_ids": ["my-own-app"], "template_id": 2}),
              (400, gen1_error("App not found")), "netcore/account.json"),
]
IDS = [r.collection for r in REFERENCES]


async def last_entry(nc: Netcore, path: str) -> dict[str, Any]:
    return (await nc.api.requests(path=path))[-1]


async def listed(nc: Netcore, collection: str, tenant: str | None = None) -> dict[str, dict[str, Any]]:
    params = {"tenant": tenant} if tenant else {}
    body = await nc.api.control("GET", f"/vendors/netcore/{collection}", params=params)
    key = "campaign_id" if collection == "campaigns" else "id"
    return {str(item[key]): item for item in body["items"]}


# -- learn (default) ----------------------------------------------------------------------------------
@pytest.mark.parametrize("ref", REFERENCES, ids=IDS)
async def test_learn_mode_provisions_an_unknown_reference_on_first_use(nc, ref: Reference) -> None:
    status, body = await ref.send(nc, 1)
    assert status == 200, body
    entry = await last_entry(nc, ref.path)
    assert (entry["notes"], entry["hint"]) == ([learned(ref.collection, ref.item_id)], None)
    assert (await listed(nc, ref.collection, ref.tenant))[ref.item_id]["provisioned"] is True
    assert ref.item_id not in await listed(nc, ref.collection, "OTHER_KEY")  # learned for this tenant only
    status, body = await ref.send(nc, 2)
    assert status == 200, body
    assert (await last_entry(nc, ref.path))["notes"] == []  # later calls see it


async def test_a_learned_template_takes_the_channel_of_the_campaign_and_is_sent(nc) -> None:
    campaign_id = await nc.create_gen1(template_id=777)
    status, body = await nc.gen1("execute", {"type": "apn", "campaign_id": campaign_id, "data_source": "segment",
                                             "segment_id": 40})
    assert status == 200, body
    assert {d["content"]["title"] for d in await nc.deliveries()} == {"Template 777"}
    assert (await listed(nc, "templates", KEY))["777"]["channel"] == "apn"
    status, body = await nc.v4("create", {"campaign_details": [email_campaign(
        "Mail", content_details={"template_id": 777})]})
    assert (status, body) == (400, bad("Template does not belong to this channel",
                                       "campaign_details[0].content_details.template_id"))


async def test_a_learned_list_is_empty_until_contacts_are_added_to_it(nc) -> None:
    campaign_id = await nc.create_gen1()
    execute = {"type": "apn", "campaign_id": campaign_id, "data_source": "list", "list_id": 778}
    status, body = await nc.contact("addsync", json.dumps({"CUSTOMER_ID": "C-778", "PLATFORM": "android"}),
                                    listid="778")
    assert (status, body["result"]) == (200, "Success")
    assert (await last_entry(nc, "/apiv2"))["notes"] == [learned("lists", "778")]
    assert (await nc.gen1("execute", execute))[0] == 200
    assert [d["user"] for d in await nc.deliveries()] == ["C-778"]
    estimate = await nc.api.control("POST", "/audience/estimate", json={
        "vendor": "netcore", "tenant": KEY, "audience": {"data_source": "list", "list_id": 778}})
    assert estimate["matched"] == 1


async def test_a_learned_v4_campaign_is_listed_provisioned_and_can_be_tested_and_deleted(nc) -> None:
    test = {"test_campaign_details": [{"channel": "email", "campaign_id": 779,
                                       "test_user_details": {"email_ids": ["qa@example.com"]}}]}
    assert (await nc.v4("test", test))[0] == 200
    [delivery] = await nc.deliveries()
    assert delivery["content"]["subject"] == "Campaign 779"
    status, body = await nc.v4("list", {"page_no": 1, "page_size": 50, "campaign_ids": [779]})
    assert body["data"]["campaign_details"][0]["provisioned"] is True
    assert (await nc.v4("delete", {"campaign_details": [{"channel": "email", "campaign_id": 779}]}))[0] == 200
    status, body = await nc.v4("get", {"channel": ["email"], "campaign_ids": [779]})
    assert (status, body) == (400, bad("Campaign not found", "campaign_ids[0]"))  # deleted: not learned again


async def test_known_objects_of_the_wrong_kind_are_still_rejected_in_learn_mode(nc) -> None:
    status, body = await nc.gen1("create", {"type": "apn", "app_ids": [OWN_APP], "template_id": 132})
    assert (status, body) == (400, gen1_error("Template does not belong to this channel"))
    gen1_campaign = await nc.create_gen1()
    status, body = await nc.v4("get", {"channel": ["email"], "campaign_ids": [gen1_campaign]})
    assert (status, body) == (400, bad("Campaign not found", "campaign_ids[0]"))
    assert (await last_entry(nc, "/v4/campaign/get"))["notes"] == []


# -- strict -------------------------------------------------------------------------------------------
@pytest.mark.parametrize("ref", REFERENCES, ids=IDS)
async def test_strict_mode_answers_netcore_error_with_a_hint(strict_nc, ref: Reference) -> None:
    assert await ref.send(strict_nc, 1) == ref.strict_answer
    entry = await last_entry(strict_nc, ref.path)
    assert entry["notes"] == []
    assert f"--fixtures DIR/{ref.file}" in entry["hint"]
    assert f"POST /_sandbox/vendors/netcore/{ref.collection}" in entry["hint"]
    assert ref.item_id not in await listed(strict_nc, ref.collection, ref.tenant)


STRICT = load_all(STRICT_GOLDEN)


@pytest.mark.parametrize("golden", STRICT, ids=[g.path.stem for g in STRICT])
async def test_strict_golden_pair(strict_nc, golden: Golden) -> None:
    expected = golden.response
    status, body, _ = await replay(strict_nc.api, golden)
    assert status == expected["status"] and matches(expected["body"], body), (golden.path.name, status, body)
    entry = await last_entry(strict_nc, golden.request["path"])
    assert entry["response"] == body and "/_sandbox/vendors/netcore/" in entry["hint"]


async def test_strict_mode_still_accepts_what_the_panel_holds(strict_nc) -> None:
    campaign_id = await strict_nc.create_gen1(app_ids=[OWN_APP])
    status, body = await strict_nc.gen1("execute", {"type": "apn", "campaign_id": campaign_id,
                                                    "data_source": "list", "list_id": 151})
    assert status == 200, body
    entry = await last_entry(strict_nc, "/campaign/execute")
    assert (entry["notes"], entry["hint"]) == ([], None)


async def test_contacts_added_to_an_unknown_list_in_strict_mode(strict_nc) -> None:
    status, body = await strict_nc.contact("addsync", json.dumps({"CUSTOMER_ID": "C-1"}), listid="778")
    assert (status, body) == (400, {"result": "Failure", "details": "List not found"})
    assert "netcore/lists.json" in (await last_entry(strict_nc, "/apiv2"))["hint"]
    status, body = await strict_nc.contact("add", json.dumps({"CUSTOMER_ID": "C-1"}), listid="778")
    assert (status, body["result"]) == (200, "Success")  # async activities ignore bad data (spec §6.1)
    assert "778" not in await listed(strict_nc, "lists", KEY)


# -- run-time additions -------------------------------------------------------------------------------
ITEMS = {
    "templates": {"id": 900, "channel": "apn", "name": "Mine", "title": "Mine [FIRST_NAME]", "body": "Hello"},
    "lists": {"id": 900, "name": "Mine", "members": [{"CUSTOMER_ID": "Z-900", "PLATFORM": "android"}]},
    "segments": {"id": 900, "name": "Mine", "rule": {"member_of": "list:151"}},
    "campaigns": {"campaign_id": 900, "channel": "email", "campaign_name": "Mine", "campaign_state": "draft"},
    "app_ids": {"id": "mine-900", "name": "Mine"},
}


@pytest.mark.parametrize("tenant", [KEY, None], ids=["tenant", "everyone"])
@pytest.mark.parametrize("collection", list(ITEMS))
async def test_run_time_add_list_and_delete(api, collection: str, tenant: str | None) -> None:
    nc = Netcore(api)
    item = ITEMS[collection]
    key = str(item["campaign_id"] if collection == "campaigns" else item["id"])
    params = {"tenant": tenant} if tenant else {}
    answer = await api.control("POST", f"/vendors/netcore/{collection}", json=item, params=params)
    assert answer["added"] == [item]
    assert (await listed(nc, collection, KEY))[key] == item  # no "provisioned": declared, not learned
    assert (key in await listed(nc, collection, "OTHER_KEY")) is (tenant is None)
    await api.control("DELETE", f"/vendors/netcore/{collection}/{key}", params=params)
    assert key not in await listed(nc, collection, KEY)
    status, _, _ = await api.call("DELETE", f"/_sandbox/vendors/netcore/{collection}/{key}", params=params)
    assert status == 404


async def test_run_time_additions_are_used_by_requests_and_vanish_on_reset(strict_nc) -> None:
    api = strict_nc.api
    await api.control("POST", "/vendors/netcore/lists", json=ITEMS["lists"])
    await api.control("POST", "/vendors/netcore/templates", json=ITEMS["templates"], params={"tenant": KEY})
    await api.control("POST", "/vendors/netcore/campaigns", json=ITEMS["campaigns"], params={"tenant": KEY})
    campaign_id = await strict_nc.create_gen1(template_id=900, app_ids=[OWN_APP])
    status, body = await strict_nc.gen1("execute", {"type": "apn", "campaign_id": campaign_id,
                                                    "data_source": "list", "list_id": 900})
    assert status == 200, body
    sent = [(d["user"], d["content"]["title"]) for d in await strict_nc.deliveries()]
    assert sent == [("Z-900", "Mine [FIRST_NAME]")]
    status, body = await strict_nc.v4("get", {"channel": ["email"], "campaign_ids": [900]})
    assert body["data"]["campaign_details"][0]["campaign_name"] == "Mine"
    await api.control("POST", "/reset")
    for collection in ("lists", "templates", "campaigns"):
        assert "900" not in await listed(strict_nc, collection, KEY)
    status, body = await strict_nc.gen1("create", {"type": "apn", "app_ids": [OWN_APP], "template_id": 900})
    assert (status, body) == (400, gen1_error("Template not found"))


@pytest.mark.parametrize(("collection", "item", "problem"), [
    ("templates", {"id": 1, "channel": "apn", "body": "b"}, "$: 'title' is a required property"),
    ("lists", {"name": "no id"}, "'id' is a required property"),
    ("segments", {"id": 1, "name": "a", "rule": {"member_of": "list:999"}}, "member_of 'list:999' names no"),
    ("campaigns", {"campaign_id": 1, "channel": "apn", "campaign_name": "x", "campaign_state": "draft"},
     "$.channel: 'email' was expected"),
    ("app_ids", {"id": ""}, "$.id: '' should be non-empty"),
])
async def test_a_bad_run_time_item_is_refused_with_the_problem(api, collection, item, problem) -> None:
    status, body, _ = await api.call("POST", f"/_sandbox/vendors/netcore/{collection}", json=item)
    assert status == 400 and problem in body["error"]["message"], body


async def test_learned_objects_survive_a_restart_through_export_and_import(aiohttp_client) -> None:
    first = Api(await aiohttp_client(create_app(DEFAULT_SETTINGS)))
    assert (await REFERENCES[0].send(Netcore(first), 1))[0] == 200
    await first.control("POST", "/vendors/netcore/lists", json=ITEMS["lists"])
    saved = next(p for p in first.client.server.app[keys.PROVIDERS] if p.name == "netcore").export_state()
    second = Api(await aiohttp_client(create_app(DEFAULT_SETTINGS)))
    next(p for p in second.client.server.app[keys.PROVIDERS] if p.name == "netcore").import_state(saved)
    assert (await listed(Netcore(second), "templates", KEY))["777"]["provisioned"] is True
    assert "900" in await listed(Netcore(second), "lists")


# -- the --fixtures overlay ---------------------------------------------------------------------------
async def start(tmp_path: Path, files: dict[str, Any], **settings: Any) -> tuple[TestClient, Netcore]:
    (tmp_path / "netcore").mkdir(exist_ok=True)
    for name, doc in files.items():
        (tmp_path / "netcore" / name).write_text(json.dumps(doc))
    client = TestClient(TestServer(create_app(dataclasses.replace(
        Settings(population_size=50, fixtures=tmp_path), **settings))))
    await client.start_server()
    return client, Netcore(Api(client))


MINE = {"id": 900, "channel": "apn", "title": "Mine", "body": "b"}


async def test_an_overlay_file_adding_one_item_keeps_the_packaged_ones(tmp_path) -> None:
    client, nc = await start(tmp_path, {"templates.json": {"templates": [MINE]}}, strict=True)
    try:
        assert set(await listed(nc, "templates")) == {"2", "5", "17", "132", "900"}
        assert await nc.create_gen1(template_id=900, app_ids=[OWN_APP])
    finally:
        await client.close()


async def test_an_overlay_file_saying_replace_replaces_the_packaged_one(tmp_path) -> None:
    client, nc = await start(tmp_path, {"templates.json": {"replace": True, "templates": [MINE]}}, strict=True)
    try:
        assert set(await listed(nc, "templates")) == {"900"}
        status, body = await nc.gen1("create", {"type": "apn", "app_ids": [OWN_APP], "template_id": 2})
        assert (status, body) == (400, gen1_error("Template not found"))
    finally:
        await client.close()


async def test_strict_true_in_account_json_makes_netcore_strict(tmp_path) -> None:
    client, nc = await start(tmp_path, {"account.json": {"strict": True}})
    try:
        assert (await nc.api.control("GET", "/vendors/netcore"))["strict"] is True
        assert OWN_APP in await listed(nc, "app_ids")  # the packaged apps are kept
        assert await REFERENCES[0].send(nc, 1) == REFERENCES[0].strict_answer
        other = {p["name"]: p["strict"] for p in (await nc.api.control("GET", "/vendors"))["vendors"]}
        assert other["netcore"] is True and other["braze"] is False
    finally:
        await client.close()
