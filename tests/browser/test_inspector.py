"""The web inspector as a user sees it, in headless Chromium: live requests, filters, detail, deliveries rendered
as the recipient would see them, the estimate playground, campaigns and the clock, the control token prompt."""

from __future__ import annotations

import dataclasses
import json
import re
from collections.abc import Awaitable, Callable
from datetime import datetime
from pathlib import Path
from typing import Any

from support.browser import BRAZE_KEY, braze_send, push, reachable
from support.http import CLEVERTAP_HEADERS, DEFAULT_SETTINGS
from support.skipped import pick, population

from sandbox.app import create_app

try:
    from playwright.async_api import expect
except ImportError:  # the ``browser`` fixture says so (and fails under CI)
    expect = None

ROWS = "#request-list tbody tr"
Shot = Callable[[str], Awaitable[Path]]


async def open_inspector(page: Any, url: str, query: str = "") -> None:
    await page.goto(f"{url}/_sandbox/ui{query}")
    await expect(page.locator("#live")).to_have_text("live")


async def test_a_request_appears_in_the_list_without_reload(page: Any, sandbox_under_test: Any,
                                                            screenshot: Shot) -> None:
    sut = sandbox_under_test
    await open_inspector(page, sut.url)
    await expect(page.locator("#no-requests")).to_be_visible()
    await page.evaluate("window.loadedOnce = true")
    status, _ = await push(sut.api, "Hello from the test")
    assert status == 200
    row = page.locator(ROWS).first
    await expect(row).to_contain_text("send_push")
    await expect(row).to_contain_text("/1/send/push.json")
    await expect(row).to_contain_text("200")
    assert await page.evaluate("window.loadedOnce") is True  # the same page: no reload
    await sut.api.call("POST", "/messages/send", json={}, headers={"Content-Type": "application/json"})
    await expect(page.locator(ROWS)).to_have_count(2)
    await expect(page.locator(ROWS).first).to_have_class(re.compile("rejected"))  # the 401 stands out
    await screenshot("requests")
    await sut.api.control("POST", "/reset")
    await expect(page.locator(ROWS)).to_have_count(0)  # a reset empties the list: no stale rows
    await expect(page.locator("#no-requests")).to_be_visible()


async def test_filters_narrow_the_list_and_the_har_download(page: Any, sandbox_under_test: Any,
                                                           screenshot: Shot) -> None:
    sut = sandbox_under_test
    await push(sut.api, "first push", account="ACME")
    await push(sut.api, "second push", account="GLOBEX")
    await sut.api.call("POST", "/messages/send", json={"messages": {}}, headers={"Content-Type": "application/json"})
    await open_inspector(page, sut.url)
    await expect(page.locator(ROWS)).to_have_count(3)

    await page.select_option("#f-vendor", "braze")
    await expect(page.locator(ROWS)).to_have_count(1)
    await expect(page.locator(ROWS).first).to_contain_text("messages_send")
    await page.select_option("#f-vendor", "")
    await page.select_option("#f-class", "2xx")
    await expect(page.locator(ROWS)).to_have_count(2)
    await page.fill("#f-q", "SECOND PUSH")
    await expect(page.locator(ROWS)).to_have_count(1)
    await expect(page.locator(ROWS).first).to_contain_text("GLOBEX")
    assert "q=SECOND+PUSH" in page.url  # the filter is in the address: a link to this view

    async with page.expect_download() as download:
        await page.click("#har")
    har = json.loads(Path(await (await download.value).path()).read_text())
    assert [e["_tenant"] for e in har["log"]["entries"]] == ["GLOBEX"]

    await page.fill("#f-q", "")
    await page.select_option("#f-class", "")
    await page.fill("#tenant", "ACME")
    await expect(page.locator(ROWS)).to_have_count(1)
    await push(sut.api, "third push", account="ACME")
    await push(sut.api, "not for this tenant", account="GLOBEX")
    await expect(page.locator(ROWS)).to_have_count(2)  # live updates keep the filter
    await expect(page.locator(ROWS).first).to_contain_text("ACME")
    await screenshot("filtered")


