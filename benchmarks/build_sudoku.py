"""Build Sudoku 1000 puzzles x 1000 versions (1,001,000 training puzzles) and compare.

Reference builder on the same 2-core machine: 50 s, 3.6 GB peak, 1.3 GB of int64 npy.
Targets: <= 2.5 s wall and <= 0.6 GB peak memory (summed over processes). Prints wall and CPU
per stage.

The input is a Sudoku-Extreme-layout CSV made (outside the timing) from the first 1000 puzzles
of ../shared/data/sudoku/magictour_top1465.txt, solved by arcdata's solver; the other 465 are
the (unaugmented) test file.

    python benchmarks/build_sudoku.py [--workers 2]
"""

from __future__ import annotations

import argparse
import csv
import json
import shutil
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from measure import folder_bytes, run_measured, stage_lines  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
PUZZLES = REPO.parent / "shared" / "data" / "sudoku" / "magictour_top1465.txt"
REF_SECONDS, REF_PEAK_GB, REF_OUTPUT_GB = 50.0, 3.6, 1.3


def write_csvs(folder: Path) -> tuple[Path, Path]:
    from arcdata.sudoku import board
    from arcdata.sudoku.solver import solve

    lines = [
        s.strip() for s in PUZZLES.read_text().splitlines() if s.strip() and not s.startswith("#")
    ]
    paths = (folder / "train.csv", folder / "test.csv")
    for path, chunk in zip(paths, (lines[:1000], lines[1000:]), strict=True):
        with open(path, "w", newline="") as f:
            w = csv.writer(f)
            w.writerow(["source", "question", "answer", "rating"])
            for q in chunk:
                res = solve(board.parse(q))
                answer = "".join(str(v) for v in res.solutions[0].ravel())
                w.writerow(["magictour", q, answer, res.guesses])
    return paths


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--versions", type=int, default=1000)
    args = ap.parse_args()
    if not PUZZLES.exists():
        sys.exit(f"skipped: {PUZZLES} not found")
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        train, test = write_csvs(tmp)
        out = tmp / "ds"
        cmd = [
            sys.executable,
            "-m",
            "arcdata.cli",
            "build",
            str(REPO / "pipelines" / "sudoku-extreme-1k.yaml"),
            "--out",
            str(out),
            "--quiet",
            "--workers",
            str(args.workers),
            "--set",
            f"sources.train.path={train}",
            "--set",
            f"sources.test.path={test}",
            "--set",
            f"augment.versions={args.versions}",
        ]
        wall, peak = run_measured(cmd)
        m = json.loads((out / "manifest.json").read_text())
        size = folder_bytes(out)
        stages = stage_lines(out)
        shutil.rmtree(out)
    print(f"Sudoku, 1000 puzzles x {args.versions} versions, {args.workers} workers")
    print(f"  train puzzles {m['splits']['train']['rows']:,}, test {m['splits']['test']['rows']:,}")
    print(
        f"  wall   {wall:7.2f} s    reference {REF_SECONDS:.0f} s    x{REF_SECONDS / wall:.1f} faster"
        "   (target <= 2.5 s)"
    )
    print(
        f"  peak   {peak / 1e9:7.2f} GB   reference {REF_PEAK_GB} GB   "
        f"x{REF_PEAK_GB / (peak / 1e9):.1f} less   (target <= 0.6 GB)"
    )
    print(
        f"  output {size / 1e9:7.3f} GB   reference {REF_OUTPUT_GB} GB   "
        f"x{REF_OUTPUT_GB / (size / 1e9):.0f} smaller"
    )
    print(stages)


if __name__ == "__main__":
    main()
