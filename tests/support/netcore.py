"""Netcore test helpers: ``Netcore`` wraps the ``api`` fixture with one method per Netcore call."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

KEY = "API_KEY"
GEN1 = {"Authorization": KEY, "Content-Type": "application/json"}
V4 = {"api-key": KEY, "Content-Type": "application/json"}
FORM = {"Content-Type": "application/x-www-form-urlencoded"}


class Netcore:
    def __init__(self, api: Any, key: str = KEY) -> None:
        self.api = api
        self.key = key

    async def gen1(self, op: str, body: Any) -> tuple[int, Any]:
        status, answer, _ = await self.api.call("POST", f"/campaign/{op}", json=body,
                                                headers={**GEN1, "Authorization": self.key})
        return status, answer

    async def create_gen1(self, template_id: Any = 2, **extra: Any) -> int:
        status, body = await self.gen1("create", {"type": "apn", "app_ids": ["app-1"], "name": "Offer",
                                                  "template_id": template_id, **extra})
        assert status == 200, body
        return body["campaign_id"]

    async def v4(self, op: str, body: Any) -> tuple[int, Any]:
        status, answer, _ = await self.api.call("POST", f"/v4/campaign/{op}", json=body,
                                                headers={**V4, "api-key": self.key})
        return status, answer

    async def v3(self, body: dict[str, Any]) -> tuple[int, Any]:
        status, answer, _ = await self.api.call("POST", "/v3/campaign/create",
                                                json={"apikey": self.key, "clientid": 10223, "channel": "apn",
                                                      **body})
        return status, answer

    async def contact(self, activity: str, data: str, **form: str) -> tuple[int, Any]:
        status, answer, _ = await self.api.call(
            "POST", "/apiv2", data=urlencode({"data": data, **form}), headers=FORM,
            params={"type": "contact", "activity": activity, "apikey": self.key})
        return status, answer

    async def deliveries(self, **filters: Any) -> list[dict[str, Any]]:
        body = await self.api.control("GET", "/deliveries",
                                      params={"vendor": "netcore", **{k: str(v) for k, v in filters.items()}})
        return body["deliveries"]

    async def advance(self, seconds: float) -> None:
        await self.api.control("POST", "/clock", json={"advance_seconds": seconds})


def email_campaign(name: str, **extra: Any) -> dict[str, Any]:
    """One v4 campaign_details entry using the packaged template 132 and list 151."""
    return {"channel": "email", "campaign_name": name,
            "sender_details": {"sender_name": "Shop", "sender_email": "shop@example.com"},
            "content_details": {"template_id": 132, "subject_line": "Hello [FIRST_NAME]"},
            "audience_details": {"include_list": {"list_ids": ["151"]}}, **extra}


STRICT_GOLDEN = "netcore/strict"
"""Golden pairs of strict mode (``tests/golden/netcore/strict/``): unknown references get Netcore's error."""
OWN_APP = "2913736a33c6531c790d1eb89170ac41"
"""An app id of the packaged ``account.json``."""


def learned(collection: str, item_id: object) -> str:
    """The journal note of a request that provisioned ``item_id`` in learn mode."""
    return f"provisioned netcore {collection} {str(item_id)!r} (learn mode; --strict rejects unknown references)"
