"""The workspace fixture: replaceable through ``--fixtures DIR``; a bad file stops startup naming the file,
the JSON path and the problem."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from support.braze import HEADERS
from support.http import Api

from sandbox.app import create_app
from sandbox.core.resources import data_path
from sandbox.providers.braze.workspace import WorkspaceError
from sandbox.settings import Settings

PACKAGED = json.loads((data_path("fixtures") / "braze" / "workspace.json").read_text())


def overlay(tmp_path: Path, doc: object, *, replace: bool = True) -> Settings:
    """``DIR/braze/workspace.json`` holding ``doc`` (with ``"replace": true`` unless ``replace`` is False)."""
    (tmp_path / "braze").mkdir(exist_ok=True)
    if isinstance(doc, dict) and replace:
        doc = {"replace": True, **doc}
    (tmp_path / "braze" / "workspace.json").write_text(doc if isinstance(doc, str) else json.dumps(doc))
    return Settings(population_size=300, fixtures=tmp_path)


async def test_an_overlay_workspace_with_replace_replaces_the_packaged_one(aiohttp_client, tmp_path: Path) -> None:
    mine = {"campaigns": [{"id": "my-campaign", "name": "Mine", "type": "api",
                           "messages": {"my-variation": {"channel": "email"}}}]}
    api = Api(await aiohttp_client(create_app(overlay(tmp_path, mine))))
    status, body, _ = await api.call("GET", "/campaigns/list", headers={"Authorization": "Bearer k"})
    assert (status, body["campaigns"]) == (200, [{"id": "my-campaign", "last_edited": None, "name": "Mine",
                                                  "is_api_campaign": True, "tags": []}])
    status, body, _ = await api.call("POST", "/messages/send", headers=HEADERS, json={
        "campaign_id": "my-campaign", "external_user_ids": ["u"],
        "messages": {"email": {"app_id": "a", "from": "A <a@example.com>", "body": "b",
                               "message_variation_id": "my-variation"}}})
    assert status == 201


@pytest.mark.parametrize(("doc", "problem"), [
    ("{not json", r"\$: not valid JSON"),
    ({"campaigns": [{"id": "c", "name": "n"}]}, r"\$\.campaigns\[0\]: 'type' is a required property"),
    ({"campaigns": [{"id": "c", "name": "n", "type": "api", "messages": {"v": {"channel": "fax"}}}]},
     r"\$\.campaigns\[0\]\.messages\.v\.channel: 'fax' is not one of"),
    ({"campaigns": [{"id": "c", "name": "n", "type": "api", "segment_id": "s"}]},
     r"\$\.campaigns\[0\]\.segment_id: no segment 's' in \$\.segments"),
    ({"segments": [{"id": "s", "name": "n", "members": {"attribute": "a", "op": "sounds_like", "value": 1}}]},
     r"\$\.segments\[0\]\.members"),
    ({"segments": [{"id": "s", "name": "n"}, {"id": "s", "name": "m"}]}, r"\$\.segments\[1\]\.id: duplicate id 's'"),
    ({"campaigns": [{"id": "a", "name": "a", "type": "api", "messages": {"v": {"channel": "email"}}},
                    {"id": "b", "name": "b", "type": "api", "messages": {"v": {"channel": "sms"}}}]},
     r"\$\.campaigns\[1\]\.messages: message variation id 'v' is used by two campaigns"),
    ({"time_zone": "Mars/Olympus"}, r"\$\.time_zone: unknown IANA time zone"),
])
async def test_a_bad_workspace_stops_startup_naming_file_path_and_problem(aiohttp_client, tmp_path: Path, doc,
                                                                          problem: str) -> None:
    settings = overlay(tmp_path, doc)
    with pytest.raises(WorkspaceError, match=problem) as caught:
        await aiohttp_client(create_app(settings))
    assert str(caught.value).startswith(str(tmp_path / "braze" / "workspace.json") + ": ")


def test_the_packaged_workspace_has_an_api_campaign_with_a_variation_per_channel() -> None:
    [api] = [c for c in PACKAGED["campaigns"] if c["type"] == "api"]
    channels = sorted(m["channel"] for m in api["messages"].values())
    assert channels == sorted(["apple_push", "android_push", "kindle_push", "web_push", "email", "sms", "webhook",
                               "content_card", "whats_app"])
