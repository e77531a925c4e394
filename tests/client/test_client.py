"""SandboxClient against a live sandbox (the plugin's in-process server, or --sandbox-url)."""

from __future__ import annotations

import json
import threading
import time
import urllib.error
import urllib.request
from typing import Any

import pytest
from support.skipped import pick

from sandbox.client import ANY, SandboxClient, SandboxClientError
from sandbox.core import keys

PUSH = {"to": {"Identity": ["JohnDoe"]}, "content": {"title": "Hi", "body": "There"}}
SMS = {"to": {"Identity": ["JaneDoe"]}, "content": {"body": "Your code is 1234"}}


def send(url: str, path: str, body: Any, headers: dict[str, str]) -> tuple[int, Any]:
    request = urllib.request.Request(url + path, data=json.dumps(body).encode(), headers=headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=10) as resp:
            return resp.status, json.loads(resp.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read() or b"null")


@pytest.fixture
def ct(clevertap_credentials: dict[str, Any]):
    """Send a CleverTap call with this test's credentials: ``ct("/1/send/push.json", PUSH)``."""
    def call(path: str, body: Any, **headers: str) -> tuple[int, Any]:
        return send(clevertap_credentials["base_url"], path, body, {**clevertap_credentials["headers"], **headers})
    return call


def test_requests_filters_and_last_request(sandbox: SandboxClient, ct) -> None:
    assert ct("/1/send/push.json", PUSH) == (200, {"status": "success", "message": "Added to queue for processing"})
    ct("/1/send/sms.json", SMS)
    assert [e["operation"] for e in sandbox.requests()] == ["send_push", "send_sms"]
    assert [e["operation"] for e in sandbox.requests(vendor="clevertap", operation="send_sms")] == ["send_sms"]
    assert [e["operation"] for e in sandbox.requests(body={"content": {"title": "Hi"}})] == ["send_push"]
    assert sandbox.requests(**{"body.to.Identity": "JaneDoe"})[0]["operation"] == "send_sms"
    assert sandbox.requests(headers={"x-clevertap-passcode": "sandbox-passcode"}) == sandbox.requests()
    last = sandbox.last_request()
    assert last is not None and last["body"] == SMS and last["tenant"] == sandbox.tenant
    assert sandbox.last_request(operation="send_email") is None
    assert sandbox.request(last["id"]) == last


def test_a_bound_client_sees_only_its_tenant(sandbox: SandboxClient, ct, sandbox_url: str) -> None:
    ct("/1/send/push.json", PUSH)
    other = {"X-CleverTap-Account-Id": sandbox.tenant + "-other", "X-CleverTap-Passcode": "p",
             "Content-Type": "application/json"}
    send(sandbox_url, "/1/send/push.json", PUSH, other)
    neighbour = sandbox.for_tenant(sandbox.tenant + "-other")
    assert [e["tenant"] for e in sandbox.requests()] == [sandbox.tenant]
    assert [e["tenant"] for e in neighbour.requests()] == [neighbour.tenant]
    assert sandbox.clear() == 1
    assert sandbox.requests() == [] and len(neighbour.requests()) == 1
    ct("/1/send/push.json", PUSH)
    assert sandbox.reset()["tenant"] == sandbox.tenant
    assert sandbox.requests() == [] and len(neighbour.requests()) == 1


def test_assert_request_made_returns_the_matches(sandbox: SandboxClient, ct) -> None:
    ct("/1/send/push.json", PUSH)
    ct("/1/send/push.json", {**PUSH, "to": {"Identity": ["Other"]}})
    found = sandbox.assert_request_made("clevertap", "send_push", count=2, body={"content": {"title": "Hi"}})
    assert len(found) == 2
    sandbox.assert_request_made(operation="send_push", body={"to": {"Identity": ["Other"]}, "content": ANY},
                                headers={"X-CleverTap-Account-Id": sandbox.tenant}, method="post",
                                path="/1/send/push.json", status=200)


