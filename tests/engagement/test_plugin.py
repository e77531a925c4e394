"""The plugin and client side of engagement and webhooks, through an inner pytest session (``pytester``):
``webhook_receiver``, ``sandbox.assert_webhook_sent``, ``sandbox.wait_for_delivery``, ``sandbox.webhooks``,
and the failure report's outbound calls."""

from __future__ import annotations

import pytest

INNER = '''
import json, urllib.request

def send(creds, path, body):
    request = urllib.request.Request(creds["base_url"] + path, data=json.dumps(body).encode(),
                                     headers=creds["headers"], method="POST")
    with urllib.request.urlopen(request, timeout=10) as resp:
        return json.loads(resp.read())

EMAIL = {"name": "N", "target_mode": "email", "where": {}, "content": {"subject": "s", "body": "b"}, "when": "now"}

def hook_campaign(sandbox, creds, url):
    sandbox.call("POST", "/_sandbox/vendors/clevertap/webhooks", params={"tenant": sandbox.tenant},
                 json_body={"name": "crm", "url": url})
    body = {"name": "W", "target_mode": "webhook", "webhook_endpoint_name": "crm", "where": {}, "content": {},
            "when": "20300101 10:00"}
    return send(creds, "/1/targets/create.json", body)["id"]

def test_webhook_and_lifecycle(sandbox, clevertap_credentials, webhook_receiver):
    campaign = hook_campaign(sandbox, clevertap_credentials, webhook_receiver.url + "/in")
    sandbox.advance_clock(10 * 365 * 86400)
    [call] = sandbox.assert_webhook_sent(webhook_receiver.url + "/in", vendor="clevertap",
                                         body={"targetId": campaign})
    assert call["attempt"] == 1 and call["status"] == 200
    assert webhook_receiver.wait(1)[0].json["targetId"] == campaign
    assert sandbox.webhooks(vendor="clevertap") == [call]
    email = send(clevertap_credentials, "/1/targets/create.json", EMAIL)["id"]
    sandbox.advance_clock(3 * 86400)
    clicked = sandbox.wait_for_delivery(status="clicked", campaign_id=email)
    assert clicked and all("clicked" in [h["status"] for h in d["history"]] for d in clicked)
    assert sandbox.delivery_funnel(campaign_id=email)["clicked"] == len(clicked)

def test_missing_webhook_is_reported(sandbox, clevertap_credentials, webhook_receiver):
    hook_campaign(sandbox, clevertap_credentials, webhook_receiver.url + "/in")
    sandbox.advance_clock(10 * 365 * 86400)
    sandbox.assert_webhook_sent(webhook_receiver.url + "/elsewhere", timeout=1)
'''


@pytest.fixture
def project(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> pytest.Pytester:
    monkeypatch.delenv("SANDBOX_URL", raising=False)
    monkeypatch.delenv("PYTEST_ADDOPTS", raising=False)
    pytester.makeini("[pytest]\nasyncio_mode = auto\nasyncio_default_fixture_loop_scope = function\n")
    return pytester


def test_receiver_assertions_and_the_failure_report(project: pytest.Pytester) -> None:
    project.makepyfile(test_inner=INNER)
    result = project.runpytest("--sandbox-population-size=200")
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.re_match_lines([
        r"E\s+AssertionError: Expected 1 outbound call\(s\) to http://127\.0\.0\.1:\d+/elsewhere .*",
        r"E\s+#\s+METHOD\s+URL\s+VENDOR/OPERATION\s+ATTEMPT\s+ANSWER",
        r"E\s+\d+\s+POST\s+http://127\.0\.0\.1:\d+/in\s+clevertap/webhook_campaign\s+1\s+200",
        r"E\s+#\d+: url: expected http://127\.0\.0\.1:\d+/elsewhere, got http://127\.0\.0\.1:\d+/in",
    ])
    result.stdout.re_match_lines([
        r"-+ campaign-sandbox outbound calls -+",
        r"\d+\s+POST\s+http://127\.0\.0\.1:\d+/in\s+clevertap/webhook_campaign\s+1\s+200",
    ])