async def test_the_detail_shows_the_body_masked_credentials_and_curl(page: Any, sandbox_under_test: Any,
                                                                     screenshot: Shot) -> None:
    sut = sandbox_under_test
    await push(sut.api, "Hello detail")
    passcode = "PASSCODE"
    await sut.api.call("POST", "/1/send/push.json", data=b"{not json", headers={
        "X-CleverTap-Account-Id": "ACCOUNT_ID", "X-CleverTap-Passcode": passcode, "Content-Type": "application/json"})
    await open_inspector(page, sut.url)
    await page.locator(ROWS).nth(1).click()
    await expect(page.locator("#request-body")).to_contain_text('"body": "Hello detail"')
    await expect(page.locator("#response-body")).to_contain_text("Added to queue for processing")
    detail = page.locator("#detail")
    answer = detail.locator("h3:text-is('Answer') + table")
    await expect(answer).to_contain_text("Content-Type")
    await expect(answer).to_contain_text("application/json;charset=utf-8")  # the answer's own header
    await expect(detail).to_contain_text(re.compile("X-CleverTap-Passcode", re.IGNORECASE))
    await expect(detail).to_contain_text("***")
    assert passcode not in await detail.inner_text()
    await page.click("#copy-curl")
    curl = page.locator("#curl")
    await expect(curl).to_be_visible()
    await expect(curl).to_contain_text(f"curl -X POST '{sut.url}/1/send/push.json'")
    await expect(curl).to_contain_text("--data-raw")
    assert passcode not in await curl.inner_text()
    await screenshot("detail")

    await page.locator(ROWS).first.click()  # the request whose body did not parse: shown raw, with its 400
    await expect(detail).to_contain_text("Raw body (did not parse)")
    await expect(page.locator("#request-body")).to_have_text("{not json")
    await expect(detail.locator("h2 .status")).to_have_text("400")


async def test_deliveries_render_as_the_user_would_see_them(page: Any, sandbox_under_test: Any,
                                                            screenshot: Shot) -> None:
    sut = sandbox_under_test
    users = sorted(set(await reachable(sut.api, "push", 300)) & set(await reachable(sut.api, "email", 300)))[:5]
    assert users, "the population has users reachable by push and email"
    status, answer = await braze_send(sut.api, {
        "apple_push": {"alert": {"title": "Spring sale", "body": "50% off today"}},
        "android_push": {"title": "Spring sale", "alert": "50% off today"},
        "email": {"app_id": "app", "subject": "Your receipt", "from": "Shop <shop@example.com>",
                  "body": "<h1>Thanks for your order</h1><script>parent.document.title = 'pwned'</script>"},
    }, users)
    assert status == 201, answer
    await open_inspector(page, sut.url, "?tab=deliveries")

    card = page.locator(".card.push").first
    await expect(card.locator(".push-card .title")).to_have_text("Spring sale")
    await expect(card.locator(".push-card .text")).to_have_text("50% off today")

    email = page.locator(".card.email").first
    await expect(email).to_contain_text("Your receipt")
    await expect(email).to_contain_text("Shop <shop@example.com>")
    await expect(email.locator("iframe")).to_have_attribute("sandbox", "")
    await expect(email.frame_locator("iframe").locator("h1")).to_have_text("Thanks for your order")
    assert await page.title() != "pwned"  # the message's script did not run
    await expect(page.locator(".card .foot").first).to_contain_text("tenant ***6789")
    assert BRAZE_KEY not in await page.locator("body").inner_text()  # the tenant is the API key: masked
    await screenshot("deliveries")

    await page.select_option("#delivery-filters select[name=group]", "user")
    await expect(page.locator("#delivery-groups h3").first).to_contain_text("user ")
    await screenshot("deliveries-per-user")
    await page.click("#tabs button[data-tab=campaigns]")
    await expect(page.locator("#campaign-sends tbody tr").first).to_contain_text("***6789")
    assert BRAZE_KEY not in await page.locator("body").inner_text()


async def test_skipped_users_show_with_their_reasons(page: Any, sandbox_under_test: Any, screenshot: Shot) -> None:
    sut = sandbox_under_test
    users = pick(await population(sut.api), "push", ["ios"])
    status, created, _ = await sut.api.call("POST", "/1/targets/create.json", headers=CLEVERTAP_HEADERS, json={
        "name": "Winback", "target_mode": "push", "where": {}, "devices": ["ios"], "when": "now",
        "content": {"title": "Hi", "body": "Come back"}, "control_group": {"type": "campaign", "percentage": 30}})
    assert status == 200, created
    counts = (await sut.api.control("GET", "/deliveries/skipped"))["counts"]
    assert counts["unsubscribed"] and counts["control_group"]
    await open_inspector(page, sut.url, "?tab=deliveries")

    group = page.locator("#delivery-groups .group").first
    heading = group.locator("h3")
    await expect(heading).to_contain_text(f"campaign {created['id']}")
    await expect(heading).to_contain_text(f"unsubscribed {counts['unsubscribed']}")
    await expect(heading).to_contain_text(f"control group {counts['control_group']}")
    await group.locator("details.skipped-users summary").click()  # many skipped users: folded at first
    rows = group.locator("table.skipped tbody tr")
    unsubscribed = rows.filter(has_text=users["unsubscribed"])
    await expect(unsubscribed.locator("td.reason")).to_have_text("unsubscribed")
    held = rows.locator("xpath=self::tr[@data-reason='control_group']").first
    await expect(held.locator("td.detail-text")).to_contain_text(f"campaign:{created['id']} 30%")
    await expect(page.locator("#delivery-count")).to_contain_text(f"unsubscribed {counts['unsubscribed']}")
    await screenshot("skipped-per-campaign")

    await page.select_option("#delivery-filters select[name=group]", "user")
    await page.fill("#delivery-filters input[name=user]", users["unsubscribed"])
    await page.click("#deliveries-refresh")
    user_group = page.locator("#delivery-groups .group")
    await expect(user_group).to_have_count(1)
    await expect(user_group.locator("h3")).to_contain_text(f"user {users['unsubscribed']} — 0 sent")
    await expect(user_group.locator("summary")).to_have_text("Why this user was skipped")
    await expect(user_group.locator("td.reason")).to_have_text("unsubscribed")
    await expect(user_group.locator("td.detail-text")).to_contain_text("unsubscribed from the channel")
    await screenshot("skipped-per-user")


