"""Server CPU per request of the sandbox's ``POST /1/send/push.json`` next to a bare handler and peer mocks.

Run by hand:  python benchmarks/peers.py [--requests 20000] [--rounds 3] [--peers-dir /tmp/sandbox-peers]

Every server answers ``POST /1/send/push.json`` with CleverTap's 200 JSON: a bare aiohttp handler that
appends the body to a list (on asyncio's loop, and on uvloop), campaign-sandbox (full pipeline: auth,
validation, journal, deliveries; on uvloop, its default where installed, on asyncio via
``SANDBOX_EVENT_LOOP=asyncio``, and without its direct path via ``SANDBOX_FAST_PATH=0``), and the peers,
installed from their registries into ``--peers-dir`` on first use: WireMock (npm ``wiremock``, needs Java),
Prism (npm ``@stoplight/prism-cli``, an OpenAPI mock) and pytest-httpserver (PyPI). A peer that cannot be
installed or started is skipped with the reason.

Servers are pinned to CPU 0 and the load generator (aiohttp, keep-alive, concurrency 16) to CPU 1 where the
machine has two; the figure that counts is the CPU time (user+system) of the server's whole process tree
per request, which is steady where wall-clock requests/s are not. Rounds are interleaved (every server
once per round) and the median round is printed.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import aiohttp

sys.path.insert(0, str(Path(__file__).resolve().parent))

from throughput import BODY, HEADERS, free_port, wait_ready

ANSWER = {"status": "success", "message": "Added to queue for processing"}
PATH = "/1/send/push.json"
BARE = """
import sys
from aiohttp import web
received = []
async def handle(request):
    received.append(await request.read())
    return web.json_response({"status": "success", "message": "Added to queue for processing"})
app = web.Application()
app.router.add_post("/1/send/push.json", handle)
loop = None
if sys.argv[2] == "uvloop":
    import uvloop
    loop = uvloop.new_event_loop()
web.run_app(app, host="127.0.0.1", port=int(sys.argv[1]), print=None, access_log=None, loop=loop)
"""
HTTPSERVER = """
import sys, time
from pytest_httpserver import HTTPServer
server = HTTPServer(host="127.0.0.1", port=int(sys.argv[1]))
server.expect_request("/1/send/push.json", method="POST").respond_with_json(
    {"status": "success", "message": "Added to queue for processing"})
server.start()
while True:
    time.sleep(3600)
"""
OPENAPI = {
    "openapi": "3.0.0", "info": {"title": "push", "version": "1"},
    "paths": {PATH: {"post": {
        "requestBody": {"content": {"application/json": {"schema": {"type": "object"}}}},
        "responses": {"200": {"description": "ok", "content": {"application/json": {
            "schema": {"type": "object"}, "example": ANSWER}}}}}}},
}
WIREMOCK_MAPPING = {"request": {"method": "POST", "url": PATH},
                    "response": {"status": 200, "jsonBody": ANSWER,
                                 "headers": {"Content-Type": "application/json"}}}

Launcher = Callable[[int], list[str] | str]
"""port -> the server's command line, or a string saying why it is skipped."""


def tree_cpu_seconds(pid: int) -> float:
    """user+system CPU seconds of ``pid`` and every descendant still running."""
    children: dict[int, list[int]] = {}
    stats: dict[int, list[str]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            stats[int(entry.name)] = fields
            children.setdefault(int(fields[1]), []).append(int(entry.name))
    total, todo = 0, [pid]
    while todo:
        current = todo.pop()
        fields = stats.get(current)
        if fields is not None:
            total += int(fields[11]) + int(fields[12]) + int(fields[13]) + int(fields[14])
        todo += children.get(current, [])
    return total / os.sysconf("SC_CLK_TCK")


def pinned(cmd: list[str]) -> list[str]:
    return ["taskset", "-c", "0", *cmd] if shutil.which("taskset") and (os.cpu_count() or 1) > 1 else cmd


def npm_install(peers: Path, package: str, binary: str) -> Path | str:
    exe = peers / "node_modules" / ".bin" / binary
    if exe.exists():
        return exe
    if shutil.which("npm") is None:
        return "npm is not installed"
    done = subprocess.run(["npm", "install", "--silent", "--no-audit", "--no-fund", "--prefix", str(peers), package],
                          capture_output=True, text=True, timeout=600)
    if done.returncode or not exe.exists():
        return f"npm install {package} failed: {(done.stderr or done.stdout).strip().splitlines()[-1:]}"
    return exe


def launchers(peers: Path) -> dict[str, Launcher]:
    sandbox = [sys.executable, "-m", "sandbox", "serve", "--log-level", "warning", "--population-size", "10000"]

    def wiremock(port: int) -> list[str] | str:
        if shutil.which("java") is None:
            return "java is not installed (WireMock runs on the JVM)"
        exe = npm_install(peers, "wiremock", "wiremock")
        if isinstance(exe, str):
            return exe
        root = peers / "wiremock-root"
        (root / "mappings").mkdir(parents=True, exist_ok=True)
        (root / "mappings" / "push.json").write_text(json.dumps(WIREMOCK_MAPPING))
        return [str(exe), "--port", str(port), "--root-dir", str(root), "--disable-request-logging",
                "--no-request-journal"]

    def prism(port: int) -> list[str] | str:
        exe = npm_install(peers, "@stoplight/prism-cli", "prism")
        if isinstance(exe, str):
            return exe
        spec = peers / "push-openapi.json"
        spec.write_text(json.dumps(OPENAPI))
        return [str(exe), "mock", str(spec), "-p", str(port), "-h", "127.0.0.1", "--errors", "false"]

    def httpserver(port: int) -> list[str] | str:
        target = peers / "python"
        if not (target / "pytest_httpserver").is_dir():
            done = subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--target", str(target),
                                   "pytest-httpserver"], capture_output=True, text=True, timeout=600)
            if done.returncode:
                return f"pip install pytest-httpserver failed: {done.stderr.strip().splitlines()[-1:]}"
        return [sys.executable, "-c", f"import sys; sys.path.insert(0, {str(target)!r})\n{HTTPSERVER}",
                str(port)]

    return {
        "bare aiohttp (asyncio)": lambda port: [sys.executable, "-c", BARE, str(port), "asyncio"],
        "bare aiohttp (uvloop)": lambda port: [sys.executable, "-c", BARE, str(port), "uvloop"],
        "campaign-sandbox (uvloop)": lambda port: [*sandbox, "--port", str(port)],
        "campaign-sandbox (asyncio)": lambda port: ["env", "SANDBOX_EVENT_LOOP=asyncio", *sandbox, "--port",
                                                    str(port)],
        "campaign-sandbox (aiohttp path)": lambda port: ["env", "SANDBOX_FAST_PATH=0", *sandbox, "--port",
                                                         str(port)],
        "WireMock": wiremock,
        "pytest-httpserver": httpserver,
        "Prism": prism,
    }