def test_near_miss_report_lists_the_closest_requests_with_a_diff(sandbox: SandboxClient, ct) -> None:
    ct("/1/send/sms.json", SMS)
    ct("/1/send/push.json", {"to": {"Identity": ["JohnDoe"]}, "content": {"title": "Hello", "body": "There"}})
    ct("/1/send/push.json", {"to": {"Identity": ["JohnDoe"]}, "content": {"body": "x"}}, **{
        "X-CleverTap-Passcode": ""})
    sms, hello, rejected = (e["id"] for e in sandbox.requests())
    with pytest.raises(AssertionError) as failure:
        sandbox.assert_request_made("clevertap", "send_push", body={"content": {"title": "Hi"}},
                                    query={"dryRun": "1"})
    assert str(failure.value) == (
        "Expected at least one request matching vendor='clevertap', operation='send_push', "
        "body={'content': {'title': 'Hi'}}, query={'dryRun': '1'}, found none.\n"
        f"3 request(s) recorded for tenant {sandbox.tenant!r}; closest:\n"
        f"  #{hello} POST /1/send/push.json  clevertap/send_push -> 200\n"
        "      body.content.title: expected 'Hi', got 'Hello'\n"
        "      query.dryRun: missing (expected '1')\n"
        f"  #{rejected} POST /1/send/push.json  clevertap/send_push -> 401\n"
        "      body.content.title: missing (expected 'Hi')\n"
        "      query.dryRun: missing (expected '1')\n"
        f"  #{sms} POST /1/send/sms.json  clevertap/send_sms -> 200\n"
        "      operation: expected 'send_push', got 'send_sms'\n"
        "      body.content.title: missing (expected 'Hi')\n"
        "      query.dryRun: missing (expected '1')")


def test_near_miss_ranks_matching_body_keys_first(sandbox: SandboxClient, ct) -> None:
    ct("/1/send/push.json", {"to": {"Identity": ["A"]}, "content": {"title": "Hi", "body": "B"}})
    ct("/1/send/push.json", {"to": {"Identity": ["Z"]}, "content": {"title": "No", "body": "B"}})
    first = sandbox.requests()[0]["id"]
    with pytest.raises(AssertionError) as failure:
        sandbox.assert_request_made(operation="send_push", body={"to": {"Identity": ["B"]}, "content": {"title": "Hi"}})
    lines = str(failure.value).splitlines()
    assert lines[2] == f"  #{first} POST /1/send/push.json  clevertap/send_push -> 200"
    assert lines[3] == "      body.to.Identity[0]: expected 'B', got 'A'"


def test_count_mismatch_lists_what_matched(sandbox: SandboxClient, ct) -> None:
    ct("/1/send/push.json", PUSH)
    [entry] = sandbox.requests()
    with pytest.raises(AssertionError) as failure:
        sandbox.assert_request_made(operation="send_push", count=2)
    assert str(failure.value) == ("Expected exactly 2 request(s) matching operation='send_push', found 1:\n"
                                  f"  #{entry['id']} POST /1/send/push.json  clevertap/send_push -> 200")


def test_nothing_recorded_says_where_to_look(sandbox: SandboxClient) -> None:
    with pytest.raises(AssertionError) as failure:
        sandbox.assert_request_made(operation="send_push")
    assert str(failure.value) == (
        "Expected at least one request matching operation='send_push', found none.\n"
        f"No requests were recorded for tenant {sandbox.tenant!r} at {sandbox.base_url}: is the code under test "
        "pointed at the sandbox, with this test's credentials?")


def test_assert_no_request(sandbox: SandboxClient, ct) -> None:
    ct("/1/send/sms.json", SMS)
    sandbox.assert_no_request(operation="send_push")
    [entry] = sandbox.requests()
    with pytest.raises(AssertionError) as failure:
        sandbox.assert_no_request("clevertap", body={"content": {"body": "Your code is 1234"}})
    assert str(failure.value) == (
        "Expected no request matching vendor='clevertap', body={'content': {'body': 'Your code is 1234'}}, "
        f"found 1:\n  #{entry['id']} POST /1/send/sms.json  clevertap/send_sms -> 200")


