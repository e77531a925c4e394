"""Soak: a long mixed run against one sandbox, printing its RSS over time and the journal's evictions.

Run by hand:  python benchmarks/soak.py [--duration 120] [--journal-max-bytes 67108864] [--concurrency 8]

The sandbox runs as a subprocess (``campaign-sandbox serve``) with a small population and the given journal
byte budget. The client mixes CleverTap sends (to one user again and again: the frequency-cap history),
profile uploads, large bodies (1-4 MB, accepted and over the limit), gzip bodies, journal pages and HAR
exports. Every ``--every`` seconds it prints the server's RSS, the journal's size, bytes and evictions, and a
health check's latency. RSS must level off once the journal is full: the last third of the samples should
not keep climbing (the script prints the growth over that stretch).
"""

from __future__ import annotations

import argparse
import asyncio
import gzip
import json
import os
import random
import subprocess
import sys
import time

import aiohttp
from throughput import free_port, rss_mb

HEADERS = {"X-CleverTap-Account-Id": "SOAK", "X-CleverTap-Passcode": "PASS", "Content-Type": "application/json"}


def send_body(identity: str) -> bytes:
    return json.dumps({"to": {"Identity": [identity]}, "content": {"body": "soak"},
                       "respect_frequency_caps": True}).encode()


def upload_body(n: int) -> bytes:
    return json.dumps({"d": [{"identity": f"soak-{n}-{i}", "type": "profile",
                              "profileData": {"Name": f"User {i}", "Plan": "gold"}} for i in range(50)]}).encode()


def large_body(size: int) -> bytes:
    return json.dumps({"to": {"Identity": ["big"]}, "content": {"body": "x" * size}}).encode()


async def worker(session: aiohttp.ClientSession, base: str, rng: random.Random, stop: float,
                 counts: dict[str, int], identity: str) -> None:
    n = 0
    while time.monotonic() < stop:
        n += 1
        kind = rng.choices(["send", "send_same_user", "upload", "large", "too_large", "gzip", "page", "har"],
                           weights=[40, 20, 10, 6, 2, 10, 10, 2])[0]
        try:
            if kind == "send":
                data, path = send_body(f"u{rng.randrange(10**6)}"), "/1/send/sms.json"
            elif kind == "send_same_user":
                data, path = send_body(identity), "/1/send/sms.json"
            elif kind == "upload":
                data, path = upload_body(n), "/1/upload"
            elif kind == "large":
                data, path = large_body(rng.randrange(1, 4) * 1024 * 1024), "/1/send/sms.json"
            elif kind == "too_large":
                data, path = large_body(6 * 1024 * 1024), "/1/send/sms.json"
            elif kind == "gzip":
                async with session.post(base + "/1/send/sms.json", data=gzip.compress(send_body("g")),
                                        headers={**HEADERS, "Content-Encoding": "gzip"}) as resp:
                    await resp.read()
                counts[kind] = counts.get(kind, 0) + 1
                continue
            elif kind == "page":
                async with session.get(base + "/_sandbox/requests", params={"limit": "100"}) as resp:
                    await resp.read()
                counts[kind] = counts.get(kind, 0) + 1
                continue
            else:
                async with session.get(base + "/_sandbox/requests.har", params={"limit": "2000"}) as resp:
                    await resp.read()
                counts[kind] = counts.get(kind, 0) + 1
                continue
            async with session.post(base + path, data=data, headers=HEADERS) as resp:
                await resp.read()
            counts[kind] = counts.get(kind, 0) + 1
        except aiohttp.ClientError:
            counts["client_errors"] = counts.get("client_errors", 0) + 1


async def sampler(session: aiohttp.ClientSession, base: str, pid: int, stop: float, every: float,
                  samples: list[float]) -> None:
    started = time.monotonic()
    print(f"{'t (s)':>6} {'RSS (MB)':>9} {'journal':>8} {'MB kept':>8} {'evicted':>8} {'health (ms)':>11}")
    while time.monotonic() < stop:
        await asyncio.sleep(every)
        t0 = time.perf_counter()
        async with session.get(base + "/_sandbox/health") as resp:
            health = await resp.json()
        ms = (time.perf_counter() - t0) * 1000
        journal = health["journal"]
        rss = rss_mb(pid)
        samples.append(rss)
        print(f"{time.monotonic() - started:6.0f} {rss:9.1f} {journal['size']:8d} {journal['bytes'] / 2**20:8.1f} "
              f"{journal['evicted']:8d} {ms:11.1f}", flush=True)


async def export_phase(session: aiohttp.ClientSession, base: str) -> None:
    """The whole journal as HAR and a body-filtered listing, while health is polled: its worst latency is how
    long the event loop was held."""
    for label, path, params in (("HAR export", "/_sandbox/requests.har", {}),
                                ("body filter", "/_sandbox/requests", {"body.to.Identity": "nobody"})):
        latencies: list[float] = []
        done = asyncio.Event()

        async def poll(latencies: list[float] = latencies, done: asyncio.Event = done) -> None:
            while not done.is_set():
                t0 = time.perf_counter()
                async with session.get(base + "/_sandbox/health") as resp:
                    await resp.read()
                latencies.append((time.perf_counter() - t0) * 1000)
                await asyncio.sleep(0.01)

        poller = asyncio.create_task(poll())
        t0 = time.perf_counter()
        async with session.get(base + path, params=params) as resp:
            size = len(await resp.read())
        seconds = time.perf_counter() - t0
        done.set()
        await poller
        print(f"{label}: {size / 2**20:.1f} MB in {seconds:.2f} s; health during it: {len(latencies)} checks, "
              f"worst {max(latencies, default=0):.0f} ms")


async def run(args: argparse.Namespace) -> None:
    port = free_port()
    command = [sys.executable, "-m", "sandbox", "serve", "--port", str(port), "--population-size",
               str(args.population_size), "--journal-max-bytes", str(args.journal_max_bytes), "--quiet"]
    server = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    assert server.stdout is not None
    print(server.stdout.readline().strip())
    base = f"http://127.0.0.1:{port}"
    try:
        async with aiohttp.ClientSession() as session:
            async with session.get(base + "/_sandbox/profiles", params={"limit": "1"}) as resp:
                identity = str((await resp.json())["profiles"][0]["identity"])
            stop = time.monotonic() + args.duration
            counts: dict[str, int] = {}
            samples: list[float] = []
            rng = random.Random(7)
            await asyncio.gather(sampler(session, base, server.pid, stop, args.every, samples),
                                 *(worker(session, base, random.Random(rng.random()), stop, counts, identity)
                                   for _ in range(args.concurrency)))
            await export_phase(session, base)
        print("requests:", ", ".join(f"{k} {v}" for k, v in sorted(counts.items())))
        if len(samples) >= 3:
            tail = samples[len(samples) * 2 // 3:]
            print(f"RSS: first {samples[0]:.1f} MB, peak {max(samples):.1f} MB, last {samples[-1]:.1f} MB; "
                  f"growth over the last third {tail[-1] - tail[0]:+.1f} MB")
    finally:
        server.terminate()
        server.wait(10)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=float, default=120.0, help="seconds of load (default 120)")
    parser.add_argument("--every", type=float, default=5.0, help="seconds between samples (default 5)")
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--population-size", type=int, default=2000)
    parser.add_argument("--journal-max-bytes", type=int, default=64 * 1024 * 1024)
    args = parser.parse_args()
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    asyncio.run(run(args))


if __name__ == "__main__":
    main()
