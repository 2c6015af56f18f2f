"""Evaluated examples per second of the default (27M) HRM on CPU, on Sudoku-shaped batches.

Times :func:`arcdata.hrm.evaluate.evaluate` (every segment of every batch, then the metrics) on
in-memory batches, so only the model's evaluation forward is measured, not the loader. The
default model runs 16 segments per example; fewer (``--segments``) keep the run short on a small
machine, and the figure scales as 1/segments (each segment is the same work).

    python benchmarks/evaluate_speed.py [--batch 32] [--segments 2] [--batches 1] [--threads N]
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from arcdata.hrm.act import HRM  # noqa: E402
from arcdata.hrm.evaluate import evaluate  # noqa: E402
from arcdata.hrm.model import HRMConfig  # noqa: E402


def sudoku_batches(n: int, batch_size: int) -> list[dict]:
    g = torch.Generator().manual_seed(0)
    return [
        {
            "inputs": torch.randint(1, 11, (batch_size, 81), generator=g),
            "labels": torch.randint(2, 11, (batch_size, 81), generator=g),
            "puzzle_identifiers": torch.zeros(batch_size, dtype=torch.int32),
            "count": batch_size,
        }
        for _ in range(n)
    ]


def main() -> None:
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--batch", type=int, default=32)
    p.add_argument("--segments", type=int, default=2, help="halt_max_steps (the default is 16)")
    p.add_argument("--batches", type=int, default=1)
    p.add_argument("--threads", type=int, default=torch.get_num_threads())
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    config = HRMConfig(vocab_size=11, seq_len=81, num_puzzle_identifiers=1)
    config.halt_max_steps = args.segments
    model = HRM(config)
    params = sum(p.numel() for p in model.parameters())
    device = torch.device("cpu")
    evaluate(model, sudoku_batches(1, 2), device)  # warm-up: first-call allocations, kernels

    batches = sudoku_batches(args.batches, args.batch)
    start, cpu_start = time.perf_counter(), time.process_time()
    result = evaluate(model, batches, device)
    seconds, cpu_seconds = time.perf_counter() - start, time.process_time() - cpu_start
    examples = int(result["count"])
    rate = examples / seconds
    print(
        f"HRM {params / 1e6:.1f}M parameters, Sudoku seq 81 (+1 puzzle position), batch "
        f"{args.batch}, {args.segments} segments, {args.threads} CPU threads"
    )
    print(
        f"evaluate: {examples} examples in {seconds:.2f} s = {rate:.2f} examples/s "
        f"({rate * args.segments / 16:.3f} examples/s at the default 16 segments)"
    )
    # On a shared machine wall time depends on the neighbours; CPU time much less so.
    print(
        f"CPU time: {cpu_seconds:.2f} s = {examples / cpu_seconds:.2f} examples per CPU second; "
        f"load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores"
    )


if __name__ == "__main__":
    main()