def test_assert_requests_in_order(sandbox: SandboxClient, ct) -> None:
    ct("/1/send/sms.json", SMS)
    ct("/1/send/email.json", {"to": {"Email": ["a@example.com"]}, "content": {"subject": "S", "body": "B"}})
    ct("/1/send/push.json", PUSH)
    sms, email, push = (e["id"] for e in sandbox.requests())
    picked = sandbox.assert_requests_in_order([{"operation": "send_sms"}, {"operation": "send_push"}])
    assert [e["id"] for e in picked] == [sms, push]
    with pytest.raises(AssertionError) as failure:
        sandbox.assert_requests_in_order([{"operation": "send_push"}, {"operation": "send_sms"}])
    assert str(failure.value).splitlines() == [
        "Expected requests in order; step 2 of 2 (operation='send_sms') has no match after the previous step.",
        "Matched so far:",
        f"  1. #{push} POST /1/send/push.json  clevertap/send_push -> 200",
        f"It matches earlier requests (wrong order): #{sms}",
        "Recorded requests:",
        f"  #{sms} POST /1/send/sms.json  clevertap/send_sms -> 200",
        f"  #{email} POST /1/send/email.json  clevertap/send_email -> 200",
        f"  #{push} POST /1/send/push.json  clevertap/send_push -> 200",
    ]
    with pytest.raises(AssertionError) as failure:
        sandbox.assert_requests_in_order([{"operation": "send_sms"}, {"operation": "send_whatsapp"}])
    assert str(failure.value).splitlines()[-5:] == [
        f"2 request(s) recorded for tenant {sandbox.tenant!r}; closest:",
        f"  #{push} POST /1/send/push.json  clevertap/send_push -> 200",
        "      operation: expected 'send_whatsapp', got 'send_push'",
        f"  #{email} POST /1/send/email.json  clevertap/send_email -> 200",
        "      operation: expected 'send_whatsapp', got 'send_email'"]


def test_assert_all_requests_accepted_lists_every_rejection(sandbox: SandboxClient, ct) -> None:
    ct("/1/send/push.json", PUSH)
    sandbox.assert_all_requests_accepted()
    ct("/1/send/push.json", {"content": {"title": "t", "body": "b"}})
    ct("/1/send/pigeon.json", PUSH)
    _, missing_to, unknown = (e["id"] for e in sandbox.requests())
    with pytest.raises(AssertionError) as failure:
        sandbox.assert_all_requests_accepted()
    lines = str(failure.value).splitlines()
    assert lines[0] == "2 request(s) were rejected by the sandbox:"
    assert lines[1] == f"  #{missing_to} POST /1/send/push.json  clevertap/send_push -> 400"
    assert lines[2].startswith("      response: {'status': 'fail', 'error': ")
    assert lines[3] == f"  #{unknown} POST /1/send/pigeon.json  clevertap/- -> 404"


def test_wait_for_request_returns_as_soon_as_it_arrives(sandbox: SandboxClient, ct) -> None:
    ct("/1/send/sms.json", SMS)
    timer = threading.Timer(0.3, ct, ("/1/send/push.json", PUSH))
    timer.start()
    started = time.monotonic()
    try:
        [entry] = sandbox.wait_for_request(timeout=10, operation="send_push", body={"content": {"title": "Hi"}})
    finally:
        timer.join()
    assert 0.25 <= time.monotonic() - started < 5
    assert entry["body"] == PUSH


def test_wait_for_request_skips_arrivals_that_do_not_match(sandbox: SandboxClient, ct) -> None:
    def later() -> None:
        ct("/1/send/push.json", {**PUSH, "content": {"title": "Other", "body": "x"}})
        time.sleep(0.2)
        ct("/1/send/push.json", PUSH)

    worker = threading.Thread(target=later)
    worker.start()
    try:
        found = sandbox.wait_for_request(timeout=10, count=1, body={"content": {"title": "Hi"}})
    finally:
        worker.join()
    assert [e["body"]["content"]["title"] for e in found] == ["Hi"]


