"""Export a built dataset to the reference npy layout, import it back, export again.

Prints wall time and peak memory (RSS summed over the process tree, see ``measure.py``) of the
export and of the import, each run as its own ``arcdata`` command, and checks that the second
export is byte-identical to the first. Targets for ARC-AGI-1 x 1000 (issue 14): export <= 8 s,
import <= 20 s, each <= 1 GB peak.

Load on a shared machine inflates wall times; the CPU seconds (all processes) are printed too.

    python -m arcdata.cli build pipelines/arc-agi-1.yaml --out /tmp/formats-arc1
    python benchmarks/export_import.py /tmp/formats-arc1 [--work /tmp/arcdata-bench-npy]
"""

from __future__ import annotations

import argparse
import filecmp
import os
import resource
import shutil
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from measure import folder_bytes, run_measured  # noqa: E402

TARGET_EXPORT_S, TARGET_IMPORT_S, TARGET_PEAK_GB = 8.0, 20.0, 1.0


def arcdata(*args: str) -> list[str]:
    return [sys.executable, "-m", "arcdata.cli", *args]


def same_files(a: Path, b: Path) -> bool:
    """Every file under a and b has the same relative path and the same bytes."""
    files_a = sorted(p.relative_to(a) for p in a.rglob("*") if p.is_file())
    files_b = sorted(p.relative_to(b) for p in b.rglob("*") if p.is_file())
    return files_a == files_b and all(
        filecmp.cmp(a / rel, b / rel, shallow=False) for rel in files_a
    )


def measured(cmd: list[str]) -> tuple[float, int, float]:
    """(wall s, peak RSS bytes, CPU s): CPU time is the figure a shared machine disturbs least."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    wall, peak = run_measured(cmd)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, peak, cpu


def report(job: str, figures: tuple[float, int, float], target_s: float) -> None:
    wall, peak, cpu = figures
    print(
        f"  {job:<7} {wall:7.2f} s wall (target <= {target_s:.0f} s), {cpu:6.2f} s CPU   "
        f"peak {peak / 1e9:5.2f} GB (target <= {TARGET_PEAK_GB:.0f} GB)"
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("dataset", type=Path, help="a built dataset folder")
    ap.add_argument("--work", type=Path, default=Path("/tmp/arcdata-bench-npy"))
    args = ap.parse_args()
    work = args.work
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    npy_a, imported, npy_b = work / "npy-a", work / "imported", work / "npy-b"
    exported = measured(arcdata("export", str(args.dataset), "--out", str(npy_a)))
    imported_figures = measured(arcdata("import", str(npy_a), "--out", str(imported)))
    again = measured(arcdata("export", str(imported), "--out", str(npy_b)))
    print(
        f"{args.dataset}: npy {folder_bytes(npy_a) / 1e9:.2f} GB, "
        f"imported Parquet {folder_bytes(imported) / 1e9:.2f} GB"
    )
    report("export", exported, TARGET_EXPORT_S)
    report("import", imported_figures, TARGET_IMPORT_S)
    report("export2", again, TARGET_EXPORT_S)
    print(f"  load average {os.getloadavg()[0]:.1f} (wall figures mean little above ~1)")
    identical = same_files(npy_a, npy_b)
    print(f"  export -> import -> export byte-identical: {identical}")
    shutil.rmtree(work, ignore_errors=True)
    if not identical:
        sys.exit(1)


if __name__ == "__main__":
    main()
