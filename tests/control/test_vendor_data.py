"""Run-time additions to a vendor's dashboard data: ``POST /_sandbox/vendors/<vendor>/<collection>``."""

from __future__ import annotations

import pytest
from support.http import CLEVERTAP_HEADERS

from sandbox.settings import Settings

SMS = {"to": {"Identity": ["JohnDoe"]}, "content": {"body": "hi"}}


@pytest.mark.parametrize("settings", [Settings(population_size=300, strict=True)], ids=["strict"])
async def test_a_dashboard_campaign_added_at_run_time_is_usable_until_reset(api) -> None:
    status, body, _ = await api.call("POST", "/1/send/sms.json", json={**SMS, "campaign_id": 1234567890},
                                     headers=CLEVERTAP_HEADERS)
    assert status == 400 and body["status"] == "fail"
    added = await api.control("POST", "/vendors/clevertap/campaigns", params={"tenant": "ACCOUNT_ID"},
                              json={"id": 1234567890, "name": "Flash sale", "channel": "sms"})
    assert added == {"vendor": "clevertap", "collection": "campaigns", "tenant": "ACCOUNT_ID",
                     "added": [{"id": 1234567890, "name": "Flash sale", "channel": "sms"}]}
    status, body, _ = await api.call("POST", "/1/send/sms.json", json={**SMS, "campaign_id": 1234567890},
                                     headers=CLEVERTAP_HEADERS)
    assert (status, body) == (200, {"status": "success", "message": "Added to queue for processing"})
    other_tenant = dict(CLEVERTAP_HEADERS, **{"X-CleverTap-Account-Id": "SOMEONE_ELSE"})
    status, _, _ = await api.call("POST", "/1/send/sms.json", json={**SMS, "campaign_id": 1234567890},
                                  headers=other_tenant)
    assert status == 400
    await api.control("POST", "/reset")
    status, _, _ = await api.call("POST", "/1/send/sms.json", json={**SMS, "campaign_id": 1234567890},
                                  headers=CLEVERTAP_HEADERS)
    assert status == 400


async def test_bad_items_and_unknown_collections_are_explained(api) -> None:
    cases = [("/_sandbox/vendors/clevertap/campaigns", {"id": "x", "channel": "sms"}, 400),
             ("/_sandbox/vendors/clevertap/campaigns", {"id": 5, "channel": "fax"}, 400),
             ("/_sandbox/vendors/clevertap/widgets", {}, 404),
             ("/_sandbox/vendors/nobody/campaigns", {}, 404)]
    for path, item, expected in cases:
        status, body, _ = await api.call("POST", path, json=item)
        assert status == expected and body["error"]["message"], (path, body)


async def test_vendors_listing(api) -> None:
    vendors = (await api.control("GET", "/vendors"))["vendors"]
    assert "clevertap" in [v["name"] for v in vendors]
