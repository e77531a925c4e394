"""Prometheus metrics of one sandbox (``GET /_sandbox/metrics``), with the ``prometheus-client`` library.

The request path does O(1) work: a dict increment and a bucket increment (the library's own Counter and
Histogram take a lock per update, five times the cost). Everything
else (journal size, bytes and evictions, deliveries by vendor and channel, injected faults, rate-limited
requests, population size) is read from the app's state when Prometheus scrapes, by a custom collector.
Each app has its own registry: no module globals, so tests can run many apps in one process.
"""

from __future__ import annotations

import math
from bisect import bisect_left
from collections import Counter
from collections.abc import Callable, Iterator
from typing import Any

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily, Metric
from prometheus_client.registry import Collector

PREFIX = "campaign_sandbox"
TEST_TENANT_PREFIX = "sbx-"
"""Tenants the pytest plugin makes for each test (``sbx-<hex>``)."""
LATENCY_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


def tenant_class(tenant: str | None) -> str:
    """A label of bounded cardinality: ``none`` (no credential), ``test`` (a plugin tenant), ``account``."""
    if tenant is None:
        return "none"
    return "test" if tenant.startswith(TEST_TENANT_PREFIX) else "account"


class Metrics:
    """Per-request figures in plain counters (a dict increment and a bisect per request); the registry's
    collectors turn them and the app's state into Prometheus families when scraped."""

    def __init__(self, state: Callable[[], dict[str, Any]]) -> None:
        """``state()`` returns the app's figures at scrape time (see ``StateCollector``)."""
        self.requests: Counter[tuple[str, str, int, str]] = Counter()
        self.latency: dict[tuple[str, str], list[float]] = {}
        """(vendor, operation) -> [count per bucket..., sum of seconds]."""
        self.registry = CollectorRegistry(auto_describe=False)
        self.registry.register(RequestCollector(self))
        self.registry.register(StateCollector(state))

    def observe(self, entry: Any) -> None:
        """One answered vendor request (a journal entry)."""
        vendor = entry.vendor or ""
        operation = entry.operation or ""
        self.requests[(vendor, operation, entry.status, tenant_class(entry.tenant))] += 1
        seconds = entry.duration_ms / 1000
        slots = self.latency.get((vendor, operation))
        if slots is None:
            slots = self.latency[(vendor, operation)] = [0.0] * (len(LATENCY_BUCKETS) + 2)
        slots[bisect_left(LATENCY_BUCKETS, seconds)] += 1
        slots[-1] += seconds

    def render(self) -> bytes:
        return generate_latest(self.registry)


class RequestCollector(Collector):
    def __init__(self, metrics: Metrics) -> None:
        self.metrics = metrics

    def collect(self) -> Iterator[Metric]:
        requests = CounterMetricFamily(f"{PREFIX}_requests", "Vendor requests answered, by vendor, operation, "
                                       "HTTP status and tenant class",
                                       labels=("vendor", "operation", "status", "tenant_class"))
        for (vendor, operation, status, klass), count in sorted(self.metrics.requests.items()):
            requests.add_metric([vendor, operation, str(status), klass], count)
        yield requests
        latency = HistogramMetricFamily(f"{PREFIX}_request_duration_seconds", "Time from reading the request to "
                                        "its answer, by vendor and operation", labels=("vendor", "operation"))
        for (vendor, operation), slots in sorted(self.metrics.latency.items()):
            cumulative, buckets = 0.0, []
            for bound, count in zip((*LATENCY_BUCKETS, math.inf), slots[:-1], strict=True):
                cumulative += count
                buckets.append(("+Inf" if bound == math.inf else repr(bound), cumulative))
            latency.add_metric([vendor, operation], buckets, slots[-1])
        yield latency


class StateCollector(Collector):
    """Figures read at scrape time, so the request path does nothing for them."""

    def __init__(self, state: Callable[[], dict[str, Any]]) -> None:
        self.state = state

    def collect(self) -> Iterator[Metric]:
        s = self.state()
        yield GaugeMetricFamily(f"{PREFIX}_journal_entries", "Requests held in the journal", value=s["journal_entries"])
        yield GaugeMetricFamily(f"{PREFIX}_journal_bytes", "Bytes of request and response bodies and headers held "
                                "in the journal", value=s["journal_bytes"])
        yield CounterMetricFamily(f"{PREFIX}_journal_evictions", "Journal entries evicted to stay within "
                                  "--journal-limit", value=s["journal_evicted"])
        yield _labelled(GaugeMetricFamily(f"{PREFIX}_deliveries", "Deliveries held, by vendor and channel",
                                          labels=("vendor", "channel")), s["deliveries"])
        yield CounterMetricFamily(f"{PREFIX}_deliveries_evictions", "Deliveries evicted to stay within "
                                  "--journal-limit", value=s["deliveries_evicted"])
        yield _labelled(CounterMetricFamily(f"{PREFIX}_faults_injected", "Requests answered by a fault rule, by "
                                            "vendor and effect", labels=("vendor", "effect")), s["faults_injected"])
        yield GaugeMetricFamily(f"{PREFIX}_fault_rules", "Fault rules installed", value=s["fault_rules"])
        yield _labelled(CounterMetricFamily(f"{PREFIX}_rate_limited", "Requests answered 429 by an enforced vendor "
                                            "rate limit, by vendor and limit", labels=("vendor", "limit")),
                        s["rate_limited"])
        yield GaugeMetricFamily(f"{PREFIX}_population_size", "Fake users in the shared population",
                                value=s["population_size"])


def _labelled(family: Any, counts: Counter[tuple[str, ...]]) -> Any:
    for labels, value in sorted(counts.items()):
        family.add_metric([str(part) for part in labels], value)
    return family
