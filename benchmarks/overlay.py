"""A tenant's writes and the estimates that follow them, in process (no HTTP): where the mix's cost goes.

Run by hand:  python benchmarks/overlay.py [--sizes 10000,100000] [--rounds 3000] [--profile]

Loads an ``AudienceService`` as ``serve`` does, then for one tenant: writes one profile or one event for one
of 5,000 users the way CleverTap's ``/1/upload`` does (``People.apply``), each followed by the estimate
``benchmarks/mixed.py`` asks for (its ``where`` translated to a tree, push on android and ios); then the same
estimate again with no write in between. Prints CPU µs per write, per estimate after a write and per
estimate without one (the write penalty is the difference). ``--profile [tottime|cumulative]``: cProfile's
top functions of the write + estimate loop instead.
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import pstats
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import orjson
from mixed import ESTIMATE, upload_body

from sandbox.core.clock import Clock
from sandbox.population.audience.service import AudienceService
from sandbox.providers.clevertap.audience import translate
from sandbox.providers.clevertap.people import People

TENANT = "BENCH"
PLATFORMS = ["android", "ios"]


def records(count: int, start: int) -> list[dict[str, Any]]:
    """``mixed.py``'s upload records (a profile or an event for one of its 5,000 users)."""
    return [orjson.loads(upload_body(i))["d"][0] for i in range(start, start + count)]


def run(people: People, tree: dict[str, Any], batch: list[dict[str, Any]]) -> tuple[float, float, float]:
    """CPU seconds of (all writes, all estimates right after one, as many estimates without a write)."""
    service = people.service
    clock = time.process_time
    writes = after = 0.0
    for record in batch:
        t0 = clock()
        people.apply(record, TENANT)
        t1 = clock()
        service.estimate(tree, tenant=TENANT, channel="push", platforms=PLATFORMS)
        t2 = clock()
        writes += t1 - t0
        after += t2 - t1
    t0 = clock()
    for _ in batch:
        service.estimate(tree, tenant=TENANT, channel="push", platforms=PLATFORMS)
    return writes, after, clock() - t0


def measure(size: int, rounds: int, profile: str | None) -> None:
    service = AudienceService.load(clock=Clock(), size=size, seed=1)
    gc.freeze()  # as ``serve`` does once the population is loaded
    people = People()
    people.attach(service)
    tree = translate(orjson.loads(ESTIMATE)["where"])
    run(people, tree, records(1500, 0))  # warm up: the base's columns and counts, an overlay of 1,500 writes
    batch = records(rounds, 1500)
    if profile:
        profiler = cProfile.Profile()
        profiler.enable()
        run(people, tree, batch)
        profiler.disable()
        pstats.Stats(profiler).sort_stats(profile).print_stats(25)
        return
    writes, after, alone = run(people, tree, batch)
    per = 1e6 / rounds
    print(f"{size:>9}{writes * per:>10.1f}{after * per:>16.1f}{alone * per:>18.1f}"
          f"{(after - alone) * per:>10.1f}  ({len(service._overlay(TENANT).profiles)} profiles written)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="10000,100000")
    parser.add_argument("--rounds", type=int, default=3000)
    parser.add_argument("--profile", nargs="?", const="tottime", choices=("tottime", "cumulative"))
    args = parser.parse_args()
    print(f"CPU µs per operation, {args.rounds} rounds; tree: {translate(orjson.loads(ESTIMATE)['where'])}")
    print(f"{'users':>9}{'write':>10}{'estimate after':>16}{'estimate alone':>18}{'penalty':>10}")
    for size in (int(s) for s in args.sizes.split(",")):
        measure(size, args.rounds, args.profile)


if __name__ == "__main__":
    main()
