"""Time the Sudoku solver: solve and prove unique every puzzle of a list (one core).

    python benchmarks/sudoku_solver.py [LIST ...] [--limit N]

Defaults to ../shared/data/sudoku/magictour_top1465.txt (target: under 10 s). Prints wall and
CPU time: the dev machines are shared, so CPU time is the figure to compare across runs.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from arcdata.sudoku.board import agrees, is_valid_solution, parse  # noqa: E402
from arcdata.sudoku.solver import solve, tables  # noqa: E402

DEFAULT = ROOT / ".." / "shared" / "data" / "sudoku" / "magictour_top1465.txt"


def load(path: Path) -> list[np.ndarray]:
    lines = path.read_text().splitlines()
    return [parse(line.split()[0]) for line in lines if line.strip() and not line.startswith("#")]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("lists", nargs="*", type=Path, default=[DEFAULT])
    ap.add_argument("--limit", type=int, default=None, help="only the first N puzzles")
    args = ap.parse_args()
    tables(9)  # one-off mask tables, not part of the per-puzzle cost
    for path in args.lists:
        if not path.exists():
            print(f"{path}: not found", file=sys.stderr)
            return 2
        puzzles = load(path)[: args.limit]
        wall, cpu = time.perf_counter(), time.process_time()
        results = [solve(p, limit=2) for p in puzzles]
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        unique = sum(r.unique for r in results)
        correct = sum(
            r.unique and bool(is_valid_solution(r.solutions[0])) and bool(agrees(p, r.solutions[0]))
            for p, r in zip(puzzles, results, strict=True)
        )
        guesses = np.array([r.guesses for r in results])
        print(
            f"{path.name}: {len(puzzles)} puzzles solved and proved unique in {wall:.2f} s wall, "
            f"{cpu:.2f} s CPU ({1e3 * cpu / len(puzzles):.2f} ms/puzzle); "
            f"unique {unique}, checked {correct}; "
            f"guesses mean {guesses.mean():.1f}, median {np.median(guesses):.0f}, "
            f"max {guesses.max()}"
        )
        if correct != len(puzzles):
            return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
