"""Throughput, latency and memory of POST /1/send/push.json next to a bare aiohttp handler.

Run by hand:  python benchmarks/throughput.py [--requests 200000] [--concurrency 32]

Both servers run as subprocesses on 127.0.0.1 and are loaded by the same aiohttp client process in the same
run. Wall-clock rps varies +-30 % between identical runs on shared machines, so the comparison that counts
is server CPU time per request (utime+stime from /proc), printed next to rps and client-side p50/p99.
RSS of the sandbox is sampled as the journal fills, to show it stays flat once the journal is full.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import socket
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

import aiohttp

BODY = (b'{"to":{"Identity":["JohnDoe"],"Email":["john@example.com"]},"tag_group":"bench",'
        b'"respect_frequency_caps":false,"content":{"title":"Hi","body":"Hello",'
        b'"platform_specific":{"android":{"wzrk_cid":"engagement"}}}}')
HEADERS = {"X-CleverTap-Account-Id": "BENCH", "X-CleverTap-Passcode": "PASS", "Content-Type": "application/json"}

BARE = """
import sys
from aiohttp import web
async def handle(request):
    await request.read()
    return web.json_response({"status": "success", "message": "Added to queue for processing"})
app = web.Application()
app.router.add_post("/1/send/push.json", handle)
web.run_app(app, host="127.0.0.1", port=int(sys.argv[1]), print=None, access_log=None)
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def wait_ready(port: int) -> None:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.1)
    raise SystemExit(f"server on {port} did not start")


async def load(port: int, total: int, concurrency: int, pid: int, sample_every: int) -> dict[str, float]:
    url = f"http://127.0.0.1:{port}/1/send/push.json"
    latencies: list[float] = []
    rss: list[tuple[int, float]] = []
    done = 0
    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(connector=connector) as session:
        async def worker(count: int) -> None:
            nonlocal done
            for _ in range(count):
                t0 = time.perf_counter()
                async with session.post(url, data=BODY, headers=HEADERS) as resp:
                    await resp.read()
                    assert resp.status == 200, resp.status
                latencies.append(time.perf_counter() - t0)
                done += 1
                if done % sample_every == 0:
                    rss.append((done, rss_mb(pid)))

        wall, cpu = await spread(worker, total, concurrency, pid)
    return {**figures(latencies, total, wall, cpu), "rss": rss}  # type: ignore[dict-item]


async def spread(worker: Callable[[int], Awaitable[None]], total: int, concurrency: int,
                 pid: int) -> tuple[float, float]:
    """Run ``total`` requests over ``concurrency`` workers; (wall seconds, server CPU seconds)."""
    cpu0, t0 = cpu_seconds(pid), time.perf_counter()
    share, extra = divmod(total, concurrency)
    await asyncio.gather(*(worker(share + (i < extra)) for i in range(concurrency)))
    return time.perf_counter() - t0, cpu_seconds(pid) - cpu0


def figures(latencies: list[float], total: int, wall: float, cpu: float) -> dict[str, float]:
    """requests/s, client p50/p99 and server CPU µs per request."""
    latencies.sort()
    return {"rps": total / wall, "p50_ms": latencies[len(latencies) // 2] * 1000,
            "p99_ms": latencies[int(len(latencies) * 0.99)] * 1000, "cpu_us_per_req": cpu / total * 1e6}


def run(cmd: list[str], port: int, total: int, concurrency: int, sample_every: int) -> dict[str, float]:
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_ready(port)
        asyncio.run(load(port, min(2000, total), concurrency, proc.pid, 10**9))  # warm up
        return asyncio.run(load(port, total, concurrency, proc.pid, sample_every))
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=200_000)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--journal-limit", type=int, default=100_000)
    args = parser.parse_args()
    sample = max(1, args.requests // 10)

    bare_port = free_port()
    bare = run([sys.executable, "-c", BARE, str(bare_port)], bare_port, args.requests, args.concurrency, sample)
    port = free_port()
    sandbox = run([sys.executable, "-m", "sandbox", "serve", "--port", str(port), "--log-level", "warning",
                   "--journal-limit", str(args.journal_limit)], port, args.requests, args.concurrency, sample)

    print(f"{args.requests} requests, concurrency {args.concurrency}, journal limit {args.journal_limit}")
    print(f"{'server':<10}{'rps':>10}{'p50 ms':>10}{'p99 ms':>10}{'CPU us/req':>12}")
    for name, r in (("bare", bare), ("sandbox", sandbox)):
        print(f"{name:<10}{r['rps']:>10.0f}{r['p50_ms']:>10.2f}{r['p99_ms']:>10.2f}{r['cpu_us_per_req']:>12.1f}")
    print(f"sandbox / bare: throughput {sandbox['rps'] / bare['rps']:.0%}, "
          f"CPU-time efficiency {bare['cpu_us_per_req'] / sandbox['cpu_us_per_req']:.0%}")
    print("sandbox RSS (MB) by requests served: "
          + ", ".join(f"{n}: {mb:.0f}" for n, mb in sandbox["rss"]))  # type: ignore[union-attr]


if __name__ == "__main__":
    main()
