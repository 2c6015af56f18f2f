"""Seconds per training segment of the default (27M) HRM on Sudoku-shaped batches.

A segment is what one trainer step does: the ACT forward (H_cycles x L_cycles recurrence plus the
no-grad forward for the Q target), the loss, backward through the last L and H update, and both
optimiser steps. Runs on CPU, and on CUDA too when present (bf16 autocast there).

    python benchmarks/train_step.py [--batch 8] [--steps 5] [--threads N] [--cpu-only]
"""

from __future__ import annotations

import argparse
import contextlib
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from arcdata.hrm.act import HRM  # noqa: E402
from arcdata.hrm.config import from_dict  # noqa: E402
from arcdata.hrm.train import build_optimizers, train_segment  # noqa: E402

SUDOKU = dict(vocab_size=11, seq_len=81, num_puzzle_identifiers=1)


def time_segments(device: torch.device, batch_size: int, steps: int, warmup: int) -> float:
    torch.manual_seed(0)
    cfg = from_dict(dict(model=SUDOKU, global_batch_size=batch_size, lr_warmup_steps=0))
    model = HRM(cfg.model).to(device).train()
    optimizer, sparse = build_optimizers(model, cfg)
    g = torch.Generator().manual_seed(0)
    batch = {
        "inputs": torch.randint(1, 11, (batch_size, 81), generator=g),
        "labels": torch.randint(2, 11, (batch_size, 81), generator=g),
        "puzzle_identifiers": torch.zeros(batch_size, dtype=torch.int32),
    }
    batch = {k: v.to(device) for k, v in batch.items()}
    autocast = (
        torch.autocast("cuda", dtype=torch.bfloat16)
        if device.type == "cuda"
        else contextlib.nullcontext()
    )
    carry = model.initial_carry(batch)

    def sync() -> None:
        if device.type == "cuda":
            torch.cuda.synchronize(device)

    for _ in range(warmup):
        carry, _, _ = train_segment(model, carry, batch, optimizer, sparse, cfg, autocast=autocast)
    sync()
    start = time.perf_counter()
    for _ in range(steps):
        carry, _, _ = train_segment(model, carry, batch, optimizer, sparse, cfg, autocast=autocast)
    sync()
    return (time.perf_counter() - start) / steps


def main() -> None:
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--batch", type=int, default=8)
    p.add_argument("--steps", type=int, default=5)
    p.add_argument("--warmup", type=int, default=2)
    p.add_argument("--threads", type=int, default=torch.get_num_threads())
    p.add_argument("--cpu-only", action="store_true")
    args = p.parse_args()
    torch.set_num_threads(args.threads)

    params = sum(p.numel() for p in HRM(from_dict(dict(model=SUDOKU)).model).parameters())
    print(
        f"HRM {params / 1e6:.1f}M parameters, Sudoku seq 81 (+1 puzzle position), batch {args.batch}"
    )
    devices = [torch.device("cpu")]
    if torch.cuda.is_available() and not args.cpu_only:
        devices.append(torch.device("cuda"))
    for device in devices:
        name = (
            f"cpu ({args.threads} threads)"
            if device.type == "cpu"
            else torch.cuda.get_device_name(device)
        )
        seconds = time_segments(device, args.batch, args.steps, args.warmup)
        print(f"{name}: {seconds:.3f} s per segment ({args.batch / seconds:.1f} examples/s)")


if __name__ == "__main__":
    main()
