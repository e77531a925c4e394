"""Real HTTP clients see the faults as they would in production: requests + urllib3 ``Retry``, a client that
sleeps until ``X-RateLimit-Reset`` (as the edx and PyPI braze-client do), and a dropped connection.

Uses the pytest plugin's ``sandbox`` fixture (an in-process sandbox on a real port, bound to this test's
tenant) and its client helpers ``sandbox.fault(...)`` / ``sandbox.rate_limit(...)``.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
import requests
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

from sandbox.client import SandboxClient
from sandbox.pytest_plugin import SandboxServer
from sandbox.settings import Settings

SEND = {"messages": {"apple_push": {"alert": "hello"}}, "external_user_ids": ["u1"]}
PUSH = {"to": {"Identity": ["JohnDoe"]}, "content": {"title": "Hi", "body": "There"}}


def retrying(statuses: tuple[int, ...], total: int = 3) -> requests.Session:
    """A session that retries POSTs on ``statuses``, read errors and dropped connections, honouring
    Retry-After, without backoff (a test has no time to lose)."""
    session = requests.Session()
    retry = Retry(total=total, status_forcelist=statuses, allowed_methods=None, backoff_factor=0,
                  respect_retry_after_header=True, raise_on_status=False)
    session.mount("http://", HTTPAdapter(max_retries=retry))
    return session


def test_urllib3_retry_rides_out_two_injected_503s(sandbox: SandboxClient, braze_credentials: dict[str, Any]
                                                   ) -> None:
    with sandbox.fault("braze", "messages_send", status=503, times=2) as rule:
        resp = retrying((503,)).post(braze_credentials["base_url"] + "/messages/send", json=SEND,
                                     headers=braze_credentials["headers"], timeout=10)
        assert resp.status_code == 201 and resp.json()["message"] == "success"
    assert rule["hits"] == 2 and sandbox.faults() == []
    entries = sandbox.requests(operation="messages_send")
    assert [(e["status"], (e["fault"] or {}).get("effect")) for e in entries] == [(503, "status")] * 2 + [(201, None)]


def test_urllib3_retry_honours_retry_after_on_an_injected_429(sandbox: SandboxClient,
                                                              clevertap_credentials: dict[str, Any]) -> None:
    with sandbox.fault("clevertap", "send_push", effect="rate_limited", times=1, headers={"Retry-After": "0"}):
        resp = retrying((429,)).post(clevertap_credentials["api_endpoint"] + "/send/push.json", json=PUSH,
                                     headers=clevertap_credentials["headers"], timeout=10)
    assert resp.status_code == 200
    assert [e["status"] for e in sandbox.requests()] == [429, 200]


def test_retries_run_out_and_the_client_sees_the_vendor_error(sandbox: SandboxClient,
                                                              braze_credentials: dict[str, Any]) -> None:
    with sandbox.fault("braze", "messages_send", effect="unavailable"):
        resp = retrying((503,), total=2).post(braze_credentials["base_url"] + "/messages/send", json=SEND,
                                              headers=braze_credentials["headers"], timeout=10)
    assert (resp.status_code, resp.json()) == (503, {"message": "Internal Server Error"})
    assert len(sandbox.requests()) == 3


def post_until_accepted(url: str, body: Any, headers: dict[str, str], sleep: Callable[[float], None],
                        now: Callable[[], float], attempts: int = 3) -> requests.Response:
    """What the edx / PyPI braze-client do on a 429: sleep until ``X-RateLimit-Reset`` (epoch seconds)."""
    for _ in range(attempts):
        resp = requests.post(url, json=body, headers=headers, timeout=10)
        if resp.status_code != 429:
            return resp
        sleep(max(float(resp.headers["X-RateLimit-Reset"]) - now(), 0))
    return resp


def test_a_client_sleeping_until_x_ratelimit_reset_gets_through(sandbox: SandboxClient,
                                                                braze_credentials: dict[str, Any]) -> None:
    sandbox.rate_limit("braze", default=1)
    url = braze_credentials["base_url"] + "/messages/send"
    assert requests.post(url, json=SEND, headers=braze_credentials["headers"], timeout=10).status_code == 201
    slept: list[float] = []

    def sleep(seconds: float) -> None:  # advance the sandbox clock instead of sleeping
        slept.append(seconds)
        sandbox.advance_clock(seconds)

    def now() -> float:
        return datetime.fromisoformat(sandbox.now().replace("Z", "+00:00")).timestamp()

    resp = post_until_accepted(url, SEND, braze_credentials["headers"], sleep, now)
    assert resp.status_code == 201 and len(slept) == 1 and 0 < slept[0] <= 3600
    assert [e["status"] for e in sandbox.requests()] == [201, 429, 201]


def test_a_dropped_connection_is_seen_by_requests_and_retried_by_urllib3(sandbox: SandboxClient,
                                                                        clevertap_credentials: dict[str, Any]) -> None:
    url = clevertap_credentials["api_endpoint"] + "/send/push.json"
    headers = clevertap_credentials["headers"]
    with sandbox.fault("clevertap", effect="drop", times=1), pytest.raises(requests.ConnectionError):
        requests.post(url, json=PUSH, headers=headers, timeout=10)
    with sandbox.fault("clevertap", effect="drop", times=1):
        assert retrying(()).post(url, json=PUSH, headers=headers, timeout=10).status_code == 200
    assert [(e["status"], e["fault"] and e["fault"]["effect"]) for e in sandbox.requests()] == [
        (0, "drop"), (0, "drop"), (200, None)]


def test_a_truncated_answer_breaks_json_parsing_in_the_client(sandbox: SandboxClient,
                                                              braze_credentials: dict[str, Any]) -> None:
    sandbox.fault("braze", "users_track", effect="truncated", times=1)
    resp = requests.post(braze_credentials["base_url"] + "/users/track", json={"attributes": [
        {"external_id": "u1", "plan": "gold"}]}, headers=braze_credentials["headers"], timeout=10)
    assert resp.status_code == 201
    with pytest.raises(requests.JSONDecodeError):
        resp.json()


# -- the plugin removes a test's rules after it ------------------------------------------------------
@pytest.fixture
def external() -> Iterator[str]:
    server = SandboxServer(settings=Settings(population_size=200, port=0)).start()
    try:
        yield server.url
    finally:
        server.stop()


def test_the_plugin_removes_a_tests_rules_and_limits(pytester: pytest.Pytester, external: str,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PYTEST_ADDOPTS", raising=False)
    everyone = SandboxClient(external).fault("braze", "users_delete", status=500)  # not a test's: stays
    pytester.makeini("[pytest]\nasyncio_default_fixture_loop_scope = function\n")
    pytester.makepyfile(test_inner='''
def test_leaves_rules_behind(sandbox):
    sandbox.fault("braze", "messages_send", status=503)
    sandbox.rate_limit("braze", default=1)
    assert [r["tenant"] for r in sandbox.faults() if "tenant" in r] == [sandbox.tenant]
''')
    pytester.runpytest(f"--sandbox-url={external}").assert_outcomes(passed=1)
    client = SandboxClient(external)
    assert [r["id"] for r in client.faults()] == [everyone["id"]]
    assert client.rate_limits()["overrides"] == []


def test_docs_page_examples_name_real_effects() -> None:
    """docs/faults.md shows rules that the sandbox accepts."""
    from sandbox.core.faults import validate

    text = (Path(__file__).parents[2] / "docs" / "faults.md").read_text(encoding="utf-8")
    rules = [json.loads(line.split("/_sandbox/faults", 1)[1].strip().removeprefix("?tenant=T").strip())
             for line in text.splitlines() if line.startswith("POST /_sandbox/faults")]
    assert len(rules) >= 5
    for rule in rules:
        validate(rule)
