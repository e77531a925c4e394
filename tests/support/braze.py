"""Helpers of the Braze tests: the packaged workspace's ids and a client that sends Braze's headers."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

KEY = "test-key"
HEADERS = {"Authorization": f"Bearer {KEY}", "Content-Type": "application/json"}
GET_HEADERS = {"Authorization": f"Bearer {KEY}"}
GRAPE_INVALID_JSON = {"error": "\nProblem:\n  message body does not match declared format\nResolution:\n  when "
                               "specifying application/json as content-type, you must pass valid application/json in "
                               "the request's 'body' "}

API_CAMPAIGN = "4f1a3b2c-9d8e-4f7a-b6c5-1d2e3f4a5b6c"
VARIATION = {
    "apple_push": "0a1b2c3d-0001-4a00-8000-000000000001", "android_push": "0a1b2c3d-0002-4a00-8000-000000000002",
    "kindle_push": "0a1b2c3d-0003-4a00-8000-000000000003", "web_push": "0a1b2c3d-0004-4a00-8000-000000000004",
    "email": "0a1b2c3d-0005-4a00-8000-000000000005", "sms": "0a1b2c3d-0006-4a00-8000-000000000006",
    "webhook": "0a1b2c3d-0007-4a00-8000-000000000007", "content_card": "0a1b2c3d-0008-4a00-8000-000000000008",
    "whats_app": "0a1b2c3d-0009-4a00-8000-000000000009",
}
TRIGGERED = "d8b73da7-0b7c-fc72-1d80-e59c7f20f0d3"
TRIGGERED_PAUSED = "9a8b7c6d-0003-4e00-8000-000000000003"
TRIGGERED_ARCHIVED = "9a8b7c6d-0004-4e00-8000-000000000004"
TRANSACTIONAL = "b1c2d3e4-0005-4f00-8000-000000000005"
TRANSACTIONAL_PAUSED = "b1c2d3e4-0006-4f00-8000-000000000006"
CANVAS = "c0a1b2c3-0001-4d00-8000-0000000000c1"
CANVAS_PAUSED = "c0a1b2c3-0002-4d00-8000-0000000000c2"
CANVAS_ARCHIVED = "c0a1b2c3-0003-4d00-8000-0000000000c3"
SEGMENT_ALL = "5e6f7a8b-0001-4c00-9000-00000000a001"
SEGMENT_VIP = "5e6f7a8b-0002-4c00-9000-00000000a002"
SMS_GROUP = "8f9e0d1c-0001-4b00-8000-0000000005a1"
WHATSAPP_GROUP = "8f9e0d1c-0002-4b00-8000-0000000005a2"
EMAIL_APP = "3a4b5c6d-0000-4000-8000-0000000000e1"
GCG_MEMBER = "gcg-member-1"
IOS_TOKEN = "0f" * 32
"""An APNs device token (64 hex): registers an iOS device (any other token is taken for Android)."""
IOS = {"push_tokens": [{"app_id": EMAIL_APP, "token": IOS_TOKEN}]}

MESSAGE_OBJECTS: dict[str, dict[str, Any]] = {
    "apple_push": {"alert": "hello"},
    "android_push": {"alert": "hello", "title": "Hi"},
    "kindle_push": {"alert": "hello", "title": "Hi"},
    "web_push": {"alert": "hello", "title": "Hi"},
    "email": {"app_id": EMAIL_APP, "from": "Shop <shop@example.com>", "subject": "S", "body": "<p>B</p>"},
    "sms": {"subscription_group_id": SMS_GROUP, "body": "hello", "app_id": EMAIL_APP},
    "webhook": {"url": "https://example.com/hook", "request_method": "POST", "body": "x"},
    "content_card": {"type": "CLASSIC", "title": "T", "description": "D", "time_to_live": 3600},
    "whats_app": {"app_id": EMAIL_APP, "subscription_group_id": WHATSAPP_GROUP, "message_type": "template_message",
                  "message": {"template_name": "order_update", "template_language_code": "en"}},
}


def fail(message: str) -> dict[str, str]:
    return {"message": message}


class Braze:
    """``api`` plus Braze's auth and content type on every call."""

    def __init__(self, api: Any, key: str = KEY) -> None:
        self.api = api
        self.key = key

    async def post(self, path: str, body: Any, *, headers: Mapping[str, str] | None = None
                   ) -> tuple[int, Any, Mapping[str, str]]:
        sent = {"Authorization": f"Bearer {self.key}", "Content-Type": "application/json", **(headers or {})}
        return await self.api.call("POST", path, json=body, headers=sent)

    async def get(self, path: str, **params: str) -> tuple[int, Any, Mapping[str, str]]:
        return await self.api.call("GET", path, headers={"Authorization": f"Bearer {self.key}"}, params=params)

    async def deliveries(self, **filters: Any) -> list[dict[str, Any]]:
        body = await self.api.control("GET", "/deliveries", params={"vendor": "braze", **filters})
        return body["deliveries"]

    async def advance(self, seconds: float) -> None:
        await self.api.control("POST", "/clock", json={"advance_seconds": seconds})

    async def track(self, **arrays: Any) -> dict[str, Any]:
        status, body, _ = await self.post("/users/track", arrays)
        assert status == 201, body
        return body