def test_wait_for_request_times_out_with_a_near_miss_report(sandbox: SandboxClient, ct) -> None:
    ct("/1/send/sms.json", SMS)
    started = time.monotonic()
    with pytest.raises(AssertionError) as failure:
        sandbox.wait_for_request(timeout=0.5, operation="send_push")
    assert 0.4 < time.monotonic() - started < 5
    lines = str(failure.value).splitlines()
    assert lines[0] == "Timed out after 0.5s waiting for 1 request(s) matching operation='send_push'; 0 arrived."
    assert lines[3] == "      operation: expected 'send_push', got 'send_sms'"


def test_advance_clock_moves_the_sandbox_clock(sandbox: SandboxClient) -> None:
    from datetime import datetime

    before = datetime.fromisoformat(sandbox.now().replace("Z", "+00:00"))
    after = datetime.fromisoformat(sandbox.advance_clock(3600).replace("Z", "+00:00"))
    assert 3600 <= (after - before).total_seconds() < 3660


def test_control_errors_carry_status_and_body(sandbox: SandboxClient) -> None:
    with pytest.raises(SandboxClientError) as failure:
        sandbox.request(999_999_999)
    assert failure.value.status == 404
    assert failure.value.body["error"]["kind"] == "not_found"
    with pytest.raises(SandboxClientError, match=r"cannot reach the sandbox at http://127\.0\.0\.1:9"):
        SandboxClient("http://127.0.0.1:9", timeout=2).health()


def test_assert_delivered(sandbox: SandboxClient, sandbox_server) -> None:
    if sandbox_server.external:
        pytest.skip("records a delivery directly in the in-process sandbox")
    with pytest.raises(AssertionError) as failure:
        sandbox.assert_delivered(user="JohnDoe", channel="push")
    assert str(failure.value) == ("Expected at least one delivery with user='JohnDoe', channel='push', found 0.\n"
                                  f"No deliveries were recorded for tenant {sandbox.tenant!r}.")

    def record() -> None:
        sandbox_server.app[keys.DELIVERIES].record(tenant=sandbox.tenant, vendor="clevertap", campaign_id=17,
                                                  user="JohnDoe", channel="push", platform="android")
    sandbox_server.loop.call_soon_threadsafe(record)
    time.sleep(0.1)
    [delivery] = sandbox.assert_delivered(user="JohnDoe", channel="push", campaign_id=17, count=1)
    assert delivery["campaign_id"] == "17"
    with pytest.raises(AssertionError) as failure:
        sandbox.assert_delivered(user="JohnDoe", channel="sms")
    assert str(failure.value).splitlines()[1:] == [
        "Recorded deliveries (1):",
        f"  #{delivery['id']} clevertap campaign=17 user=JohnDoe channel=push platform=android"]


def test_skipped_users_and_why(sandbox: SandboxClient, ct) -> None:
    users = pick(sandbox.profiles(limit=1000)["profiles"], "push")
    to = {"Identity": [users["reachable"], users["unsubscribed"], users["no_channel"]]}
    assert ct("/1/send/push.json", {**PUSH, "to": to})[0] == 200
    assert [(s["user"], s["reason"]) for s in sandbox.skipped()] == [
        (users["unsubscribed"], "unsubscribed"), (users["no_channel"], "no_channel")]
    assert sandbox.skipped(reason="no_channel")[0]["user"] == users["no_channel"]
    assert sandbox.skipped_counts() == {"unsubscribed": 1, "no_channel": 1}
    assert sandbox.skipped_counts(user=users["reachable"]) == {}
    with pytest.raises(AssertionError) as failure:
        sandbox.assert_delivered(user=users["unsubscribed"], channel="push")
    assert str(failure.value).splitlines()[-2:] == [
        "Skipped (1):", f"  clevertap campaign=None user={users['unsubscribed']} channel=push: unsubscribed "
                        f"(addressed by Identity {users['unsubscribed']})"]
    assert sandbox.for_tenant("someone-else").skipped() == []


