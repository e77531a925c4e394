"""Netcore fixture files: the overlay replaces packaged ones; a bad file stops startup naming file, JSON path
and problem."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from aiohttp.test_utils import TestClient, TestServer

from sandbox.app import create_app
from sandbox.core.resources import data_path
from sandbox.settings import Settings


def overlay(tmp_path: Path, name: str, doc: object) -> Settings:
    folder = tmp_path / "netcore"
    folder.mkdir(exist_ok=True)
    (folder / name).write_text(doc if isinstance(doc, str) else json.dumps(doc))
    return Settings(population_size=50, fixtures=tmp_path)


async def start(settings: Settings) -> TestClient:
    client = TestClient(TestServer(create_app(settings)))
    await client.start_server()
    return client


@pytest.mark.parametrize(("name", "doc", "problem"), [
    ("templates.json", {"templates": [{"id": 1, "channel": "apn", "body": "b"}]},
     "$.templates[0]: 'title' is a required"),
    ("templates.json", {"templates": [{"id": "x", "channel": "email", "subject": "s", "body": "b"}]},
     "$.templates[0].id: 'x' is not of type 'integer'"),
    ("lists.json", {"lists": [{"id": 1, "name": "a", "members": [{"FIRST_NAME": "no key"}]}]},
     "$.lists[0].members[0]"),
    ("lists.json", {"lists": [{"id": 1, "name": "a"}, {"id": 1, "name": "b"}]}, "$.lists[1].id: duplicate id 1"),
    ("segments.json", {"segment": []}, "$: Additional properties are not allowed ('segment' was unexpected)"),
    ("segments.json", {"replace": True, "segment": []}, "$: "),
    ("segments.json", {"segments": [{"id": 1, "name": "a", "rule": {"attribute": "x", "op": "bogus", "value": 1}}]},
     "$.segments[0].rule"),
    ("segments.json", {"segments": [{"id": 1, "name": "a", "rule": {"member_of": "list:999"}}]},
     "$.segments[0].rule: member_of 'list:999' names no list:<id> or other segment:<id>"),
    ("segments.json", {"segments": [{"id": 1, "name": "a", "rule": {"everyone": True}, "members": []}]},
     "$.segments[0]: "),
    ("campaigns.json", "{not json", "not valid JSON"),
])
async def test_a_bad_file_stops_startup_with_file_path_and_problem(tmp_path, name, doc, problem) -> None:
    with pytest.raises(ValueError) as caught:
        await start(overlay(tmp_path, name, doc))
    message = str(caught.value)
    assert message.startswith(str(tmp_path / "netcore" / name) + ": ")
    assert problem in message


async def test_an_overlay_template_replaces_the_packaged_one_with_its_id(tmp_path) -> None:
    templates = {"templates": [{"id": 2, "channel": "apn", "title": "Custom [FIRST_NAME]", "body": "Mine"}]}
    client = await start(overlay(tmp_path, "templates.json", templates))
    try:
        headers = {"Authorization": "K"}
        async with client.post("/campaign/create", json={"type": "apn", "app_ids": ["a"], "template_id": 2},
                               headers=headers) as resp:
            campaign_id = (await resp.json())["campaign_id"]
        async with client.post("/campaign/execute", json={"type": "apn", "campaign_id": campaign_id,
                                                          "data_source": "segment", "segment_id": 40},
                               headers=headers) as resp:
            assert resp.status == 200
        async with client.get("/_sandbox/deliveries", params={"vendor": "netcore"}) as resp:
            deliveries = (await resp.json())["deliveries"]
        assert [d["content"] for d in deliveries] == [{"title": "Custom Asha", "body": "Mine"},
                                                    {"title": "Custom Ravi", "body": "Mine"}]
    finally:
        await client.close()


def test_packaged_fixture_ids_are_the_ones_the_doc_examples_name() -> None:
    folder = data_path("fixtures") / "netcore"
    templates = {t["id"] for t in json.loads((folder / "templates.json").read_text())["templates"]}
    lists = {x["id"] for x in json.loads((folder / "lists.json").read_text())["lists"]}
    segments = {s["id"] for s in json.loads((folder / "segments.json").read_text())["segments"]}
    campaigns = {c["campaign_id"] for c in json.loads((folder / "campaigns.json").read_text())["campaigns"]}
    assert {2, 17, 132} <= templates  # spec §2 template_id 2, §3 templateid 17, §4.4 template_id 132
    assert {151, 153} <= lists  # spec §3 target_lists / suppression_list
    assert {9, 37} <= segments  # spec §4.4 seg_ids
    assert {416, 425, 828, 1231} <= campaigns  # spec §4.4-§4.7
