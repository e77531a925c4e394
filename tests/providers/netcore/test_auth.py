"""Auth per generation (spec §1, §2, §4.2, §6.1, §6.3) with any non-empty key accepted (no --accounts)."""

from __future__ import annotations

import pytest
from support.netcore import FORM, GEN1, V4

GEN1_DENIED = {"status": "error", "message": "Invalid API key"}
V4_DENIED = {"data": {}, "message": "Authentication failed due to an invalid API key.", "statusCode": 401}
CREATE = {"type": "apn", "app_ids": ["app-1"], "template_id": 2}


@pytest.mark.parametrize("authorization", [None, "", "Bearer", "Bearer   ", "   "])
async def test_gen1_without_a_key_is_401(api, authorization) -> None:
    headers = {"Content-Type": "application/json"}
    if authorization is not None:
        headers["Authorization"] = authorization
    for path in ("/campaign/create", "/netcore/campaign/execute"):
        status, body, _ = await api.call("POST", path, json=CREATE, headers=headers)
        assert (status, body) == (401, GEN1_DENIED)


@pytest.mark.parametrize("authorization", ["API_KEY", "Bearer API_KEY", "bearer API_KEY"])
async def test_gen1_key_with_or_without_bearer_names_the_same_tenant(api, authorization) -> None:
    status, body, _ = await api.call("POST", "/campaign/create", json=CREATE,
                                     headers={**GEN1, "Authorization": authorization})
    assert status == 200, body
    assert [e["tenant"] for e in await api.requests()] == ["API_KEY"]


@pytest.mark.parametrize("drop", ["apikey", "clientid"])
async def test_v3_without_apikey_or_clientid_is_401(api, drop) -> None:
    payload = {"apikey": "API_KEY", "clientid": 10223, "channel": "apn", "campaign_status": "draft"}
    del payload[drop]
    status, body, _ = await api.call("POST", "/v3/campaign/create", json=payload)
    assert (status, body) == (401, GEN1_DENIED)


async def test_v3_tenant_is_the_clientid(api) -> None:
    payload = {"apikey": "API_KEY", "clientid": "10223", "channel": "apn", "campaign_status": "draft"}
    status, _, _ = await api.call("POST", "/v3/campaign/create", json=payload)
    assert status == 200
    assert [e["tenant"] for e in await api.requests()] == ["10223"]


@pytest.mark.parametrize("headers", [{}, {"api-key": ""}, {"Authorization": "Bearer API_KEY"}])
async def test_v4_needs_the_api_key_header(api, headers) -> None:
    for op in ("create", "update", "get", "list", "test", "delete"):
        status, body, _ = await api.call("POST", f"/v4/campaign/{op}", json={"channel": ["email"]},
                                         headers={"Content-Type": "application/json", **headers})
        assert (status, body) == (401, V4_DENIED), op


async def test_v4_auth_is_checked_before_the_body(api) -> None:
    status, body, _ = await api.call("POST", "/v4/campaign/get", data=b"not json", headers={})
    assert (status, body) == (401, V4_DENIED)
    status, body, _ = await api.call("POST", "/v4/campaign/get", data=b"not json", headers=V4)
    assert status == 400 and body["message"] == "The request parameters are invalid."


async def test_apiv2_key_in_query_or_form_and_missing(api) -> None:
    params = {"type": "contact", "activity": "add"}
    status, body, _ = await api.call("POST", "/apiv2", data="data=%7B%7D", headers=FORM, params=params)
    assert (status, body) == (401, {"result": "Invalid API key"})
    status, body, _ = await api.call("POST", "/apiv2", data="data=%7B%7D&apikey=K", headers=FORM, params=params)
    assert status == 200 and body["result"] == "Success"
    assert [e["tenant"] for e in await api.requests()] == [None, "K"]


async def test_activity_upload_without_a_key_is_the_gateway_403(api) -> None:
    event = [{"activity_name": "a", "asset_id": "x", "timestamp": "2021-12-29T12:06:28Z", "identity": "u1",
              "activity_params": {}}]
    for headers in ({}, {"Authorization": "Bearer "}, {"api-key": " "}):
        status, body, answer_headers = await api.call("POST", "/v1/activity/upload", json=event, headers=headers)
        assert (status, body) == (403, {"message": "Missing Authentication Token"})
        assert answer_headers["x-amzn-errortype"] == "MissingAuthenticationTokenException"
    status, _, _ = await api.call("POST", "/v1/activity/upload", json=event, headers={"Authorization": "K"})
    assert status == 200


async def test_tenants_do_not_see_each_others_campaigns(nc) -> None:
    campaign_id = await nc.create_gen1()
    nc.key = "OTHER_KEY"
    status, body = await nc.gen1("execute", {"type": "apn", "campaign_id": campaign_id, "data_source": "list",
                                             "list_id": 151})
    assert (status, body) == (400, {"status": "error", "message": "Campaign not found"})
