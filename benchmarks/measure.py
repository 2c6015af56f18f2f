"""Wall time and peak memory of a command, counting every process it starts.

A Dask build runs in several processes (driver, scheduler, workers), so the peak of the sum of
their resident set sizes, sampled every 20 ms, is the honest memory figure.
"""

from __future__ import annotations

import contextlib
import subprocess
import time

import psutil


def run_measured(cmd: list[str], interval: float = 0.02) -> tuple[float, int]:
    """Run ``cmd``; return (wall seconds, peak summed RSS in bytes). Raises if it fails."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd)
    root = psutil.Process(proc.pid)
    peak = 0
    while proc.poll() is None:
        total = 0
        try:
            procs = [root, *root.children(recursive=True)]
        except psutil.NoSuchProcess:
            break
        for p in procs:
            with contextlib.suppress(psutil.NoSuchProcess):
                total += p.memory_info().rss
        peak = max(peak, total)
        time.sleep(interval)
    wall = time.perf_counter() - start
    if proc.returncode != 0:
        raise subprocess.CalledProcessError(proc.returncode, cmd)
    return wall, peak


def stage_lines(dataset) -> str:
    """Where a build's time went, from its build.json: wall and CPU seconds per stage.

    On a shared, loaded machine wall time mostly measures the queue for a core; CPU seconds
    (driver per stage, workers in total) are the steadier figure.
    """
    import json
    import os
    from pathlib import Path

    info = json.loads((Path(dataset) / "build.json").read_text())
    wall, cpu = info["stages"], info.get("cpu", {})
    driver = cpu.get("driver", {})
    lines = ["  stage     wall s   driver CPU s"]
    order = ["cluster", "read", "plan", "write", "finish"]
    for stage in sorted(wall, key=lambda k: order.index(k) if k in order else len(order)):
        seconds = wall[stage]
        lines.append(f"  {stage:8s} {seconds:7.2f}   {driver.get(stage, float('nan')):7.2f}")
    total = sum(driver.values()) + cpu.get("workers", 0.0)
    lines.append(
        f"  workers CPU {cpu.get('workers', float('nan')):.2f} s; build CPU {total:.2f} s "
        f"(without imports); load average {os.getloadavg()[0]:.1f}"
    )
    return "\n".join(lines)


def folder_bytes(path) -> int:
    from pathlib import Path

    return sum(p.stat().st_size for p in Path(path).rglob("*") if p.is_file())
