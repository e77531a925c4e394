"""With ``--accounts``, only the listed Netcore keys (and, for v3, their clientid) are valid."""

from __future__ import annotations

import json

import pytest
from support.netcore import FORM, GEN1, V4

from sandbox.settings import Settings

EVENT = [{"activity_name": "a", "asset_id": "x", "timestamp": "2021-12-29T12:06:28Z", "identity": "u1",
          "activity_params": {}}]


@pytest.fixture
def settings(tmp_path) -> Settings:
    accounts = tmp_path / "accounts.json"
    accounts.write_text(json.dumps({"netcore": {"GOOD_KEY": 10223, "ANY_CLIENT_KEY": None}}))
    return Settings(population_size=300, accounts=accounts)


@pytest.mark.parametrize(("key", "status"), [("GOOD_KEY", 200), ("BAD_KEY", 401)])
async def test_each_family_accepts_only_listed_keys(api, key, status) -> None:
    calls = [
        ("POST", "/campaign/create", {"json": {"type": "apn", "app_ids": ["a"]},
                                      "headers": {**GEN1, "Authorization": f"Bearer {key}"}}),
        ("POST", "/v4/campaign/list", {"json": {"page_no": 1, "page_size": 1}, "headers": {**V4, "api-key": key}}),
        ("POST", "/apiv2", {"data": "data=%7B%7D", "headers": FORM,
                            "params": {"type": "contact", "activity": "add", "apikey": key}}),
        ("POST", "/v3/campaign/create", {"json": {"apikey": key, "clientid": 10223, "channel": "apn",
                                                  "campaign_status": "draft"}}),
    ]
    for method, path, kwargs in calls:
        got, body, _ = await api.call(method, path, **kwargs)
        assert got == status, (path, body)
    got, body, headers = await api.call("POST", "/v1/activity/upload", json=EVENT, headers={"api-key": key})
    if status == 200:
        assert got == 200
    else:
        assert (got, body) == (401, {"message": "Unauthorized"})
        assert headers["x-amzn-errortype"] == "UnauthorizedException"


async def test_v3_clientid_must_match_the_key(api) -> None:
    payload = {"apikey": "GOOD_KEY", "clientid": 99999, "channel": "apn", "campaign_status": "draft"}
    status, body, _ = await api.call("POST", "/v3/campaign/create", json=payload)
    assert (status, body) == (401, {"status": "error", "message": "Invalid API key"})
    payload["apikey"] = "ANY_CLIENT_KEY"
    status, _, _ = await api.call("POST", "/v3/campaign/create", json=payload)
    assert status == 200