async def drive(port: int, total: int, concurrency: int) -> tuple[float, float]:
    """(wall seconds, requests answered 200) for ``total`` sends."""
    url = f"http://127.0.0.1:{port}{PATH}"
    ok = 0
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=concurrency)) as session:
        async def worker(count: int) -> None:
            nonlocal ok
            for _ in range(count):
                async with session.post(url, data=BODY, headers=HEADERS) as resp:
                    await resp.read()
                    ok += resp.status == 200
        started = time.perf_counter()
        share, extra = divmod(total, concurrency)
        await asyncio.gather(*(worker(share + (i < extra)) for i in range(concurrency)))
    return time.perf_counter() - started, ok


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=20_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--peers-dir", type=Path, default=Path("/tmp/sandbox-peers"))
    parser.add_argument("--only", default="", help="comma-separated server names (substrings) to run")
    args = parser.parse_args()
    args.peers_dir.mkdir(parents=True, exist_ok=True)
    if (os.cpu_count() or 1) > 1 and hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {1})
    running: dict[str, tuple[subprocess.Popen[bytes], int]] = {}
    wanted = [w.strip().lower() for w in args.only.split(",") if w.strip()]
    try:
        for name, launch in launchers(args.peers_dir).items():
            if wanted and not any(w in name.lower() for w in wanted):
                continue
            port = free_port()
            cmd = launch(port)
            if isinstance(cmd, str):
                print(f"SKIPPED {name}: {cmd}", flush=True)
                continue
            proc = subprocess.Popen(pinned(cmd), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            try:
                wait_ready(port)
                _, ok = asyncio.run(drive(port, 2000, args.concurrency))  # warm up (JIT, caches)
                if ok < 2000:
                    raise RuntimeError(f"answered {ok}/2000 warm-up requests with 200")
            except (RuntimeError, SystemExit) as exc:
                print(f"SKIPPED {name}: did not serve ({exc})", flush=True)
                proc.terminate()
                continue
            running[name] = (proc, port)
        results: dict[str, list[tuple[float, float]]] = {name: [] for name in running}
        for _ in range(args.rounds):
            for name, (proc, port) in running.items():
                cpu0 = tree_cpu_seconds(proc.pid)
                wall, ok = asyncio.run(drive(port, args.requests, args.concurrency))
                cpu = tree_cpu_seconds(proc.pid) - cpu0
                results[name].append((cpu / max(ok, 1) * 1e6, ok / wall))
    finally:
        for proc, _ in running.values():
            proc.terminate()
        for proc, _ in running.values():
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
    if not results:
        return
    reference = statistics.median(cpu for cpu, _ in results.get("bare aiohttp (asyncio)", [(1.0, 0.0)]))
    print(f"\n{args.requests} requests x {args.rounds} interleaved rounds, concurrency {args.concurrency}; "
          "median round")
    print("| server | CPU µs/request | x bare (asyncio) | requests/s |\n|---|---|---|---|")
    for name, rows in results.items():
        cpu = statistics.median(c for c, _ in rows)
        rps = statistics.median(r for _, r in rows)
        print(f"| {name} | {cpu:.0f} | {cpu / reference:.2f}x | {rps:,.0f} |")


if __name__ == "__main__":
    main()
