"""What verifying a blob on read costs: load a 1 GiB artifact with and without the sha256 check.

Same datastore, same blob, same process, alternating: ``Datastore.load_artifact`` (every byte
hashed on its way into ``pickle.load``, size checked) against a plain ``pickle.load`` of the same
file (what loading did before verification). Medians of ``--rounds`` runs; the page cache is warm
for both (the first, cold read is discarded). Not a test: run it by hand.

    .venv/bin/python benchmarks/verify_bench.py [--gib 1] [--rounds 3] [--dir /tmp]
"""

from __future__ import annotations

import argparse
import os
import pickle
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "runtime"))

from sfncompile_runtime.datastore import Datastore, blob_key  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--gib", type=float, default=1.0)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--dir", default=tempfile.gettempdir())
    args = parser.parse_args()
    os.environ["SFNCOMPILE_COMPRESSION"] = "never"  # random bytes never compress anyway
    with tempfile.TemporaryDirectory(dir=args.dir) as root:
        store = Datastore(root, "BenchFlow")
        value = os.urandom(int(args.gib * (1 << 30)))
        started = time.perf_counter()
        ref = store.put_artifact(value)
        stored = time.perf_counter() - started
        del value
        path = store.storage.path(blob_key("BenchFlow", ref["sha"]))

        def plain():
            with open(path, "rb") as src:
                return pickle.load(src)

        def verified():
            return Datastore(root, "BenchFlow").load_artifact(ref, "big")

        plain()  # warm the page cache
        times = {"plain pickle.load": [], "verified load_artifact": []}
        for _ in range(args.rounds):
            for name, load in (("plain pickle.load", plain), ("verified load_artifact", verified)):
                started = time.perf_counter()
                loaded = load()
                times[name].append(time.perf_counter() - started)
                assert len(loaded) == ref["size"] - 14 or len(loaded) > 0
                del loaded
        size = ref["size"] / (1 << 30)
        print(f"artifact: {size:.2f} GiB pickle, stored in {stored:.2f}s")
        for name, samples in times.items():
            median = statistics.median(samples)
            print(f"{name:<24} median {median:6.2f}s  ({size / median:5.2f} GiB/s)  runs: "
                  + ", ".join(f"{s:.2f}" for s in samples))
        plain_median = statistics.median(times["plain pickle.load"])
        verified_median = statistics.median(times["verified load_artifact"])
        print(f"verification costs {verified_median - plain_median:+.2f}s "
              f"({(verified_median / plain_median - 1) * 100:+.0f}%) per GiB-scale load")


if __name__ == "__main__":
    main()
