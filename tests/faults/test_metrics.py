"""``GET /_sandbox/metrics``: Prometheus text that the prometheus-client parser reads back."""

from __future__ import annotations

from typing import Any

from prometheus_client.parser import text_string_to_metric_families
from support.braze import HEADERS as BRAZE
from support.http import CLEVERTAP_HEADERS, Api, clevertap_headers

PUSH = {"to": {"Identity": ["JohnDoe"]}, "content": {"title": "Hi", "body": "There"}}
SEND = {"messages": {"apple_push": {"alert": "hello"}}, "external_user_ids": ["u1", "u2"]}


async def scrape(api: Api) -> dict[str, dict[tuple[tuple[str, str], ...], float]]:
    async with api.client.get("/_sandbox/metrics") as resp:
        assert resp.status == 200 and resp.headers["Content-Type"].startswith("text/plain; version=")
        text = await resp.text()
    out: dict[str, dict[tuple[tuple[str, str], ...], float]] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            out.setdefault(sample.name, {})[tuple(sorted(sample.labels.items()))] = sample.value
    return out


def value(samples: dict[str, Any], name: str, **labels: str) -> float:
    return samples[name][tuple(sorted(labels.items()))]


async def test_requests_latency_journal_deliveries_faults_limits_population(api: Api) -> None:
    await api.call("POST", "/1/send/push.json", json=PUSH, headers=CLEVERTAP_HEADERS)
    await api.call("POST", "/1/send/push.json", json=PUSH, headers=clevertap_headers("sbx-0123456789abcdef"))
    await api.call("POST", "/1/send/push.json", json=PUSH, headers={"Content-Type": "application/json"})
    await api.call("POST", "/messages/send", json=SEND, headers=BRAZE)
    await api.control("POST", "/faults", json={"vendor": "braze", "effect": "unavailable", "times": 1})
    await api.call("POST", "/messages/send", json=SEND, headers=BRAZE)
    await api.control("POST", "/limits", json={"vendor": "braze", "limits": {"default": 0}},
                      params={"tenant": "test-key"})
    await api.call("POST", "/messages/send", json=SEND, headers=BRAZE)

    samples = await scrape(api)
    requests = "campaign_sandbox_requests_total"
    assert value(samples, requests, vendor="clevertap", operation="send_push", status="200",
                 tenant_class="account") == 1
    assert value(samples, requests, vendor="clevertap", operation="send_push", status="200",
                 tenant_class="test") == 1
    assert value(samples, requests, vendor="clevertap", operation="send_push", status="401",
                 tenant_class="none") == 1
    assert value(samples, requests, vendor="braze", operation="messages_send", status="503",
                 tenant_class="account") == 1
    assert value(samples, "campaign_sandbox_request_duration_seconds_count", vendor="braze",
                 operation="messages_send") == 3
    assert value(samples, "campaign_sandbox_journal_entries") == 6
    assert value(samples, "campaign_sandbox_journal_bytes") > 6 * len(str(PUSH))
    assert value(samples, "campaign_sandbox_journal_evictions_total") == 0
    assert value(samples, "campaign_sandbox_deliveries", vendor="braze", channel="push") == 2
    assert value(samples, "campaign_sandbox_deliveries", vendor="clevertap", channel="push") == 2
    assert value(samples, "campaign_sandbox_faults_injected_total", vendor="braze", effect="unavailable") == 1
    assert value(samples, "campaign_sandbox_fault_rules") == 1
    assert value(samples, "campaign_sandbox_rate_limited_total", vendor="braze", limit="default") == 1
    assert value(samples, "campaign_sandbox_population_size") == 300


async def test_an_idle_sandbox_scrapes_cleanly(api: Api) -> None:
    samples = await scrape(api)
    assert value(samples, "campaign_sandbox_journal_entries") == 0
    assert "campaign_sandbox_requests_total" not in samples
