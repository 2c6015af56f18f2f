"""Peak memory of a build, at two dataset sizes: it should follow shard size, not dataset size.

Each build runs ``arcdata build`` as a subprocess (its own process group); a sampler adds up the
RSS of that process and all its descendants (the Dask scheduler lives in the driver, plus
nannies and workers) every ~50 ms and keeps the peak. The sum over-counts pages the processes
share (libraries), which is the same at both sizes, so the ratio is what matters.

    python benchmarks/build_memory.py                      # ARC-AGI-1, 100 vs 1000 versions
    python benchmarks/build_memory.py --versions 10 100 --workers 2 --max-ratio 1.5

Exits 1 when the largest build's peak exceeds ``--max-ratio`` x the smallest build's.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psutil

REPO = Path(__file__).resolve().parents[1]


def tree_rss(root: psutil.Process) -> int:
    """RSS of a process and all its live descendants, in bytes."""
    total = 0
    try:
        procs = [root, *root.children(recursive=True)]
    except psutil.NoSuchProcess:
        return 0
    for p in procs:
        with contextlib.suppress(psutil.NoSuchProcess, psutil.AccessDenied):
            total += p.memory_info().rss
    return total


def measure(
    pipeline: Path, versions: int, workers: int, out: Path, interval: float, extra: list[str]
) -> dict:
    """Build once, sampling the process tree's summed RSS; returns peak MiB and seconds."""
    cmd = [
        sys.executable,
        "-m",
        "arcdata.cli",
        "build",
        str(pipeline),
        "--out",
        str(out),
        "--set",
        f"augment.versions={versions}",
        "--workers",
        str(workers),
        "--quiet",
        "--overwrite",
        *extra,
    ]
    started = time.perf_counter()
    proc = subprocess.Popen(
        cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True
    )
    peak = 0
    try:
        root = psutil.Process(proc.pid)
        while proc.poll() is None:
            peak = max(peak, tree_rss(root))
            time.sleep(interval)
        err = proc.stderr.read().decode(errors="replace")
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    if proc.returncode:
        raise SystemExit(f"build failed (exit {proc.returncode}):\n{err[-4000:]}")
    seconds = time.perf_counter() - started
    manifest = json.loads((out / "manifest.json").read_text())
    return {
        "versions": versions,
        "peak_mib": peak / 2**20,
        "seconds": seconds,
        "examples": manifest["totals"]["examples"],
        "shards": sum(len(s["shards"]) for s in manifest["splits"].values()),
    }


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--pipeline", type=Path, default=REPO / "pipelines" / "arc-agi-1.yaml")
    ap.add_argument("--versions", type=int, nargs="+", default=[100, 1000])
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--interval", type=float, default=0.05, help="sampling period (s)")
    ap.add_argument("--max-ratio", type=float, default=1.5)
    ap.add_argument(
        "--set",
        dest="extra",
        action="append",
        default=[],
        help="extra pipeline override, e.g. shards.rows=65536",
    )
    args = ap.parse_args()

    extra = [a for kv in args.extra for a in ("--set", kv)]
    scratch = Path(tempfile.mkdtemp(prefix="arcdata-mem-"))
    results = []
    try:
        for v in args.versions:
            r = measure(args.pipeline, v, args.workers, scratch / f"v{v}", args.interval, extra)
            results.append(r)
            print(
                f"versions {v:>5}: peak {r['peak_mib']:8.1f} MiB (sum of RSS, driver + "
                f"workers)  {r['examples']:>10,} examples  {r['shards']:>3} shards  "
                f"{r['seconds']:7.1f} s",
                flush=True,
            )
            shutil.rmtree(scratch / f"v{v}", ignore_errors=True)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    ratio = results[-1]["peak_mib"] / results[0]["peak_mib"]
    size = results[-1]["examples"] / results[0]["examples"]
    print(
        f"ratio {ratio:.2f} (peak at {args.versions[-1]} / peak at {args.versions[0]}) for "
        f"{size:.1f}x the examples; limit {args.max_ratio}"
    )
    return 0 if ratio <= args.max_ratio else 1


if __name__ == "__main__":
    sys.exit(main())
