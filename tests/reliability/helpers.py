"""Tiny datasets and process helpers shared by the reliability tests.

The datasets are generated (seeded random ARC-like tasks), so the tests need no download and
build in seconds; they are packed into many small units so a build can be killed mid-way.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import yaml


@contextlib.contextmanager
def scratch() -> Iterator[Path]:
    """A fresh folder per Hypothesis example (pytest's tmp_path is shared between examples)."""
    path = Path(tempfile.mkdtemp(prefix="arcdata-fuzz-"))
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


EXCLUDED = {"build.json"}
"""build.json holds timestamps and host names; everything else must be byte-identical."""


def random_grid(rng: np.random.Generator, lo: int = 2, hi: int = 10) -> list[list[int]]:
    h, w = rng.integers(lo, hi + 1, size=2)
    return rng.integers(0, 10, size=(h, w)).tolist()


def random_task(rng: np.random.Generator, n_train: int = 3, n_test: int = 1) -> dict:
    pair = lambda: {"input": random_grid(rng), "output": random_grid(rng)}  # noqa: E731
    return {"train": [pair() for _ in range(n_train)], "test": [pair() for _ in range(n_test)]}


def write_arc_dir(folder: Path, n: int, seed: int, prefix: str = "t") -> list[str]:
    """``n`` random valid tasks as ``<prefix>NNN.json`` files; returns their ids."""
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    ids = []
    for i in range(n):
        task_id = f"{prefix}{i:03d}"
        (folder / f"{task_id}.json").write_text(json.dumps(random_task(rng)))
        ids.append(task_id)
    return ids


def write_pipeline(
    path: Path,
    train: Path,
    evaluation: Path,
    *,
    name: str = "tiny",
    versions: int = 3,
    rows: int = 40,
    **extra,
) -> Path:
    """A pipeline over two arc_dir sources (the second an evaluation set)."""
    raw = {
        "name": name,
        "seed": 7,
        "sources": {
            "train": {"type": "arc_dir", "path": str(train)},
            "eval": {"type": "arc_dir", "path": str(evaluation), "evaluation": True},
        },
        "augment": {"versions": versions},
        "shards": {"rows": rows, "row_group": 32},
        **extra,
    }
    path.write_text(yaml.safe_dump(raw, sort_keys=False))
    return path


def tree_digest(root: Path, exclude: set[str] = EXCLUDED) -> dict[str, str]:
    """sha256 of every file under ``root`` (relative path -> digest), build.json excluded."""
    out = {}
    for p in sorted(root.rglob("*")):
        if p.is_file() and p.name not in exclude:
            out[str(p.relative_to(root))] = hashlib.sha256(p.read_bytes()).hexdigest()
    return out


def assert_same_dataset(a: Path, b: Path) -> None:
    """Every shard, manifest.json and identifiers.parquet byte-identical (build.json aside)."""
    da, db = tree_digest(a), tree_digest(b)
    assert sorted(da) == sorted(db), f"different files: {sorted(set(da) ^ set(db))}"
    assert "manifest.json" in da and "identifiers.parquet" in da
    assert any(k.endswith(".parquet") and "/" in k for k in da)
    diff = [k for k in da if da[k] != db[k]]
    assert not diff, f"files differ: {diff}"


def poll(
    condition: Callable[[], object], timeout: float, what: str, interval: float = 0.02
) -> object:
    """Wait until ``condition()`` is truthy (and return it); fail with ``what`` on timeout."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(interval)


def arcdata_cmd(*args: str) -> list[str]:
    return [sys.executable, "-m", "arcdata.cli", *args]


def start_group(cmd: list[str], log: Path, env: dict | None = None) -> subprocess.Popen:
    """Start ``cmd`` as the leader of a new process group, output to ``log``."""
    with open(log, "wb") as f:
        return subprocess.Popen(
            cmd,
            stdout=f,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            env={**os.environ, **(env or {})},
        )


def group_alive(pgid: int) -> bool:
    """Whether any process of group ``pgid`` is still alive (zombies count as dead)."""
    import psutil

    for p in psutil.process_iter(["pid"]):
        try:
            if os.getpgid(p.pid) == pgid and p.status() != psutil.STATUS_ZOMBIE:
                return True
        except (ProcessLookupError, psutil.NoSuchProcess, PermissionError):
            continue
    return False


def kill_group(proc: subprocess.Popen, timeout: float = 60.0) -> None:
    """SIGKILL the whole process group of ``proc`` (dask workers included) and wait for it."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)
    with contextlib.suppress(subprocess.TimeoutExpired):
        proc.wait(timeout=timeout)
    poll(
        lambda: not group_alive(proc.pid), timeout, f"process group {proc.pid} to die", interval=0.1
    )


@contextlib.contextmanager
def process_group(cmd: list[str], log: Path, env: dict | None = None) -> Iterator[subprocess.Popen]:
    """A process group that is always killed on exit, whatever the test did."""
    proc = start_group(cmd, log, env)
    try:
        yield proc
    finally:
        kill_group(proc)


def unit_records(partial: Path) -> list[Path]:
    return sorted((partial / "units").glob("unit-*.json"))
