"""Examples per second delivered by PuzzleStream, in-process and through DataLoader workers.

Dataset: ARC-AGI-1 with 1000 augmented versions per task (built first if absent: ~1-4 min and
~180 MB). Global batch 768. For each worker count the loader runs ``--batches`` batches of a
shuffled pass (mode ``examples``: random access over all 2.8M training examples, the hardest
case for a loader) and the best of ``--repeats`` runs is reported, steady state (the first
``--skip`` batches, i.e. worker start-up, excluded) and end to end. The HRM sampling mode is
measured too, across epochs, in-process and with persistent workers.

The machine may be shared with other jobs, which makes wall-clock rates noisy. The CPU time of
the main process and of the workers per batch is measured as well, and "2-core cap" is the rate
that CPU work allows on two otherwise idle cores; "fastest 10%" is the rate over the fastest
tenth of the intervals between batches, what the loader does when the scheduler lets it run.

Where a batch's time goes is printed first, in CPU milliseconds per batch of the main process
(in-process iteration, ``time.process_time`` over many batches: wall time means little on a
shared machine): ``fields`` (one gather of the rows' 16-byte field records: ids, task, version,
pair), ``decode`` (the token rows, inputs and labels, gathered from the memory-mapped cache:
the grids were decoded and encoded once, when the cache was written, so this is one row gather
per array), ``copy`` (the widening copy a token type wider than one byte needs), ``collate``
(the tensors around the arrays, in a reused slot) and, with workers, ``transfer`` (the main
process's share per batch: receiving and mapping a worker's batch). ``make_batch`` is the whole
step timed on its own, the figure the examples/s of CPU are computed from.

Reference point (hrm-reference.md section 5): the reference loader reads 170-220k examples/s in
one process on a 2-core machine. Target here: >= 1M examples/s in one process, int8 tokens.

    python benchmarks/stream.py                      # uses /tmp/ds1000, builds it if absent
    python benchmarks/stream.py --data DIR --workers 0 1 2 --batches 1500
    python benchmarks/stream.py --token-dtype int32  # the reference's token type
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import time
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

BATCH = 768


def ensure_dataset(path: Path, versions: int, workers: int) -> None:
    """Build ARC-AGI-1 x versions into ``path`` unless a manifest is already there."""
    if (path / "manifest.json").exists():
        return
    from arcdata.builder.driver import build
    from arcdata.config import load_pipeline

    print(f"building ARC-AGI-1 x {versions} into {path} ...", flush=True)
    config = load_pipeline(REPO / "pipelines" / "arc-agi-1.yaml", [f"augment.versions={versions}"])
    started = time.perf_counter()
    build(config, path, workers=workers, overwrite=True, progress=False)
    print(f"  built in {time.perf_counter() - started:.0f} s", flush=True)


@dataclass
class Run:
    """One timed iteration: examples/s (steady, end to end) and CPU ms per batch by process."""

    steady: float
    total: float
    main_ms: float
    worker_ms: float
    batches: int
    fastest: float  # examples/s over the fastest tenth of the steady batch intervals

    def capacity(self, workers: int, cores: int) -> float:
        """Examples/s the measured CPU work allows on ``cores`` otherwise idle cores: the
        figure to compare when other jobs share the machine."""
        per_batch = self.main_ms + self.worker_ms
        bounds = [per_batch / min(cores, workers + 1), self.main_ms]
        if workers:
            bounds.append(self.worker_ms / workers)
        return BATCH * 1000 / max(bounds)


def _children_cpu() -> float:
    u = resource.getrusage(resource.RUSAGE_CHILDREN)
    return u.ru_utime + u.ru_stime


def run_loader(stream, workers: int, batches: int, skip: int) -> Run:
    """Time ``batches`` batches of one iteration (workers are shut down before returning)."""
    from torch.utils.data import DataLoader

    stream.set_epoch(0)
    loader = DataLoader(stream, batch_size=None, num_workers=workers) if workers else stream
    cpu_main, cpu_children = time.process_time(), _children_cpu()
    started = time.perf_counter()
    steady_from = started
    examples = steady = 0
    stamps = []
    it = iter(loader)
    for i, batch in enumerate(it):
        n = batch["inputs"].shape[0]
        examples += n
        if i == skip:
            steady_from = time.perf_counter()
        elif i > skip:
            steady += n
        if i >= skip:
            stamps.append(time.perf_counter())
        if i + 1 >= batches:
            break
    end = time.perf_counter()
    del it, batch  # joins the workers, so their CPU time is counted
    n = i + 1
    main_ms = (time.process_time() - cpu_main) * 1000 / n
    worker_ms = (_children_cpu() - cpu_children) * 1000 / n
    gaps = sorted(b - a for a, b in zip(stamps, stamps[1:], strict=False))
    fast = gaps[: max(len(gaps) // 10, 1)] if gaps else [float("inf")]
    fastest = BATCH * len(fast) / sum(fast)
    return Run(
        steady / (end - steady_from), examples / (end - started), main_ms, worker_ms, n, fastest
    )


def breakdown(stream, batches: int) -> dict[str, float]:
    """CPU ms per batch of each stage of ``make_batch``, over ``batches`` distinct batches, then
    ``make_batch`` itself over the same batches."""
    import numpy as np
    import torch

    from arcdata.stream import transport

    plan = stream.plan(0)
    n, length = stream.local_batch_size, stream.seq_len
    wide = stream.token_dtype.itemsize > 1
    inputs = np.empty((n, length), np.int8)
    labels = np.empty_like(inputs)
    widened = np.empty((2, n, length), stream.token_dtype)
    spent = dict.fromkeys(("fields", "decode", "copy", "collate"), 0.0)
    count = min(batches, plan.num_batches)
    for b in range(count):
        rows = plan.rank_slice(b, stream.rank, stream.world_size)
        real = None if rows.min() >= 0 else rows >= 0
        t0 = time.process_time()
        small = stream.gather_fields(rows, real)
        t1 = time.process_time()
        stream.gather_tokens(rows, real, inputs, labels)
        t2 = time.process_time()
        if wide:
            np.copyto(widened[0], inputs)
            np.copyto(widened[1], labels)
        t3 = time.process_time()
        slot = stream._slot(n)
        if slot is not None:
            views = {
                "inputs": slot.view(0, (n, length), stream.token_dtype),
                "labels": slot.view(
                    n * length * stream.token_dtype.itemsize, (n, length), stream.token_dtype
                ),
            }
            batch = transport.publish(slot, views, small, local=True)
        else:
            batch = {k: torch.from_numpy(v) for k, v in {"inputs": inputs, **small}.items()}
        del batch
        t4 = time.process_time()
        for key, spent_s in zip(spent, (t1 - t0, t2 - t1, t3 - t2, t4 - t3), strict=True):
            spent[key] += spent_s
    out = {k: v * 1000 / count for k, v in spent.items()}
    t0 = time.process_time()
    for b in range(count):
        batch = stream.make_batch(plan.rank_slice(b, stream.rank, stream.world_size))
        del batch
    out["make_batch"] = (time.process_time() - t0) * 1000 / count
    return out


def run_hrm(stream, workers: int, epochs: int) -> tuple[float, float]:
    """Examples/s (wall) and main-process CPU ms per batch over whole HRM-mode epochs (a few
    batches each, the epoch's plan included), persistent workers."""
    from torch.utils.data import DataLoader

    loader = stream
    if workers:
        loader = DataLoader(stream, batch_size=None, num_workers=workers, persistent_workers=True)
        stream.set_epoch(0)
        for _ in loader:  # start the workers
            pass
    examples = batches = 0
    started, cpu = time.perf_counter(), time.process_time()
    for epoch in range(1, epochs + 1):
        stream.set_epoch(epoch)
        for batch in loader:
            examples += batch["inputs"].shape[0]
            batches += 1
    del batch
    cpu_ms = (time.process_time() - cpu) * 1000 / max(batches, 1)
    return examples / (time.perf_counter() - started), cpu_ms


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=Path("/tmp/ds1000"))
    parser.add_argument("--versions", type=int, default=1000)
    parser.add_argument("--workers", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--batches", type=int, default=1200)
    parser.add_argument("--skip", type=int, default=50)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--hrm-epochs", type=int, default=100)
    parser.add_argument("--cache-dir", type=Path, default=None)
    parser.add_argument("--token-dtype", default="int8", help="int8 (default), int32, int64")
    args = parser.parse_args()

    ensure_dataset(args.data, args.versions, workers=os.cpu_count() or 1)
    from arcdata.stream import PuzzleStream

    started = time.perf_counter()
    options = {"cache_dir": args.cache_dir, "token_dtype": args.token_dtype}
    stream = PuzzleStream(args.data, "train", batch_size=BATCH, mode="examples", **options)
    print(
        f"dataset {args.data}: {stream.num_examples:,} train examples, "
        f"{len(stream.task_ids)} tasks; stream opened in {time.perf_counter() - started:.2f} s "
        "(first open decodes Parquet into the memory-mapped cache)"
    )
    print(
        f"global batch {BATCH}, {args.token_dtype} tokens, {args.batches} batches per run, "
        f"best of {args.repeats}"
    )
    breakdown(stream, min(args.batches, 200))  # warm: the first touch of the maps' pages
    stages = breakdown(stream, args.batches)
    total = stages.pop("make_batch")
    print(
        "where a batch's time goes (CPU ms, in-process): "
        + ", ".join(f"{k} {v:.3f}" for k, v in stages.items())
        + f" (sum {sum(stages.values()):.3f}); make_batch {total:.3f} ms = "
        f"{BATCH * 1000 / total:,.0f} examples/s of CPU (load avg {os.getloadavg()[0]:.2f})",
        flush=True,
    )
    cores = os.cpu_count() or 1
    print(
        f"{'mode':9} {'workers':>7} {'steady ex/s':>12} {'end-to-end':>11} "
        f"{'main ms/b':>9} {'worker ms/b':>11} {f'{cores}-core cap':>12} {'fastest 10%':>12}"
        "  load avg"
    )
    for workers in args.workers:
        runs = [run_loader(stream, workers, args.batches, args.skip) for _ in range(args.repeats)]
        best = max(runs, key=lambda r: r.steady)
        cap = max(r.capacity(workers, cores) for r in runs)
        transfer = f"  (transfer: main {best.main_ms:.2f} ms/b)" if workers else ""
        print(
            f"{'examples':9} {workers:>7} {best.steady:>12,.0f} {best.total:>11,.0f} "
            f"{best.main_ms:>9.2f} {best.worker_ms:>11.2f} {cap:>12,.0f} "
            f"{max(r.fastest for r in runs):>12,.0f}  {os.getloadavg()[0]:.2f}{transfer}",
            flush=True,
        )

    hrm = PuzzleStream(args.data, "train", batch_size=BATCH, mode="hrm", **options)
    print(f"hrm mode: {hrm.num_batches()} batches per epoch ({args.hrm_epochs} epochs per run)")
    for workers in args.workers:
        runs = [run_hrm(hrm, workers, args.hrm_epochs) for _ in range(args.repeats)]
        rate, cpu_ms = max(r[0] for r in runs), min(r[1] for r in runs)
        load = os.getloadavg()[0]
        cpu = f"{cpu_ms:>9.2f}" + (
            f" = {BATCH * 1000 / cpu_ms:,.0f} ex/s of CPU" if not workers else ""
        )
        print(f"{'hrm':9} {workers:>7} {rate:>12,.0f} {'':>11} {cpu:<36}{load:.2f}", flush=True)


if __name__ == "__main__":
    main()
