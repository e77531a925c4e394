"""Helpers of the CleverTap tests: campaign bodies and a POST with the default account's headers."""

from __future__ import annotations

from typing import Any

from support.http import CLEVERTAP_HEADERS

CREATE = "/1/targets/create.json"
PUSH = {"name": "Winback", "target_mode": "push", "where": {}, "devices": ["ios"],
        "content": {"title": "Hi", "body": "Come back"}, "when": "now"}
EMAIL = {"name": "Newsletter", "target_mode": "email", "where": {}, "content": {"subject": "s", "body": "<p>b</p>"},
         "when": "now"}


async def post(api: Any, path: str, body: Any) -> Any:
    """POST ``body`` with the default account's headers; the answer, which must be a 200."""
    status, answer, _ = await api.call("POST", path, json=body, headers=CLEVERTAP_HEADERS)
    assert status == 200, answer
    return answer
