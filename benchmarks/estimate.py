"""Audience estimate latency, population build time and cold vs warm start.

    python benchmarks/estimate.py [--sizes 10000,100000,1000000] [--runs 50]

Sizes up to 100k are built with the real generator (Faker pools + seeded RNG). Larger sizes are
synthetic: the 100k population replicated with fresh identities (events and devices shared by
reference), because a Faker-quality build of 1M users takes minutes and several GB; the index and the
estimate do the same work either way.
"""

from __future__ import annotations

import argparse
import gc
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sandbox.population.audience import Index, estimate
from sandbox.population.generator import generate, load_profile, parse_timestamp
from sandbox.population.store import Store, load_population

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
REAL_LIMIT = 100_000


def rss_mb() -> float:
    """This process's resident memory (the index and the profiles it was built from)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def timed(fn: Callable[[], Any]) -> tuple[Any, float]:
    start = time.perf_counter()
    result = fn()
    return result, time.perf_counter() - start


def timed_cpu(fn: Callable[[], Any]) -> tuple[Any, float, float]:
    """(result, wall seconds, CPU seconds): wall time on a shared machine varies a lot between runs."""
    wall, cpu = time.perf_counter(), time.process_time()
    result = fn()
    return result, time.perf_counter() - wall, time.process_time() - cpu


def synthetic(base: list[dict[str, Any]], size: int) -> list[dict[str, Any]]:
    out = []
    for i in range(size):
        src = base[i % len(base)]
        ident = f"user{i + 1:07d}"
        out.append({**src, "identity": ident, "external_id": ident, "email": f"u{i + 1}@example.com",
                    "objectId": f"__{i:032x}", "internal_id": f"{i:024x}"})
    return out


def latency(tree: dict[str, Any], index: Index, runs: int) -> tuple[float, float, float]:
    _, first = timed(lambda: estimate(tree, index, channel="push"))
    samples = sorted(timed(lambda: estimate(tree, index, channel="push"))[1] for _ in range(runs))
    p99 = samples[min(len(samples) - 1, int(len(samples) * 0.99))]
    return first * 1000, statistics.median(samples) * 1000, p99 * 1000


def start(path: Path, profile: dict[str, Any], size: int, ref: int) -> dict[str, Any]:
    """Open the data-dir file, load (or build) the population, gc.freeze() as the server does after
    start-up, build the index and answer one estimate; wall and CPU seconds of each step."""
    out: dict[str, Any] = {}
    opened = timed_cpu(lambda: Store.file(path))
    store: Store = opened[0]
    out["open_wall"], out["open_cpu"] = opened[1:]
    loaded = timed_cpu(lambda: load_population(store, profile, size=size))
    out["population_wall"], out["population_cpu"] = loaded[1:]
    gc.freeze()
    indexed = timed_cpu(lambda: Index.build(store.profile_list(), reference_ts=ref).warm())
    index: Index = indexed[0]
    out["index_wall"], out["index_cpu"] = indexed[1:]
    out["estimate_wall"], out["estimate_cpu"] = timed_cpu(lambda: estimate(SIMPLE, index, channel="push"))[1:]
    out["built"] = loaded[0].built
    out["total_wall"] = sum(v for k, v in out.items() if k.endswith("_wall"))
    out["total_cpu"] = sum(v for k, v in out.items() if k.endswith("_cpu"))
    gc.unfreeze()
    gc.collect()
    return out


def describe(name: str, r: dict[str, Any]) -> str:
    steps = ", ".join(f"{step} {r[step + '_wall']:.2f}/{r[step + '_cpu']:.2f}"
                      for step in ("open", "population", "index", "estimate"))
    return f"  {name}: total {r['total_wall']:.2f} s wall / {r['total_cpu']:.2f} s CPU ({steps})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="10000,100000,1000000")
    parser.add_argument("--runs", type=int, default=50)
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    profile = load_profile()
    ref = parse_timestamp(profile["reference_date"])
    real: list[dict[str, Any]] = []
    print(f"{'size':>9} {'source':>9} {'build s':>8} {'index s':>8} | {'tree':7} {'first ms':>9} "
          f"{'p50 ms':>8} {'p99 ms':>8} {'RSS MB':>7} | estimate")
    for size in sizes:
        if size <= REAL_LIMIT:
            users, build = timed(lambda size=size: generate(profile, size=size))
            source = "faker"
            if size == max(s for s in sizes if s <= REAL_LIMIT):
                real = users
        else:
            if not real:
                real = generate(profile, size=min(REAL_LIMIT, size))
            users, build = timed(lambda size=size, base=real: synthetic(base, size))
            source = "synthetic"
        index, index_s = timed(lambda users=users: Index.build(users, reference_ts=ref).warm())
        for name, tree in (("simple", SIMPLE), ("complex", COMPLEX)):
            first, p50, p99 = latency(tree, index, args.runs)
            print(f"{size:>9} {source:>9} {build:>8.2f} {index_s:>8.2f} | {name:7} {first:>9.1f} {p50:>8.2f} "
                  f"{p99:>8.2f} {rss_mb():>7.0f} | {estimate(tree, index, channel='push')}")
        del index, users

    warm_size = min(REAL_LIMIT, max(sizes))
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "sandbox.json"
        cold = start(path, profile, warm_size, ref)
        assert cold["built"]
        mb = path.stat().st_size / 1e6
        warm = start(path, profile, warm_size, ref)
        assert not warm["built"]
    print(f"\nstart with {warm_size} profiles, data-dir file {mb:.0f} MB (step wall/CPU seconds):")
    print(describe("cold (Faker build + write file)", cold))
    print(describe("warm (load file, no build)", warm))


if __name__ == "__main__":
    main()
