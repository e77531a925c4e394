"""The example integration (examples/integration/) tested the way a user would, with the pytest plugin."""

from __future__ import annotations

import dataclasses
import importlib.util
import sys
import threading
from pathlib import Path
from typing import Any

import pytest

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "integration" / "shop_notifications.py"


def load_example() -> Any:
    spec = importlib.util.spec_from_file_location("shop_notifications", EXAMPLE)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


shop = load_example()


@pytest.fixture
def notifications(clevertap_credentials: dict[str, Any], netcore_credentials: dict[str, Any]) -> Any:
    """The integration configured in one line per vendor: sandbox URL + this test's credentials."""
    return shop.ShopNotifications(clevertap_credentials["base_url"], clevertap_credentials["account_id"],
                                  clevertap_credentials["passcode"], netcore_url=netcore_credentials["base_url"],
                                  netcore_key=netcore_credentials["api_key"])


def test_order_shipped_sends_one_push(notifications, sandbox) -> None:
    notifications.order_shipped("customer-42", "A-1001")
    [push] = sandbox.assert_request_made("clevertap", "send_push", count=1, body={
        "to": {"Identity": ["customer-42"]},
        "content": {"title": "Your order is on its way", "body": "Order A-1001 has shipped."}})
    assert push["response"] == {"status": "success", "message": "Added to queue for processing"}
    sandbox.assert_no_request(operation="send_sms")
    sandbox.assert_all_requests_accepted()


def test_otp_then_cart_tracking_in_order(notifications, sandbox) -> None:
    notifications.send_otp("customer-42", "123456")
    notifications.track_cart("mike@example.com", "Shoes", 49.5)
    sandbox.assert_requests_in_order([
        {"operation": "send_sms", "body": {"content": {"body": "Your code is 123456"}}},
        {"vendor": "netcore", "operation": "activity_upload",
         "body": [{"activity_name": "Add To Cart", "identity": "mike@example.com",
                   "activity_params": {"name": "Shoes", "price": 49.5}}]},
    ])
    sandbox.assert_all_requests_accepted()


def test_a_rejected_send_is_caught(notifications, sandbox) -> None:
    misconfigured = dataclasses.replace(notifications, passcode="")
    with pytest.raises(shop.VendorError) as failure:
        misconfigured.order_shipped("customer-42", "A-1")
    assert failure.value.status == 401
    with pytest.raises(AssertionError, match=r"1 request\(s\) were rejected by the sandbox"):
        sandbox.assert_all_requests_accepted()


def test_background_worker_is_awaited_not_slept_on(notifications, sandbox) -> None:
    worker = shop.NotificationWorker(notifications)
    try:
        start = threading.Timer(0.2, worker.order_shipped, ("customer-7", "B-7"))
        start.start()
        [push] = sandbox.wait_for_request(timeout=10, operation="send_push", body={"to": {"Identity": ["customer-7"]}})
        start.join()
    finally:
        worker.stop()
    assert push["body"]["content"]["body"] == "Order B-7 has shipped."
