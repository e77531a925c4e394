"""An example "integration under test": a shop's notification service calling the vendors over plain HTTP.

It knows nothing about the sandbox: it takes base URLs and credentials, exactly as it would in production
(``https://api.clevertap.com`` / ``https://api.netcoresmartech.com``). Its tests point it at the sandbox
(``tests/examples/test_shop_notifications.py``).
"""

from __future__ import annotations

import json
import queue
import threading
import urllib.error
import urllib.request
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any


class VendorError(Exception):
    def __init__(self, status: int, body: Any) -> None:
        super().__init__(f"{status}: {body}")
        self.status = status
        self.body = body


def post_json(url: str, body: Any, headers: dict[str, str]) -> Any:
    request = urllib.request.Request(url, data=json.dumps(body).encode(), method="POST",
                                     headers={**headers, "Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=10) as resp:
            return json.loads(resp.read())
    except urllib.error.HTTPError as exc:
        raise VendorError(exc.code, json.loads(exc.read() or b"null")) from None


@dataclass
class ShopNotifications:
    clevertap_url: str
    """``https://api.clevertap.com`` in production; the sandbox's base URL in tests."""
    account_id: str
    passcode: str
    netcore_url: str | None = None
    netcore_key: str | None = None

    def _clevertap(self, path: str, body: dict[str, Any]) -> Any:
        answer = post_json(self.clevertap_url + path, body, {"X-CleverTap-Account-Id": self.account_id,
                                                             "X-CleverTap-Passcode": self.passcode})
        if answer.get("status") != "success":
            raise VendorError(200, answer)
        return answer

    def order_shipped(self, customer: str, order_id: str) -> Any:
        """A push to the customer's devices (CleverTap Message Identity API)."""
        return self._clevertap("/1/send/push.json", {
            "to": {"Identity": [customer]},
            "tag_group": "orders",
            "respect_frequency_caps": False,
            "content": {"title": "Your order is on its way", "body": f"Order {order_id} has shipped."},
        })

    def send_otp(self, customer: str, code: str) -> Any:
        return self._clevertap("/1/send/sms.json", {"to": {"Identity": [customer]},
                                                    "content": {"body": f"Your code is {code}"}})

    def track_cart(self, email: str, product: str, price: float) -> Any:
        """An "Add To Cart" activity (Netcore activity upload API)."""
        if not self.netcore_url or not self.netcore_key:
            raise RuntimeError("Netcore is not configured")
        return post_json(self.netcore_url + "/v1/activity/upload", [{
            "activity_name": "Add To Cart",
            "asset_id": "shop-web",
            "timestamp": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "identity": email,
            "activity_source": "web",
            "activity_params": {"name": product, "price": price},
        }], {"Authorization": f"Bearer {self.netcore_key}"})


class NotificationWorker:
    """Sends from a background thread, as a queue consumer would: tests must wait, not sleep."""

    def __init__(self, notifications: ShopNotifications) -> None:
        self.notifications = notifications
        self.jobs: queue.Queue[tuple[str, str] | None] = queue.Queue()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def order_shipped(self, customer: str, order_id: str) -> None:
        self.jobs.put((customer, order_id))

    def _run(self) -> None:
        while (job := self.jobs.get()) is not None:
            self.notifications.order_shipped(*job)

    def stop(self) -> None:
        self.jobs.put(None)
        self.thread.join(10)
