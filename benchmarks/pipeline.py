"""The sandbox's own CPU per ``POST /1/send/push.json``, in process: its middleware, without HTTP; and the
direct path, from the request's bytes to the answer's.

Run by hand:  python benchmarks/pipeline.py [--requests 20000] [--rounds 3] [--profile tottime]

``benchmarks/peers.py`` measures a whole server over HTTP, where the machine's other load moves each figure by
several µs; this one runs the middleware (auth, body, schema validation, journal entry, delivery recording,
metrics, rendering) on requests whose body has already arrived, in one process on one loop (uvloop where
installed), and subtracts the cost of making the requests. It is the steady figure for comparing levers on
the request path; ``--profile`` prints a ``cProfile`` (``time.process_time``) of one more round.

Then the direct path (``sandbox/core/fastpath.py``): the server's own connection protocol is fed the request's
bytes and writes its answer to a transport that keeps nothing, once with the real pipeline and once with a
handler that answers a constant (what the direct path itself costs: aiohttp's parser, the request, the answer's
bytes). No socket, no event-loop wake-up: the server adds those.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import os
import pstats
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any
from unittest import mock

from aiohttp import streams, web
from aiohttp.test_utils import make_mocked_request

sys.path.insert(0, str(Path(__file__).resolve().parent))

from throughput import BODY, HEADERS

from sandbox.app import create_app
from sandbox.cli import event_loop_factory
from sandbox.core import pipeline
from sandbox.records.journal import Entry
from sandbox.settings import Settings

PATH = "/1/send/push.json"
ANSWER = b'{"status":"success","message":"Added to queue for processing"}'


class _Protocol:
    """What a payload stream asks of its connection (nothing to pause: the body is all there)."""

    _reading_paused = False

    def pause_reading(self, **_: Any) -> None:
        pass

    def resume_reading(self, **_: Any) -> None:
        pass


async def measure(requests: int, rounds: int, population: int, profile: str | None) -> None:
    app = create_app(Settings(population_size=population))
    runner = web.AppRunner(app)
    await runner.setup()  # builds the population and starts the providers, as serve does
    loop = asyncio.get_running_loop()
    headers = {**HEADERS, "Content-Length": str(len(BODY))}
    connection = mock.Mock(_reading_paused=False)
    template = make_mocked_request("POST", PATH, headers=headers, app=app, loop=loop, protocol=connection,
                                   payload=streams.StreamReader(connection, 2**16, loop=loop))
    match = await app.router.resolve(template)
    match.add_app(app)
    match.freeze()
    protocol = _Protocol()

    def request() -> web.Request:
        payload = streams.StreamReader(protocol, 2**16, loop=loop)  # type: ignore[arg-type]
        payload.feed_data(BODY)
        payload.feed_eof()
        made = template.clone()
        made._payload = payload
        made._match_info = match
        return made

    async def send() -> None:
        response = await pipeline.sandbox_middleware(request(), None)
        if response.status != 200:
            raise SystemExit(f"the send was answered {response.status}: {getattr(response, 'body', b'')!r}")

    def cpu(action: Callable[[], Any]) -> float:
        started = time.process_time()
        action()
        return time.process_time() - started

    async def sends(count: int) -> float:
        started = time.process_time()
        for _ in range(count):
            await send()
        return time.process_time() - started

    await sends(2_000)  # warm up: lazily built maps, first-use state
    figures = []
    for _ in range(rounds):
        making = cpu(lambda: [request() for _ in range(requests)])
        figures.append((await sends(requests) - making) / requests * 1e6)
    print(f"{requests} sends x {rounds} rounds on {type(loop).__module__.split('.')[0]}'s loop, "
          f"{population} users: the middleware's own CPU per send {statistics.median(figures):.1f} µs "
          f"(rounds: {', '.join(f'{f:.1f}' for f in figures)})")
    if profile:
        profiler = cProfile.Profile(time.process_time)
        profiler.enable()
        await sends(requests)
        profiler.disable()
        pstats.Stats(profiler).sort_stats(profile).print_stats(40)
    await measure_direct(runner, requests, rounds)
    await runner.cleanup()


class _Transport(asyncio.Transport):
    """A connection that accepts every write and keeps nothing but the last answer."""

    def __init__(self) -> None:
        super().__init__()
        self.last = b""

    def write(self, data: Any) -> None:
        self.last = bytes(data)

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return ("127.0.0.1", 8080) if name in ("peername", "sockname") else default

    def is_closing(self) -> bool:
        return False

    def close(self) -> None:
        pass

    def pause_reading(self) -> None:
        pass

    def resume_reading(self) -> None:
        pass

    def abort(self) -> None:
        pass


async def measure_direct(runner: web.AppRunner, requests: int, rounds: int) -> None:
    assert runner.server is not None
    connection = runner.server()
    transport = _Transport()
    connection.connection_made(transport)
    await asyncio.sleep(0)  # the connection's aiohttp task starts and waits for requests
    head = "".join(f"{k}: {v}\r\n" for k, v in HEADERS.items())
    wire = f"POST {PATH} HTTP/1.1\r\nHost: sandbox\r\n{head}Content-Length: {len(BODY)}\r\n\r\n".encode() + BODY

    def per_request() -> float:
        for _ in range(2_000):
            connection.data_received(wire)
        figures = []
        for _ in range(rounds):
            started = time.process_time()
            for _ in range(requests):
                connection.data_received(wire)
            figures.append((time.process_time() - started) / requests * 1e6)
        if not transport.last.startswith(b"HTTP/1.1 200"):
            raise SystemExit(f"the direct path answered {transport.last[:200]!r}")
        return statistics.median(figures)

    full = per_request()
    answer = pipeline.answer
    entry = Entry(0, 0.0, "POST", PATH, "", (), b"")

    async def constant(request: web.Request, started: float, endpoint: Any) -> tuple[int, dict[str, str], bytes,
                                                                                      Entry]:
        request.content.read_nowait()  # the body is all there (both kinds of request the direct path makes)
        return 200, {"Content-Type": "application/json"}, ANSWER, entry

    pipeline.answer = constant  # type: ignore[assignment]
    try:
        bare = per_request()
    finally:
        pipeline.answer = answer
    print(f"the direct path, bytes in to bytes out: {full:.1f} µs per send; with a handler answering a constant "
          f"{bare:.1f} µs (the pipeline: {full - bare:.1f} µs)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=20_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--population-size", type=int, default=10_000)
    parser.add_argument("--profile", choices=("tottime", "cumulative"), help="also print a cProfile, sorted so")
    args = parser.parse_args()
    if (os.cpu_count() or 1) > 1 and hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {0})
    factory = event_loop_factory()
    with asyncio.Runner(loop_factory=factory) as runner:
        runner.run(measure(args.requests, args.rounds, args.population_size, args.profile))


if __name__ == "__main__":
    main()
