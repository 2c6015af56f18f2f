"""Orchestrate a build: collect tasks, plan and write units on Dask, then publish atomically.

Data flows one way: sources -> tasks (collect) -> (workers) plans -> id layout -> (workers)
shards -> manifest. Everything is written into the stage :mod:`arcdata.storage.publish` gives
(a hidden ``.<name>.partial`` folder beside the destination) and published by it only when
complete, so a crash never leaves half a dataset.

Reliability rules this module keeps (tests/reliability checks each one):

* Bad input is found before anything is written: sources are read and validated first.
* An existing dataset is replaced only with ``overwrite``, in one atomic exchange; anything at
  the destination that is not an arcdata dataset is never replaced (storage.publish).
* ``resume`` reuses a unit only when the inputs (config hash, code version, every source file's
  checksum) and the unit's task list are unchanged and every file it names still matches its
  sha256 (builder.staging), so a killed build continues to the bytes a clean build of the
  current inputs writes.
* Unit tasks are submitted with their inputs in the graph and with retries, so a lost worker's
  results are recomputed elsewhere; keys depend only on the inputs and the destination.
* Only one writer touches a given destination at a time (the lock storage.publish holds from
  the first check to the final rename).
"""

from __future__ import annotations

import contextlib
import os
import platform
import shutil
import socket
import sys
import time
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

import arcdata
from arcdata.builder.cluster import dask_client, worker_cpu
from arcdata.builder.collect import ReadResult, SourceReport, read_tasks
from arcdata.builder.idmap import attach as attach_map
from arcdata.builder.manifest import build_manifest
from arcdata.builder.staging import (
    HASH_NAME,
    accept_unit,
    finished_unit,
    identifiers_part,
    inputs_fingerprint,
    key_token,
    prepare_tmp,
    unit_record,
)
from arcdata.builder.units import (
    Unit,
    build_unit,
    count_versions,
    id_bases,
    pack_units,
    plan_unit_kept,
)
from arcdata.config import config_hash
from arcdata.errors import DatasetError
from arcdata.ids import BLANK, BLANK_ID
from arcdata.leakage import check_no_leak, leakage_report
from arcdata.schema import IDENTIFIER_SCHEMA
from arcdata.storage.card import write_card
from arcdata.storage.hashing import file_sha256
from arcdata.storage.manifest import write_json
from arcdata.storage.publish import check_destination, destination, staged
from arcdata.tokens import get_codec

__all__ = ["ReadResult", "SourceReport", "build", "read_tasks"]


def _progress(total: int, desc: str, enabled: bool):
    from arcdata.progress import progress

    return progress(total, desc, "unit", enabled=enabled)


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
    fail_on_leak: bool = False,
) -> dict:
    """Build the dataset described by ``config`` into ``out``; returns the manifest.

    ``fail_on_leak`` refuses, before writing anything, when an evaluation test pair also occurs
    in the train split (see :mod:`arcdata.leakage`); otherwise such pairs are only recorded.
    """
    started = time.time()
    clock = StageClock()
    out = destination(out)
    check_destination(out, overwrite)  # cheap early refusal; checked again under the lock
    if on_error:
        config = {**config, "on_error": on_error}
    config, idmap = attach_map(config)  # a given identifier map (None without one)
    digest = config_hash(config)

    local = not (scheduler or os.environ.get("DASK_SCHEDULER_ADDRESS"))
    with contextlib.ExitStack() as stack:
        if local:
            # A local cluster forks its workers from this process: start it while the process
            # holds only its imports, so the workers do not carry copies of the read tasks.
            client = stack.enter_context(dask_client(workers, None, quiet=not progress))
            clock.mark("cluster")
        # Read and validate everything before touching the disk: under on_error=fail a bad input
        # must leave no trace, not even an empty partial folder.
        read = read_tasks(config, keep=idmap.keep() if idmap else None)
        if idmap is not None:
            idmap.check(read)
        if not read.tasks:
            raise DatasetError("the sources produced no tasks")
        read.leakage = leakage_report(read.tasks, config)
        if fail_on_leak:
            check_no_leak(read.leakage)
        inputs = inputs_fingerprint(digest, arcdata.__version__, read)
        by_id = {t.id: t for t in read.tasks}
        units = pack_units(read.tasks, config["augment"]["versions"], config["shards"]["rows"])
        unit_tasks = [[by_id[i] for i in u.task_ids] for u in units]
        clock.mark("read")

        # Connect to a given scheduler only now, but before touching the disk: an unreachable
        # scheduler must not leave a partial folder behind.
        if not local:
            client = stack.enter_context(dask_client(workers, scheduler, quiet=not progress))
            clock.mark("cluster")
        stage = stack.enter_context(
            staged(out, overwrite=overwrite, fresh=False, keep_on_error=True)
        )
        worker_cpu_start = worker_cpu(client)
        tmp = stage.path
        prepare_tmp(tmp, inputs, resume)
        key = key_token(inputs, tmp)
        n_workers = len(client.scheduler_info().get("workers", {}))
        if idmap is not None and config["ids"] != "task":
            # The map names every version and id: the plans are read from it, not drawn.
            plans, bases = idmap.plan(read.tasks)
            counts = [len(p) for p in plans]
            plan_futs, pos = [], 0
            for ts in unit_tasks:
                plan_futs.append(plans[pos : pos + len(ts)])
                pos += len(ts)
        elif config["ids"] in ("version", "pair"):
            # Dense ids need every task's version count first: a planning stage.
            plan_futs = [
                client.submit(plan_unit_kept, ts, config, key=f"plan-{u.index}-{key}", retries=2)
                for u, ts in zip(units, unit_tasks, strict=True)
            ]
            count_futs = client.map(
                count_versions, plan_futs, retries=2, key=[f"count-{u.index}-{key}" for u in units]
            )
            counts = [c for cs in client.gather(count_futs) for c in cs]
        else:
            # Per-task or no ids do not depend on counts: units plan for themselves.
            plan_futs, counts = [None] * len(units), None
        clock.mark("plan")
        if idmap is not None and config["ids"] == "task":
            bases = idmap.task_ids(read.tasks)
        elif idmap is None:
            bases = id_bases(read.tasks, counts or [1] * len(read.tasks), config["ids"])
        stats, resumed = _run_units(
            client, units, unit_tasks, plan_futs, bases, config, tmp, key, progress
        )
        if counts is None:
            counts = [c for st in stats for c in st["versions"]]
        clock.mark("write")
        ident = idmap.table() if idmap is not None else None
        manifest = _finish(tmp, config, digest, read, units, stats, counts, ident)
        clock.mark("finish")
        cpu_workers = worker_cpu(client) - worker_cpu_start
        build_info = {
            "started": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(started)),
            "seconds": round(time.time() - started, 3),
            "stages": clock.wall,
            "cpu": {"driver": clock.cpu, "workers": round(cpu_workers, 3)},
            "workers": n_workers,
            "scheduler": scheduler or os.environ.get("DASK_SCHEDULER_ADDRESS") or "local",
            "host": socket.gethostname(),
            "python": platform.python_version(),
            "resumed_units": resumed,
        }
        write_json(tmp / "build.json", build_info)
        stage.publish()
    return manifest


