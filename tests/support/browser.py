"""What the browser tests send to the sandbox before looking at the inspector (over HTTP, through ``Api``)."""

from __future__ import annotations

from typing import Any

from support.http import Api, clevertap_headers

BRAZE_KEY = "BRAZE-KEY-0123456789"
BRAZE_HEADERS = {"Authorization": f"Bearer {BRAZE_KEY}", "Content-Type": "application/json"}


async def push(api: Api, text: str, *, account: str = "ACCOUNT_ID", users: tuple[str, ...] = ("user0000001",)
               ) -> tuple[int, Any]:
    """A CleverTap ``send/push.json`` (accepted) for ``account``."""
    headers = clevertap_headers(account)
    body = {"to": {"Identity": list(users)}, "tag_group": "ui", "content": {"title": "Hi", "body": text}}
    status, answer, _ = await api.call("POST", "/1/send/push.json", json=body, headers=headers)
    return status, answer


async def braze_send(api: Api, messages: dict[str, Any], users: list[str]) -> tuple[int, Any]:
    status, answer, _ = await api.call("POST", "/messages/send", headers=BRAZE_HEADERS,
                                       json={"external_user_ids": users, "messages": messages})
    return status, answer


async def reachable(api: Api, channel: str, limit: int = 10) -> list[str]:
    """Identities of population users subscribed or opted in to ``channel`` (with a device for push)."""
    people = (await api.control("GET", "/profiles", params={"limit": "300"}))["profiles"]
    found = [p["identity"] for p in people
             if (p.get("reachability") or {}).get(channel, {}).get("state") in ("subscribed", "opted_in")
             and not p["reachability"][channel].get("invalid") and (channel != "push" or p.get("devices"))]
    return found[:limit]
