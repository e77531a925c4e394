"""Audience estimate latency, population build time and cold vs warm start.

    python benchmarks/estimate.py [--sizes 10000,100000,1000000] [--runs 50]

Every size is built with the real generator (Faker pools, then numpy columns drawn from the seed), indexed
as the server does (``FrameIndex``; warmed like the server up to its ``WARM_LIMIT``), and each tree is
estimated ``--runs`` times; RSS is this process's with that population and index. Then the server's start-up
steps with ``--data-dir`` for the largest size: cold (build and save the frame) and warm (map it).
"""

from __future__ import annotations

import argparse
import gc
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from throughput import rss_mb

from sandbox.population.audience import Index, estimate
from sandbox.population.audience.index import FrameIndex
from sandbox.population.audience.service import WARM_LIMIT
from sandbox.population.generator import build_frame, load_profile, parse_timestamp
from sandbox.population.store import frame_dir, load_population

SIMPLE: dict[str, Any] = {"attribute": "Customer Type", "op": "equals", "value": "Gold"}
COMPLEX: dict[str, Any] = {
    "all": [
        {"event": "App Launched", "from": 1756684800, "to": 1767225599,
         "count": {"op": "greater_than_equals", "value": 3}},
        {"event": "Charged", "properties": [{"name": "Amount", "op": "greater_than", "value": 50}]},
        {"attribute": "Customer Type", "op": "equals", "value": ["Gold", "Platinum"]},
        {"not": {"event": "App Uninstalled"}},
        {"reachable": "push"},
    ]
}


def timed(fn: Callable[[], Any]) -> tuple[Any, float]:
    start = time.perf_counter()
    result = fn()
    return result, time.perf_counter() - start


def timed_cpu(fn: Callable[[], Any]) -> tuple[Any, float, float]:
    """(result, wall seconds, CPU seconds): wall time on a shared machine varies a lot between runs."""
    wall, cpu = time.perf_counter(), time.process_time()
    result = fn()
    return result, time.perf_counter() - wall, time.process_time() - cpu


def latency(tree: dict[str, Any], index: Index, runs: int) -> tuple[float, float, float]:
    _, first = timed(lambda: estimate(tree, index, channel="push"))
    samples = sorted(timed(lambda: estimate(tree, index, channel="push"))[1] for _ in range(runs))
    p99 = samples[min(len(samples) - 1, int(len(samples) * 0.99))]
    return first * 1000, statistics.median(samples) * 1000, p99 * 1000


def start(data_dir: Path, profile: dict[str, Any], size: int, ref: int) -> dict[str, Any]:
    """Load (or build and save) the population in ``data_dir``, gc.freeze() as the server does after start-up,
    index it as the server does and answer one estimate; wall and CPU seconds of each step."""
    out: dict[str, Any] = {}
    loaded = timed_cpu(lambda: load_population(profile, size=size, data_dir=data_dir))
    store, info = loaded[0]
    out["population_wall"], out["population_cpu"] = loaded[1:]
    gc.freeze()
    indexed = timed_cpu(lambda: served_index(FrameIndex(store.frame, reference_ts=ref)))
    index: Index = indexed[0]
    out["index_wall"], out["index_cpu"] = indexed[1:]
    out["estimate_wall"], out["estimate_cpu"] = timed_cpu(lambda: estimate(SIMPLE, index, channel="push"))[1:]
    out["built"] = info.built
    out["fingerprint"] = info.fingerprint
    out["total_wall"] = sum(v for k, v in out.items() if k.endswith("_wall"))
    out["total_cpu"] = sum(v for k, v in out.items() if k.endswith("_cpu"))
    gc.unfreeze()
    gc.collect()
    return out


def served_index(index: FrameIndex) -> FrameIndex:
    if index.n <= WARM_LIMIT:
        index.warm()
    return index


def describe(name: str, r: dict[str, Any]) -> str:
    steps = ", ".join(f"{step} {r[step + '_wall']:.2f}/{r[step + '_cpu']:.2f}"
                      for step in ("population", "index", "estimate"))
    return f"  {name}: total {r['total_wall']:.2f} s wall / {r['total_cpu']:.2f} s CPU ({steps})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="10000,100000,1000000")
    parser.add_argument("--runs", type=int, default=50)
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    profile = load_profile()
    ref = parse_timestamp(profile["reference_date"])
    print(f"{'size':>9} {'build s':>8} {'index s':>8} | {'tree':7} {'first ms':>9} "
          f"{'p50 ms':>8} {'p99 ms':>8} {'RSS MB':>7} | estimate")
    for size in sizes:
        frame, build = timed(lambda size=size: build_frame(profile, size=size))
        index, index_s = timed(lambda frame=frame: served_index(FrameIndex(frame, reference_ts=ref)))
        for name, tree in (("simple", SIMPLE), ("complex", COMPLEX)):
            first, p50, p99 = latency(tree, index, args.runs)
            print(f"{size:>9} {build:>8.2f} {index_s:>8.2f} | {name:7} {first:>9.1f} {p50:>8.2f} "
                  f"{p99:>8.2f} {rss_mb(os.getpid()):>7.0f} | {estimate(tree, index, channel='push')}")
        del index, frame
        gc.collect()

    warm_size = max(sizes)
    with tempfile.TemporaryDirectory() as tmp:
        cold = start(Path(tmp), profile, warm_size, ref)
        assert cold["built"]
        mb = sum(f.stat().st_size for f in frame_dir(Path(tmp), cold["fingerprint"]).iterdir()) / 1e6
        warm = start(Path(tmp), profile, warm_size, ref)
        assert not warm["built"]
    print(f"\nstart with {warm_size} profiles, saved frame {mb:.0f} MB (step wall/CPU seconds):")
    print(describe("cold (build + save the frame)", cold))
    print(describe("warm (map the saved frame)", warm))


if __name__ == "__main__":
    main()
