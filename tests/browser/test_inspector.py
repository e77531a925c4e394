"""The web inspector as a user sees it, in headless Chromium: live requests, filters, detail, deliveries rendered
as the recipient would see them, the estimate playground, campaigns and the clock, the control token prompt."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from support.browser import Sandbox
from support.http import DEFAULT_SETTINGS

from sandbox.app import create_app

try:
    from playwright.sync_api import expect
except ImportError:  # the ``browser`` fixture says so (and fails under CI)
    expect = None

ROWS = "#request-list tbody tr"


def open_inspector(page: Any, sandbox: Sandbox, query: str = "") -> None:
    page.goto(f"{sandbox.url}/_sandbox/ui{query}")
    expect(page.locator("#live")).to_have_text("live")


def test_a_request_appears_in_the_list_without_reload(page: Any, live_sandbox: Sandbox,
                                                      screenshot: Callable[[str], Path]) -> None:
    open_inspector(page, live_sandbox)
    expect(page.locator("#no-requests")).to_be_visible()
    page.evaluate("window.loadedOnce = true")
    status, _ = live_sandbox.push("Hello from the test")
    assert status == 200
    row = page.locator(ROWS).first
    expect(row).to_contain_text("send_push")
    expect(row).to_contain_text("/1/send/push.json")
    expect(row).to_contain_text("200")
    assert page.evaluate("window.loadedOnce") is True  # the same page: no reload
    live_sandbox.call("POST", "/messages/send", json_body={}, headers={"Content-Type": "application/json"})
    expect(page.locator(ROWS)).to_have_count(2)
    expect(page.locator(ROWS).first).to_have_class(re.compile("rejected"))  # 401 without a key stands out
    screenshot("requests")


def test_filters_narrow_the_list_and_the_har_download(page: Any, live_sandbox: Sandbox,
                                                     screenshot: Callable[[str], Path]) -> None:
    live_sandbox.push("first push", account="ACME")
    live_sandbox.push("second push", account="GLOBEX")
    live_sandbox.call("POST", "/messages/send", json_body={"messages": {}},
                      headers={"Content-Type": "application/json"})
    open_inspector(page, live_sandbox)
    expect(page.locator(ROWS)).to_have_count(3)

    page.select_option("#f-vendor", "braze")
    expect(page.locator(ROWS)).to_have_count(1)
    expect(page.locator(ROWS).first).to_contain_text("messages_send")
    page.select_option("#f-vendor", "")
    page.select_option("#f-class", "2xx")
    expect(page.locator(ROWS)).to_have_count(2)
    page.fill("#f-q", "SECOND PUSH")
    expect(page.locator(ROWS)).to_have_count(1)
    expect(page.locator(ROWS).first).to_contain_text("GLOBEX")
    assert "q=SECOND+PUSH" in page.url  # the filter is in the address: a link to this view

    with page.expect_download() as download:
        page.click("#har")
    har = json.loads(Path(download.value.path()).read_text())
    assert [e["_tenant"] for e in har["log"]["entries"]] == ["GLOBEX"]

    page.fill("#f-q", "")
    page.select_option("#f-class", "")
    page.fill("#tenant", "ACME")
    expect(page.locator(ROWS)).to_have_count(1)
    live_sandbox.push("third push", account="ACME")
    live_sandbox.push("not for this tenant", account="GLOBEX")
    expect(page.locator(ROWS)).to_have_count(2)  # live updates keep the filter
    screenshot("filtered")


def test_the_detail_shows_the_body_masked_credentials_and_curl(page: Any, live_sandbox: Sandbox,
                                                                screenshot: Callable[[str], Path]) -> None:
    live_sandbox.push("Hello detail")
    passcode = "PASSCODE"
    live_sandbox.call("POST", "/1/send/push.json", data=b"{not json", headers={
        "X-CleverTap-Account-Id": "ACCOUNT_ID", "X-CleverTap-Passcode": passcode, "Content-Type": "application/json"})
    open_inspector(page, live_sandbox)
    page.locator(ROWS).nth(1).click()
    body = page.locator("#request-body")
    expect(body).to_contain_text('"body": "Hello detail"')
    expect(page.locator("#response-body")).to_contain_text("Added to queue for processing")
    detail = page.locator("#detail")
    expect(detail).to_contain_text(re.compile("X-CleverTap-Passcode", re.IGNORECASE))
    expect(detail).to_contain_text("***")
    assert passcode not in detail.inner_text()
    page.click("#copy-curl")
    curl = page.locator("#curl")
    expect(curl).to_be_visible()
    expect(curl).to_contain_text(f"curl -X POST '{live_sandbox.url}/1/send/push.json'")
    expect(curl).to_contain_text("--data-raw")
    assert passcode not in curl.inner_text()
    screenshot("detail")

    page.locator(ROWS).first.click()  # the request whose body did not parse: shown raw, with its 400
    expect(detail).to_contain_text("Raw body (did not parse)")
    expect(page.locator("#request-body")).to_have_text("{not json")
    expect(detail.locator("h2 .status")).to_have_text("400")


def test_deliveries_render_as_the_user_would_see_them(page: Any, live_sandbox: Sandbox,
                                                      screenshot: Callable[[str], Path]) -> None:
    users = sorted(set(live_sandbox.reachable("push", ("opted_in", "subscribed")))
                   & set(live_sandbox.reachable("email", ("opted_in", "subscribed"), limit=300)))[:5]
    assert users, "the population has users reachable by push and email"
    status, answer = live_sandbox.braze_send({
        "apple_push": {"alert": {"title": "Spring sale", "body": "50% off today"}},
        "android_push": {"title": "Spring sale", "alert": "50% off today"},
        "email": {"app_id": "app", "subject": "Your receipt", "from": "Shop <shop@example.com>",
                  "body": "<h1>Thanks for your order</h1><script>parent.document.title = 'pwned'</script>"},
    }, users)
    assert status == 201, answer
    open_inspector(page, live_sandbox, "?tab=deliveries")

    push = page.locator(".card.push").first
    expect(push.locator(".push-card .title")).to_have_text("Spring sale")
    expect(push.locator(".push-card .text")).to_have_text("50% off today")

    email = page.locator(".card.email").first
    expect(email).to_contain_text("Your receipt")
    expect(email).to_contain_text("Shop <shop@example.com>")
    frame = email.locator("iframe")
    expect(frame).to_have_attribute("sandbox", "")
    expect(email.frame_locator("iframe").locator("h1")).to_have_text("Thanks for your order")
    assert page.title() != "pwned"  # the message's script did not run
    screenshot("deliveries")

    page.select_option("#delivery-filters select[name=group]", "user")
    expect(page.locator("#delivery-groups h3").first).to_contain_text("user ")
    screenshot("deliveries-per-user")


def test_the_estimate_playground_answers(page: Any, live_sandbox: Sandbox, screenshot: Callable[[str], Path]) -> None:
    audience = {"custom_attribute": {"custom_attribute_name": "Plan", "comparison": "equals", "value": "plus"}}
    expected = live_sandbox.control("POST", "/audience/estimate", json_body={"vendor": "braze", "audience": audience})
    open_inspector(page, live_sandbox, "?tab=audience")
    expect(page.locator("#population")).to_contain_text("Reachable per channel")
    page.select_option("#p-vendor", "braze")
    page.fill("#p-audience", json.dumps(audience))
    page.click("#playground button[type=submit]")
    expect(page.locator("#matched")).to_have_text(str(expected["matched"]))
    first = expected["sample"][0]
    page.locator("#sample a", has_text=first).click()
    expect(page.locator("#profile h2")).to_have_text(f"Profile {first}")
    expect(page.locator("#profile")).to_contain_text("Events")
    screenshot("audience")

    page.fill("#p-audience", '{"custom_attribute": {}}')
    page.click("#playground button[type=submit]")
    expect(page.locator("#estimate-error")).to_contain_text("custom_attribute")


def test_campaigns_show_vendor_data_and_the_clock_advances(page: Any, live_sandbox: Sandbox,
                                                           screenshot: Callable[[str], Path]) -> None:
    live_sandbox.push("for the dashboard", users=tuple(live_sandbox.reachable("push", ("opted_in", "subscribed"))))
    open_inspector(page, live_sandbox, "?tab=campaigns")
    clock = page.locator("#clock-now")
    expect(clock).to_have_text(re.compile(r"^\d{4}-"))
    before = clock.inner_text()
    expect(page.locator("#vendor-data")).to_contain_text("API push campaign (seed 000)")
    expect(page.locator("#campaign-sends tbody tr").first).to_contain_text("clevertap")
    page.click("button[data-advance='86400']")
    expect(clock).not_to_have_text(before)
    moved = (parse(clock.inner_text()) - parse(before)).total_seconds()
    assert 86400 <= moved < 86400 + 60
    screenshot("campaigns")


def parse(iso: str) -> datetime:
    return datetime.fromisoformat(iso.replace("Z", "+00:00"))


def test_root_opens_the_inspector_for_a_browser(page: Any, live_sandbox: Sandbox) -> None:
    page.goto(f"{live_sandbox.url}/?tenant=sbx-123")
    assert page.url.endswith("/_sandbox/ui?tenant=sbx-123")
    expect(page.locator("#tenant")).to_have_value("sbx-123")
    status, body = live_sandbox.call("GET", "/")  # not a browser: the vendor-shaped 404 as before
    assert status == 404 and body["error"]["kind"] == "not_found"


TOKEN = "s3cret-token"


@web.middleware
async def token_guard(request: web.Request, handler: Any) -> web.StreamResponse:
    """A stand-in for ``--control-token``: every /_sandbox route but the page and its files wants the token."""
    open_paths = request.path in ("/_sandbox/ui", "/_sandbox/health") or request.path.startswith("/_sandbox/ui/static/")
    if request.path.startswith("/_sandbox") and not open_paths and request.headers.get("X-Sandbox-Token") != TOKEN:
        return web.json_response({"error": {"kind": "unauthorized", "message": "control token required"}}, status=401)
    return await handler(request)


@pytest.fixture(scope="session")
def guarded_sandbox(serve: Callable[[web.Application], Sandbox]) -> Sandbox:
    app = create_app(DEFAULT_SETTINGS)
    app.middlewares.insert(0, token_guard)
    return serve(app)


def test_the_page_asks_for_the_control_token_once(page: Any, guarded_sandbox: Sandbox,
                                                   screenshot: Callable[[str], Path]) -> None:
    prompts: list[str] = []

    def answer(dialog: Any) -> None:
        prompts.append(dialog.message)
        dialog.accept(TOKEN)

    page.on("dialog", answer)
    open_inspector(page, guarded_sandbox)
    guarded_sandbox.push("behind a token")
    expect(page.locator(ROWS).first).to_contain_text("send_push")
    page.locator(ROWS).first.click()
    expect(page.locator("#request-body")).to_contain_text("behind a token")
    page.click("#tabs button[data-tab=campaigns]")
    expect(page.locator("#clock-now")).to_have_text(re.compile(r"^\d{4}-"))
    assert len(prompts) == 1 and "control token" in prompts[0]
    screenshot("token")
