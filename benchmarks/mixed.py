"""Writes mixed with reads: 1 upload : 1 send : 1 estimate, next to sends alone, at 10k and 100k users.

Run by hand:  python benchmarks/mixed.py [--sizes 10000,100000] [--requests 30000] [--concurrency 8]

One sandbox subprocess per population size (``--population-size``, built at start). Against it, in one run:
``send``: ``POST /1/send/push.json`` only; ``mix``: every worker cycles ``POST /1/upload`` (a profile or an
event for one of 5,000 generated users: the tenant's overlay grows to thousands of profiles), ``POST
/1/send/push.json`` and ``POST /1/targets/create.json`` with ``estimate_only`` (a complex audience: event
window + property, attribute, reachability) over the same account, so every estimate follows writes to the
population it counts; ``estimate`` and ``upload`` alone for comparison (the estimates there follow the
writes of the warm-up and the mix's earlier rounds). Prints requests/s, client p50/p99, server CPU per
request and RSS. With a fixed concurrency the p99 is mostly queueing (concurrency / requests/s): compare CPU
per request, the steadier figure on a shared machine.
Targets (issue 15): the mix at >= 50 % of the send-only requests/s, with p99 <= 20 ms.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import sys
import time
from pathlib import Path
from typing import Any

import aiohttp
import orjson

sys.path.insert(0, str(Path(__file__).resolve().parent))

from throughput import BODY, HEADERS, figures, free_port, rss_mb, spread, wait_ready

WRITTEN_USERS = 5_000
ESTIMATE = orjson.dumps({
    "name": "bench", "target_mode": "push", "when": "now", "estimate_only": True,
    "content": {"title": "t", "body": "b", "platform_specific": {"android": {"wzrk_cid": "engagement"}}},
    "devices": ["android", "ios"],
    "where": {"event_name": "Charged", "from": 20250101, "to": 20251231,
              "event_properties": [{"name": "Amount", "operator": "greater_than", "value": 50}],
              "common_profile_properties": {"profile_fields": [
                  {"name": "Customer Type", "operator": "equals", "value": ["Gold", "Platinum"]}]}},
})


def upload_body(i: int) -> bytes:
    identity = f"user{i % WRITTEN_USERS + 1:07d}"
    if i % 2:
        record: dict[str, Any] = {"identity": identity, "type": "event", "evtName": "Charged",
                                  "ts": 1764547200 + i % 86400, "evtData": {"Amount": i % 200}}
    else:
        record = {"identity": identity, "type": "profile",
                  "profileData": {"Customer Type": ("Gold", "Silver")[i % 4 // 2], "Score": i}}
    return orjson.dumps({"d": [record]})


KINDS = {"send": (1,), "estimate": (2,), "upload": (0,), "mix": (0, 1, 2)}
"""Load name -> the request kinds it cycles through (0 upload, 1 send, 2 estimate)."""


async def load(port: int, total: int, concurrency: int, pid: int, name: str) -> dict[str, float]:
    base = f"http://127.0.0.1:{port}"
    latencies: list[float] = []
    counter = itertools.count()
    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(connector=connector) as session:
        async def one(i: int) -> None:
            kinds = KINDS[name]
            kind = kinds[i % len(kinds)]
            if kind == 0:
                path, body = "/1/upload", upload_body(i)
            elif kind == 1:
                path, body = "/1/send/push.json", BODY
            else:
                path, body = "/1/targets/create.json", ESTIMATE
            t0 = time.perf_counter()
            async with session.post(base + path, data=body, headers=HEADERS) as resp:
                text = await resp.read()
                assert resp.status == 200, (path, resp.status, text[:200])
            latencies.append(time.perf_counter() - t0)

        async def worker(count: int) -> None:
            for _ in range(count):
                await one(next(counter))

        wall, cpu = await spread(worker, total, concurrency, pid)
    return {**figures(latencies, total, wall, cpu), "rss_mb": rss_mb(pid)}


def measure(size: int, total: int, concurrency: int) -> dict[str, dict[str, float]]:
    import subprocess

    port = free_port()
    cmd = [sys.executable, "-m", "sandbox", "serve", "--port", str(port), "--log-level", "warning",
           "--population-size", str(size)]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_ready(port)
        asyncio.run(load(port, 1500, concurrency, proc.pid, "mix"))  # warm up: first columns, overlay
        return {name: asyncio.run(load(port, total, concurrency, proc.pid, name))
                for name in ("send", "estimate", "upload", "mix")}
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="10000,100000")
    parser.add_argument("--requests", type=int, default=30_000)
    parser.add_argument("--concurrency", type=int, default=8)
    args = parser.parse_args()
    print(f"{args.requests} requests per row, concurrency {args.concurrency}; mix = 1 upload : 1 send : "
          f"1 estimate (uploads to {WRITTEN_USERS} users)")
    print(f"{'users':>9} {'load':<11}{'rps':>8}{'p50 ms':>9}{'p99 ms':>9}{'CPU us/req':>12}{'RSS MB':>8}")
    for size in (int(s) for s in args.sizes.split(",")):
        rows = measure(size, args.requests, args.concurrency)
        for name, r in rows.items():
            print(f"{size:>9} {name:<11}{r['rps']:>8.0f}{r['p50_ms']:>9.2f}{r['p99_ms']:>9.2f}"
                  f"{r['cpu_us_per_req']:>12.1f}{r['rss_mb']:>8.0f}")
        ratio = rows["mix"]["rps"] / rows["send"]["rps"]
        print(f"{size:>9} mix / send-only requests/s: {ratio:.0%} (target >= 50 %), "
              f"mix p99 {rows['mix']['p99_ms']:.1f} ms (target <= 20 ms)")


if __name__ == "__main__":
    main()
