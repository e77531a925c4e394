"""The sandbox a browser test drives: its URL, plain (blocking) HTTP calls to it, and requests the inspector shows."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlencode

from support.http import CLEVERTAP_HEADERS

BRAZE_HEADERS = {"Authorization": "Bearer BRAZE-KEY-0123456789", "Content-Type": "application/json"}


class Sandbox:
    def __init__(self, url: str) -> None:
        self.url = url

    def call(self, method: str, path: str, *, json_body: Any = None, data: bytes | None = None,
             headers: Mapping[str, str] | None = None, params: Mapping[str, str] | None = None) -> tuple[int, Any]:
        body = json.dumps(json_body).encode() if json_body is not None else data
        url = self.url + path + ("?" + urlencode(params) if params else "")
        request = urllib.request.Request(url, data=body, method=method, headers=dict(headers or {}))
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                status, raw = response.status, response.read()
        except urllib.error.HTTPError as error:
            status, raw = error.code, error.read()
        try:
            return status, json.loads(raw) if raw else None
        except ValueError:
            return status, raw.decode("utf-8", "replace")

    def control(self, method: str, path: str, **kwargs: Any) -> Any:
        status, body = self.call(method, "/_sandbox" + path, **kwargs)
        assert status < 400, (status, body)
        return body

    def push(self, text: str, *, account: str = "ACCOUNT_ID", users: tuple[str, ...] = ("user0000001",)) -> Any:
        """A CleverTap ``send/push.json`` (accepted)."""
        headers = {**CLEVERTAP_HEADERS, "X-CleverTap-Account-Id": account}
        body = {"to": {"Identity": list(users)}, "tag_group": "ui", "content": {"title": "Hi", "body": text}}
        return self.call("POST", "/1/send/push.json", json_body=body, headers=headers)

    def braze_send(self, messages: Mapping[str, Any], users: list[str]) -> Any:
        return self.call("POST", "/messages/send", json_body={"external_user_ids": users, "messages": messages},
                         headers=BRAZE_HEADERS)

    def reachable(self, channel: str, states: tuple[str, ...], limit: int = 10) -> list[str]:
        """Identities of population users whose ``channel`` state is one of ``states`` (and not invalid)."""
        people = self.control("GET", "/profiles", params={"limit": "300"})["profiles"]
        found = [p["identity"] for p in people
                 if (p.get("reachability") or {}).get(channel, {}).get("state") in states
                 and not p["reachability"][channel].get("invalid")
                 and (channel != "push" or p.get("devices"))]
        return found[:limit]
