"""What checking the stream cache costs: decode + seal, first open in a new process, reopen.

Dataset: ARC-AGI-1 with 1000 augmented versions per task (built first if absent, as in
``benchmarks/stream.py``). The train split's cache entry is written into a fresh private folder,
then opened by fresh processes (each checks every file's size and CRC-32 once) and again in the
same process (sizes only). "map only" is the same open without any check, so the difference is
what the check costs. Page cache warm throughout (the entry was just written).

The machine may be shared with other jobs: figures are noisy; the load average is printed.

    python benchmarks/stream_cache.py                 # uses /tmp/ds1000, builds it if absent
    python benchmarks/stream_cache.py --data DIR --repeats 5
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

CHILD = """
import json, sys, time
from arcdata.stream import cache, store
ds = store.Dataset.open(sys.argv[1])
root = cache.private_root(sys.argv[2])
folder = root / cache.entry_name(ds.fingerprint, "train")
t0 = time.perf_counter()
meta = json.loads((folder / cache.META).read_text())
store._load_cache(folder, meta)
mapped = time.perf_counter() - t0
cache._VERIFIED.clear()
t0 = time.perf_counter()
store.open_split(ds, "train", cache_dir=root)
first = time.perf_counter() - t0
t0 = time.perf_counter()
store.open_split(ds, "train", cache_dir=root)
again = time.perf_counter() - t0
print(json.dumps({"mapped": mapped, "first": first, "again": again}))
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=Path("/tmp/ds1000"))
    parser.add_argument("--versions", type=int, default=1000)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()

    from benchmarks.stream import ensure_dataset

    ensure_dataset(args.data, args.versions, workers=2)
    from arcdata.stream import cache, store

    ds = store.Dataset.open(args.data)
    with tempfile.TemporaryDirectory(prefix="arcdata-cache-bench-") as tmp:
        root = Path(tmp) / "cache"
        t0 = time.perf_counter()
        store.open_split(ds, "train", cache_dir=root)
        cold = time.perf_counter() - t0
        folder = root / cache.entry_name(ds.fingerprint, "train")
        names = sorted(json.loads((folder / cache.META).read_text())["files"])
        size = sum((folder / n).stat().st_size for n in names)
        t0 = time.perf_counter()
        cache._crc_all(folder, names)
        crc = time.perf_counter() - t0

        env = {**os.environ, "PYTHONPATH": str(REPO)}
        runs = []
        for _ in range(args.repeats):
            out = subprocess.run(
                [sys.executable, "-c", CHILD, str(args.data), str(root)],
                check=True,
                capture_output=True,
                text=True,
                env=env,
            ).stdout
            runs.append(json.loads(out.splitlines()[-1]))
    best = {k: min(r[k] for r in runs) for k in runs[0]}
    print(f"train split cache entry: {size / 1e6:,.0f} MB in {len(names)} files")
    print(f"  decode + write + seal (cold open):  {cold:6.2f} s")
    print(f"  CRC-32 of every file:                {crc:6.2f} s ({size / crc / 1e9:.2f} GB/s)")
    print(f"  new process, map only (no check):    {best['mapped'] * 1e3:6.0f} ms")
    print(f"  new process, first open (checked):   {best['first'] * 1e3:6.0f} ms")
    print(f"  same process, reopen (sizes only):   {best['again'] * 1e3:6.0f} ms")
    print(f"  best of {args.repeats}; load average {os.getloadavg()[0]:.2f} (shared machine)")


if __name__ == "__main__":
    main()
