"""The GPU check: the default (27M) HRM's training step on CUDA, and CPU against GPU logits.

1. Training step (one ACT segment: forward, loss, backward, both optimiser steps, as the trainer
   runs it) at batch 768 under bf16 autocast, eager and with ``torch.compile`` on the H and L
   modules (as ``compile: true`` does): examples/s and peak GPU memory of each.
2. The same weights on CPU and on the GPU in fp32 (TF32 off), every segment of an evaluation
   batch: the largest logit difference and how often the argmax agrees.

Without a CUDA device it says so and exits with status 2; nothing is measured.

    python benchmarks/gpu_check.py [--batch 768] [--steps 10] [--task sudoku|arc] [--no-compile]
"""

from __future__ import annotations

import argparse
import contextlib
import copy
import gc
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from arcdata.hrm.act import HRM  # noqa: E402
from arcdata.hrm.config import from_dict  # noqa: E402
from arcdata.hrm.evaluate import run_segments  # noqa: E402
from arcdata.hrm.train import build_optimizers, train_segment  # noqa: E402

# Dataset shapes: Sudoku-Extreme (the reference trains it at global batch 768) and ARC.
TASKS = {
    "sudoku": dict(vocab_size=11, seq_len=81, num_puzzle_identifiers=1),
    "arc": dict(vocab_size=12, seq_len=900, num_puzzle_identifiers=1000),
}
NO_CUDA = 2


def random_batch(task: str, batch_size: int, seed: int = 0) -> dict[str, torch.Tensor]:
    shape = TASKS[task]
    g = torch.Generator().manual_seed(seed)
    size = (batch_size, shape["seq_len"])
    return {
        "inputs": torch.randint(1, shape["vocab_size"], size, generator=g),
        "labels": torch.randint(2, shape["vocab_size"], size, generator=g),
        "puzzle_identifiers": torch.randint(
            0, shape["num_puzzle_identifiers"], (batch_size,), generator=g
        ).int(),
    }


def training_step(
    task: str, batch_size: int, steps: int, warmup: int, device: torch.device, compiled: bool
) -> tuple[float, int]:
    """(seconds per training step, peak bytes allocated on ``device``)."""
    torch.manual_seed(0)
    cfg = from_dict(dict(model=TASKS[task], global_batch_size=batch_size, lr_warmup_steps=0))
    model = HRM(cfg.model).to(device).train()
    if compiled:
        model.inner.H_level.compile()
        model.inner.L_level.compile()
    optimizer, sparse = build_optimizers(model, cfg)
    batch = {k: v.to(device) for k, v in random_batch(task, batch_size).items()}
    autocast = (
        torch.autocast("cuda", dtype=torch.bfloat16)
        if device.type == "cuda"
        else contextlib.nullcontext()
    )
    generator = torch.Generator(device=device).manual_seed(0)
    carry = model.initial_carry(batch)

    def step(carry):
        carry, _, _ = train_segment(
            model, carry, batch, optimizer, sparse, cfg, generator=generator, autocast=autocast
        )
        return carry

    for _ in range(warmup):  # compiles (both grad modes) and allocator warm-up
        carry = step(carry)
    synchronize(device)
    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats(device)
    start = time.perf_counter()
    for _ in range(steps):
        carry = step(carry)
    synchronize(device)
    seconds = (time.perf_counter() - start) / steps
    peak = torch.cuda.max_memory_allocated(device) if device.type == "cuda" else 0
    return seconds, peak


def compare_logits(task: str, batch_size: int, segments: int, device: torch.device) -> dict:
    """Every segment of one evaluation batch in fp32 on the CPU and on ``device``."""
    torch.manual_seed(0)
    cfg = from_dict(dict(model={**TASKS[task], "halt_max_steps": segments}))
    cpu_model = HRM(cfg.model).eval()
    with torch.no_grad():  # a trained-looking puzzle table, so the puzzle position matters
        cpu_model.inner.puzzle_emb.weights.normal_(0, 1e-2)
    dev_model = copy.deepcopy(cpu_model).to(device)
    batch = random_batch(task, batch_size, seed=1)
    cpu = run_segments(cpu_model, batch).output
    dev = run_segments(dev_model, {k: v.to(device) for k, v in batch.items()}).output
    diff = (cpu.logits - dev.logits.cpu()).abs()
    return {
        "max_abs": float(diff.max()),
        "logit_scale": float(cpu.logits.abs().max()),
        "argmax_agree": float(
            (cpu.logits.argmax(-1) == dev.logits.argmax(-1).cpu()).float().mean()
        ),
        "q_halt_max_abs": float((cpu.q_halt_logits - dev.q_halt_logits.cpu()).abs().max()),
    }


def synchronize(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def main() -> int:
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--task", choices=sorted(TASKS), default="sudoku")
    p.add_argument("--batch", type=int, default=768)
    p.add_argument("--steps", type=int, default=10, help="timed training steps per variant")
    p.add_argument("--warmup", type=int, default=4)
    p.add_argument("--no-compile", action="store_true", help="skip the torch.compile variant")
    p.add_argument("--compare-batch", type=int, default=8)
    p.add_argument("--compare-segments", type=int, default=16)
    p.add_argument(
        "--device", default="cuda", help="cuda (default), or cpu to try the script's code paths"
    )
    args = p.parse_args()

    if args.device == "cuda" and not torch.cuda.is_available():
        print(
            f"gpu_check: no CUDA device (torch {torch.__version__}, built for CUDA "
            f"{torch.version.cuda or 'none'}): nothing measured. Run it on a machine with an "
            "NVIDIA GPU.",
            file=sys.stderr,
        )
        return NO_CUDA
    device = torch.device(args.device)
    name = torch.cuda.get_device_name(device) if device.type == "cuda" else "cpu"
    params = sum(p.numel() for p in HRM(from_dict(dict(model=TASKS[args.task])).model).parameters())
    seq = TASKS[args.task]["seq_len"]
    print(f"{name}; torch {torch.__version__}; HRM {params / 1e6:.1f}M parameters")
    precision = "bf16 autocast" if device.type == "cuda" else "fp32"
    print(
        f"training step, {args.task} (seq {seq} + 1 puzzle position), batch {args.batch}, {precision}"
    )
    for compiled in (False, True)[: 1 if args.no_compile else 2]:
        seconds, peak = training_step(
            args.task, args.batch, args.steps, args.warmup, device, compiled
        )
        gc.collect()  # the variant's model and optimiser state go before the next one
        if device.type == "cuda":
            torch.cuda.empty_cache()
        label = "torch.compile" if compiled else "eager"
        print(
            f"  {label:>13}: {seconds * 1e3:8.1f} ms per step, {args.batch / seconds:9.0f} "
            f"examples/s, peak GPU memory {peak / 2**30:.2f} GiB"
        )

    torch.backends.cuda.matmul.allow_tf32 = False  # fp32 means fp32 for the comparison
    torch.backends.cudnn.allow_tf32 = False
    c = compare_logits(args.task, args.compare_batch, args.compare_segments, device)
    print(
        f"CPU vs {name} logits, fp32, batch {args.compare_batch}, {args.compare_segments} "
        f"segments: max |diff| {c['max_abs']:.2e} (logits up to {c['logit_scale']:.1f}), "
        f"argmax agrees on {c['argmax_agree']:.4%} of tokens, q_halt max |diff| "
        f"{c['q_halt_max_abs']:.2e}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
