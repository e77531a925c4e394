"""A user's fixtures overlay (``--fixtures DIR``) with ``"replace": true`` replaces account.json and campaigns.json:
other notification channels, other dashboard campaigns (strict mode: only those are accepted), asynchronous
counts answered through a ``req_id`` follow-up. Merging overlays: test_learn_strict.py."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from support.http import CLEVERTAP_HEADERS

from sandbox.core.resources import data_path
from sandbox.settings import Settings

PACKAGED = data_path("fixtures") / "clevertap"


async def post(api, path: str, body: Any) -> tuple[int, Any]:
    status, answer, _ = await api.call("POST", path, json=body, headers=CLEVERTAP_HEADERS)
    return status, answer


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    overlay = tmp_path / "clevertap"
    overlay.mkdir()
    account = json.loads((PACKAGED / "account.json").read_text())
    account.update(async_counts=True, notification_channels=["promo"], replace=True, strict=True)
    (overlay / "account.json").write_text(json.dumps(account))
    (overlay / "campaigns.json").write_text(json.dumps({"replace": True, "campaigns": [{"id": 42, "channel": "push"}]}))
    return Settings(population_size=300, fixtures=tmp_path)


async def test_users_overlay_changes_channels_campaigns_and_counts(api) -> None:
    push = {"to": {"Identity": ["a"]}, "content": {"title": "t", "body": "b"}}
    assert (await post(api, "/1/send/push.json", {**push, "campaign_id": 42}))[0] == 200
    assert (await post(api, "/1/send/push.json", {**push, "campaign_id": 1000000043}))[0] == 400
    create = {"name": "n", "when": "now", "where": {}, "devices": ["android"], "estimate_only": True,
              "content": {"title": "t", "body": "b", "platform_specific": {"android": {"wzrk_cid": "engagement"}}}}
    assert (await post(api, "/1/targets/create.json", create))[1]["error"] == "Invalid Notification Channel ID"
    query = {"event_name": "Charged", "from": 20250101, "to": 20251231}
    status, partial = await post(api, "/1/counts/events.json", query)
    assert status == 200 and partial["status"] == "partial"
    status, done, _ = await api.call("POST", "/1/counts/events.json", json=query, headers=CLEVERTAP_HEADERS,
                                     params={"req_id": str(partial["req_id"])})
    assert status == 200 and done["status"] == "success" and done["count"] > 0