async def test_the_estimate_playground_answers(page: Any, sandbox_under_test: Any, screenshot: Shot) -> None:
    sut = sandbox_under_test
    audience = {"custom_attribute": {"custom_attribute_name": "Plan", "comparison": "equals", "value": "plus"}}
    expected = await sut.api.control("POST", "/audience/estimate", json={"vendor": "braze", "audience": audience})
    await open_inspector(page, sut.url, "?tab=audience")
    await expect(page.locator("#population")).to_contain_text("Reachable per channel")
    await page.select_option("#p-vendor", "braze")
    await page.fill("#p-audience", json.dumps(audience))
    await page.click("#playground button[type=submit]")
    await expect(page.locator("#matched")).to_have_text(str(expected["matched"]))
    first = expected["sample"][0]
    await page.locator("#sample a", has_text=first).click()
    await expect(page.locator("#profile h2")).to_have_text(f"Profile {first}")
    await expect(page.locator("#profile")).to_contain_text("Events")
    await screenshot("audience")

    await page.fill("#p-audience", '{"custom_attribute": {}}')
    await page.click("#playground button[type=submit]")
    await expect(page.locator("#estimate-error")).to_contain_text("custom_attribute")


def parse(iso: str) -> datetime:
    return datetime.fromisoformat(iso.replace("Z", "+00:00"))


async def test_campaigns_show_vendor_data_and_the_clock_advances(page: Any, sandbox_under_test: Any,
                                                                 screenshot: Shot) -> None:
    sut = sandbox_under_test
    await push(sut.api, "for the dashboard", users=tuple(await reachable(sut.api, "push")))
    await open_inspector(page, sut.url, "?tab=campaigns")
    clock = page.locator("#clock-now")
    await expect(clock).to_have_text(re.compile(r"^\d{4}-"))
    before = await clock.inner_text()
    await expect(page.locator("#vendor-data")).to_contain_text("API push campaign (seed 000)")
    await expect(page.locator("#campaign-sends tbody tr").first).to_contain_text("clevertap")
    await page.click("button[data-advance='86400']")
    await expect(clock).not_to_have_text(before)
    moved = (parse(await clock.inner_text()) - parse(before)).total_seconds()
    assert 86400 <= moved < 86400 + 60
    await screenshot("campaigns")


async def test_root_opens_the_inspector_for_a_browser(page: Any, sandbox_under_test: Any) -> None:
    sut = sandbox_under_test
    await page.goto(f"{sut.url}/?tenant=sbx-123")
    assert page.url.endswith("/_sandbox/ui?tenant=sbx-123")
    await expect(page.locator("#tenant")).to_have_value("sbx-123")
    status, body, _ = await sut.api.call("GET", "/")  # not a browser: the vendor-shaped 404 as before
    assert status == 404 and body["error"]["kind"] == "not_found"


TOKEN = "s3cret-token"


async def test_the_page_asks_for_the_control_token_once(page: Any, serve: Any, screenshot: Shot) -> None:
    sut = await serve(create_app(dataclasses.replace(DEFAULT_SETTINGS, control_token=TOKEN)))
    status, _, _ = await sut.api.call("GET", "/_sandbox/clock")
    assert status == 401  # the control API is guarded; the page itself is not
    prompts: list[str] = []

    async def answer(dialog: Any) -> None:
        prompts.append(dialog.message)
        await dialog.accept(TOKEN)

    page.on("dialog", answer)
    await open_inspector(page, sut.url)
    await push(sut.api, "behind a token")
    await expect(page.locator(ROWS).first).to_contain_text("send_push")
    await page.locator(ROWS).first.click()
    await expect(page.locator("#request-body")).to_contain_text("behind a token")
    async with page.expect_download() as download:  # the HAR is fetched with the token too
        await page.click("#har")
    har = json.loads(Path(await (await download.value).path()).read_text())
    assert len(har["log"]["entries"]) == 1
    await page.click("#tabs button[data-tab=campaigns]")
    await expect(page.locator("#clock-now")).to_have_text(re.compile(r"^\d{4}-"))
    assert len(prompts) == 1 and "control token" in prompts[0]
    await screenshot("token")