class StageClock:
    """Wall and driver CPU seconds per stage, for build.json.

    On a loaded machine wall time says little; CPU per stage shows where the work goes.
    """

    def __init__(self) -> None:
        self._wall, self._cpu = time.perf_counter(), time.process_time()
        self.wall: dict[str, float] = {}
        self.cpu: dict[str, float] = {}

    def mark(self, stage: str) -> None:
        wall, cpu = time.perf_counter(), time.process_time()
        self.wall[stage] = round(wall - self._wall, 3)
        self.cpu[stage] = round(cpu - self._cpu, 3)
        self._wall, self._cpu = wall, cpu


def _run_units(client, units, unit_tasks, plan_futs, bases, config, tmp, key, progress):
    """Submit every unfinished unit; record each one as it lands. Returns (stats, resumed)."""
    from distributed import Future, KilledWorker, as_completed

    offsets, pos = [], 0
    for ts in unit_tasks:
        offsets.append(bases[pos : pos + len(ts)])
        pos += len(ts)
    results: dict[int, dict] = {}
    by_index = {u.index: u for u in units}
    futs = []
    for unit, ts, pf, b in zip(units, unit_tasks, plan_futs, offsets, strict=True):
        done = finished_unit(tmp, unit)
        if done is not None:
            results[unit.index] = done
            continue
        futs.append(
            client.submit(
                build_unit,
                unit,
                None if isinstance(pf, Future) else ts,  # a planned unit carries its tasks
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
        stats = accept_unit(tmp, result, by_index[result["unit"]])
        results[stats["unit"]] = stats
        write_json(unit_record(tmp, stats["unit"]), stats)
        bar.update(1)
        fut.release()
    bar.close()
    return [results[u.index] for u in units], resumed


def _write_identifiers(tmp: Path, units: list[Unit], given: pa.Table | None = None) -> int:
    """Concatenate the units' identifier parts one at a time (memory bounded by one part);
    under an identifier map, write the map's table instead."""
    if given is not None:
        pq.write_table(given, tmp / "identifiers.parquet", compression="zstd")
        return given.num_rows
    blank = pa.Table.from_pylist(
        [{"embedding_id": BLANK_ID, "name": BLANK, "task_id": ""}], schema=IDENTIFIER_SCHEMA
    )
    rows = blank.num_rows
    with pq.ParquetWriter(
        tmp / "identifiers.parquet", IDENTIFIER_SCHEMA, compression="zstd"
    ) as writer:
        writer.write_table(blank)
        for unit in units:
            part = identifiers_part(tmp, unit.index)
            if part.exists():
                table = pq.read_table(part, schema=IDENTIFIER_SCHEMA)
                writer.write_table(table)
                rows += table.num_rows
                del table
    return rows


def _finish(tmp, config, digest, read, units, stats, counts, ident=None) -> dict:
    """Name shards part-NNNNN per split, gather identifiers, write the manifest (in the stage)."""
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
    num_ids = _write_identifiers(tmp, units, ident)
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
    write_card(tmp, manifest)
    return manifest
