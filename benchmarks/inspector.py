"""Does an open web inspector slow the request path? Server CPU per ``POST /1/send/push.json`` with and without a
live view connected (``GET /_sandbox/ui/live``, every event read as the page reads it).

Run by hand:  python benchmarks/inspector.py [--requests 30000] [--rounds 3] [--concurrency 32]

One sandbox subprocess on 127.0.0.1 whose journal is filled first (``--journal-limit`` = requests per round),
so every round runs in the steady state; rounds go no view, view, view, no view, ... (ABBA), so a drift of
the shared machine hits both alike. Printed: the server's CPU time per request (utime+stime from /proc, as
in throughput.py) of every round, the medians, and how many live events the view received.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import subprocess
import sys

import aiohttp
from throughput import free_port, load, wait_ready


async def one_round(port: int, pid: int, total: int, concurrency: int, live: bool) -> tuple[float, float, int]:
    """(CPU us per request, requests per second, live events received) of one load run."""
    events = 0

    async def watch(session: aiohttp.ClientSession) -> None:
        nonlocal events
        async with session.get(f"http://127.0.0.1:{port}/_sandbox/ui/live") as resp:
            async for chunk in resp.content.iter_any():
                events += chunk.count(b"event: rows")

    session = aiohttp.ClientSession()
    watcher = asyncio.create_task(watch(session)) if live else None
    await asyncio.sleep(1.0)  # connected, backlog sent: not part of the measured load
    try:
        result = await load(port, total, concurrency, pid, 10**9)
    finally:
        if watcher is not None:
            await asyncio.sleep(0.5)
            watcher.cancel()
        await session.close()
    return result["cpu_us_per_req"], result["rps"], max(0, events - 1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=30_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--concurrency", type=int, default=32)
    args = parser.parse_args()
    port = free_port()
    command = [sys.executable, "-m", "sandbox", "serve", "--port", str(port), "--log-level", "warning",
               "--journal-limit", str(args.requests)]
    proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    results: dict[bool, list[float]] = {False: [], True: []}
    try:
        wait_ready(port)
        asyncio.run(load(port, args.requests, args.concurrency, proc.pid, 10**9))  # warm up, fill the journal
        print(f"{args.requests} requests per round, concurrency {args.concurrency}")
        print(f"{'round':<8}{'live view':<12}{'rps':>8}{'CPU us/req':>12}{'events':>8}")
        for n in range(args.rounds):
            for live in (False, True) if n % 2 == 0 else (True, False):
                cpu, rps, events = asyncio.run(one_round(port, proc.pid, args.requests, args.concurrency, live))
                results[live].append(cpu)
                print(f"{n + 1:<8}{'yes' if live else 'no':<12}{rps:>8.0f}{cpu:>12.1f}{events if live else '':>8}")
    finally:
        proc.terminate()
        proc.wait(timeout=10)
    off, on = statistics.median(results[False]), statistics.median(results[True])
    spread = max(results[False]) - min(results[False])
    print(f"median CPU us/req: no live view {off:.1f}, live view {on:.1f} ({(on - off) / off:+.1%}); "
          f"spread between rounds without a view: {spread:.1f}")


if __name__ == "__main__":
    main()
