"""Time from `campaign-sandbox serve` to a healthy /_sandbox/health, cold and warm.

Run by hand:  python benchmarks/startup.py [--size 100000] [--runs 3]

cold: no --data-dir, the population is generated at startup (Faker pools, then numpy columns).
warm: --data-dir holding a population built earlier (`campaign-sandbox population build`): mapped, not rebuilt.
Each figure includes starting Python and importing the package, as users see it.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from throughput import free_port, rss_mb


def ready_seconds(args: list[str]) -> tuple[float, dict, float]:
    port = free_port()
    started = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-m", "sandbox", "serve", "--port", str(port), *args],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/_sandbox/health", timeout=1) as resp:
                    return time.perf_counter() - started, json.load(resp)["population"], rss_mb(proc.pid)
            except OSError:
                if proc.poll() is not None:
                    raise SystemExit("the server exited") from None
                time.sleep(0.02)
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    size = ["--population-size", str(args.size)]
    with tempfile.TemporaryDirectory() as data_dir:
        subprocess.run([sys.executable, "-m", "sandbox", "population", "build", "--data-dir", data_dir, *size],
                       check=True, capture_output=True)
        files = list(Path(data_dir).glob("population-*/*"))
        print(f"population of {args.size} users; saved frame {sum(f.stat().st_size for f in files) / 1e6:.0f} MB")
        for name, extra in (("cold", []), ("warm", ["--data-dir", data_dir])):
            times, rss = [], []
            for _ in range(args.runs):
                seconds, population, mb = ready_seconds([*size, *extra])
                times.append(seconds)
                rss.append(mb)
            median = sorted(times)[len(times) // 2]
            print(f"{name}: ready in {min(times):.2f} s (best of {args.runs}; median {median:.2f} s), "
                  f"population built={population['built']}, population step {population['load_seconds']} s, "
                  f"RSS when ready {max(rss):.0f} MB")


if __name__ == "__main__":
    main()