def test_every_vendors_credentials_fixture_names_this_tests_tenant(sandbox: SandboxClient, ct, braze_credentials,
                                                                    netcore_credentials) -> None:
    ct("/1/send/push.json", PUSH)
    email = {"app_id": "app", "subject": "s", "from": "Shop <shop@example.com>", "body": "b"}
    send(braze_credentials["rest_endpoint"], "/messages/send",
         {"external_user_ids": ["u1"], "messages": {"email": email}}, braze_credentials["headers"])
    send(netcore_credentials["base_url"], "/v4/campaign/list", {"page_size": 10}, netcore_credentials["headers"])
    found = [(e["vendor"], e["tenant"]) for e in sandbox.requests()]
    assert found == [("clevertap", sandbox.tenant), ("braze", sandbox.tenant), ("netcore", sandbox.tenant)]
    assert all(e["status"] < 500 for e in sandbox.requests())


def test_profiles_and_estimate(sandbox: SandboxClient) -> None:
    listing = sandbox.profiles(limit=3)
    assert len(listing["profiles"]) == 3 and listing["total"] >= 3
    first = listing["profiles"][0]
    assert sandbox.profiles(first["email"])["identity"] == first["identity"]
    tier = {"attribute": "Customer Type", "op": "equals", "value": first["customer_type"]}
    result = sandbox.estimate(tree=tier, sample=1)
    assert result["matched"] >= 1 and result["sample"] == [first["identity"]]
    cql = sandbox.estimate(vendor="clevertap", audience={"common_profile_properties": {"profile_fields": [
        {"name": "Customer Type", "operator": "equals", "value": first["customer_type"]}]}})
    assert cql["matched"] == result["matched"]


def test_dashboard_data_helpers_are_bound_to_the_tests_tenant(sandbox: SandboxClient, braze_credentials) -> None:
    campaign = {"id": "0c0ffee0-0000-4000-8000-000000000001", "name": "Mine", "type": "api_triggered",
                "state": "active"}
    assert sandbox.add("braze", "campaigns", campaign)[0]["id"] == campaign["id"]
    mine = {c["id"] for c in sandbox.data("braze", "campaigns")}
    assert campaign["id"] in mine
    other = sandbox.for_tenant("someone-else")
    assert campaign["id"] not in {c["id"] for c in other.data("braze", "campaigns")}
    status, body = send(braze_credentials["rest_endpoint"], "/campaigns/trigger/send",
                        {"campaign_id": campaign["id"], "broadcast": True}, braze_credentials["headers"])
    assert status == 201, body
    sandbox.remove("braze", "campaigns", campaign["id"])
    assert campaign["id"] not in {c["id"] for c in sandbox.data("braze", "campaigns")}
    with pytest.raises(SandboxClientError, match="valid: "):
        sandbox.data("braze", "widgets")


def test_strict_rejections_carry_their_hint_into_assertions_and_reports() -> None:
    from sandbox.client import requests_table
    from sandbox.pytest_plugin import SandboxServer
    from sandbox.settings import Settings

    server = SandboxServer(Settings(strict=True, population_size=100)).start()
    try:
        client = server.client("STRICT-ACC")
        headers = {"X-CleverTap-Account-Id": "STRICT-ACC", "X-CleverTap-Passcode": "P",
                   "Content-Type": "application/json"}
        status, body = send(server.url, "/1/send/sms.json", {"to": {"Identity": ["x"]}, "campaign_id": 424242,
                                                             "content": {"body": "b"}}, headers)
        assert status == 400, body
        [entry] = client.requests()
        assert "clevertap/campaigns.json" in entry["hint"] and "/_sandbox/vendors/clevertap/campaigns" in entry["hint"]
        with pytest.raises(AssertionError, match=r"hint: .*campaigns\.json"):
            client.assert_all_requests_accepted()
        assert "hint: " in requests_table([entry])
    finally:
        server.stop()
