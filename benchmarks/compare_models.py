"""HRM (2 and 3 levels), TRM, TRM-mlp_t and a plain transformer on held-out 4x4 Sudoku.

Same puzzles as ``learn_sudoku4.py`` (minimal puzzles; test grids never seen in training), same
trainer pieces (``train_segment``, the ACT carry, ``evaluate``), and the same training budget
for every model in CPU seconds of this process (``time.process_time``, torch pinned to
``--threads`` threads, 1 by default), so a model's budget does not shrink when other jobs load
the machine; evaluation is not counted. Held-out exact accuracy is recorded against training CPU
seconds and optimiser steps, one PNG with both views, and a Markdown table.

    python benchmarks/compare_models.py [--budget 90] [--seeds 0 1] [--out runs/compare-models]
    python benchmarks/compare_models.py --plot A/runs.json B/runs.json --out runs/compare-models

(the second form redraws the figure and table from runs made separately, e.g. one process per
seed). The learning rate warms up over ``--warmup`` steps, then follows a cosine over the
CPU-time budget, so every model ends its schedule when its budget ends whatever its speed. With
one thread, a quiet machine's wall time per run is about the budget; CPU seconds are also
slower on a loaded machine (shared caches), so the load is printed beside the figures.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from learn_sudoku4 import all_grids, encode, minimal_puzzles  # noqa: E402

from arcdata.hrm.act import HRM  # noqa: E402
from arcdata.hrm.config import from_dict  # noqa: E402
from arcdata.hrm.data import ArraySource, BatchCursor  # noqa: E402
from arcdata.hrm.evaluate import evaluate  # noqa: E402
from arcdata.hrm.train import build_optimizers, train_segment  # noqa: E402

HIDDEN = 64
COMMON = dict(hidden_size=HIDDEN, num_heads=4, expansion=4, puzzle_emb_ndim=HIDDEN)
MODELS = {
    "HRM 2 levels": dict(levels=[[2, 2], [2, 2]], halt_max_steps=8),
    "HRM 3 levels": dict(levels=[[2, 2], [1, 2], [1, 2]], halt_max_steps=8),
    "TRM": dict(kind="trm", l_layers=2, h_cycles=2, l_cycles=3, puzzle_positions=4,
                halt_max_steps=8),
    "TRM mlp_t": dict(kind="trm", mixer="mlp", pos_encodings="none", l_layers=2, h_cycles=2,
                      l_cycles=3, puzzle_positions=4, halt_max_steps=8),
    "Transformer": dict(levels=[[4, 1]], halt_max_steps=1),
}  # fmt: skip


def puzzles(seed: int, n_train: int, n_test: int) -> ArraySource:
    rng = np.random.default_rng(seed)
    grids = all_grids()
    order = rng.permutation(len(grids))
    test_grids, train_grids = order[:48], order[48:]
    train = encode(*minimal_puzzles(grids, train_grids, n_train, rng))
    test = encode(*minimal_puzzles(grids, test_grids, n_test, rng))
    return ArraySource({"train": train, "test": test}, vocab_size=6, num_puzzle_identifiers=1)


def run(name: str, source: ArraySource, seed: int, args: argparse.Namespace) -> dict:
    """Train ``name`` for ``args.budget`` CPU seconds; held-out exact accuracy at each mark."""
    cfg = from_dict(
        dict(
            model=dict(COMMON, **MODELS[name], vocab_size=6, seq_len=16, num_puzzle_identifiers=1),
            global_batch_size=args.batch, lr=args.lr, weight_decay=0.1, puzzle_emb_lr=1e-3,
            puzzle_emb_weight_decay=0.1, seed=seed, device="cpu",
        )
    )  # fmt: skip
    torch.manual_seed(seed)
    model = HRM(cfg.model)
    params = sum(p.numel() for p in model.parameters())
    optimizer, sparse = build_optimizers(model, cfg)
    generator = torch.Generator().manual_seed(seed)
    stream = source("train", batch_size=args.batch, mode="hrm", seed=seed, rank=0, world_size=1)
    test = source("test", batch_size=500, mode="eval", seed=seed, rank=0, world_size=1)
    cursor = BatchCursor(stream)
    marks = [args.budget * (i + 1) / args.evals for i in range(args.evals)]
    curve = [{"seconds": 0.0, "steps": 0, "exact": 0.0}]
    carry, step, trained = None, 0, 0.0
    model.train()
    while marks:
        start = time.process_time()  # CPU of this process: every torch thread, no waiting
        batch = next(cursor)
        if carry is None:
            carry = model.initial_carry(batch)
        warm = min(1.0, (step + 1) / args.warmup)
        scale = warm * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * min(1.0, trained / args.budget))))
        carry, _, _ = train_segment(model, carry, batch, optimizer, sparse, cfg, scale, generator)
        step += 1
        trained += time.process_time() - start
        if trained >= marks[0]:
            marks.pop(0)
            test.set_epoch(0)
            result = evaluate(model, test, torch.device("cpu"), loss_type=cfg.loss_type)
            curve.append({"seconds": trained, "steps": step, "exact": result["exact_accuracy"]})
            print(f"  {name:<13} seed {seed}: {trained:6.1f} CPU s {step:6d} steps "
                  f"exact {result['exact_accuracy']:.4f}", flush=True)  # fmt: skip
    return {"model": name, "seed": seed, "params": params, "curve": curve}


def plot(runs: list[dict], path: Path, budget: float) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(12, 4.5), sharey=True)
    colours = dict(zip(MODELS, plt.rcParams["axes.prop_cycle"].by_key()["color"], strict=False))
    for r in runs:
        c = r["curve"]
        label = r["model"] if r["seed"] == runs[0]["seed"] else None
        style = "-" if r["seed"] == runs[0]["seed"] else "--"
        for ax, key in zip(axes, ("seconds", "steps"), strict=True):
            ax.plot([p[key] for p in c], [p["exact"] for p in c], style, marker="o",
                    markersize=3, color=colours[r["model"]], label=label)  # fmt: skip
    axes[0].set_xlabel(f"training CPU seconds (budget {budget:.0f} s, evaluation excluded)")
    axes[1].set_xlabel("optimiser steps (ACT segments)")
    axes[0].set_ylabel("held-out exact accuracy")
    axes[0].legend(loc="upper left", fontsize=8)
    for ax in axes:
        ax.grid(alpha=0.3)
    seeds = sorted({r["seed"] for r in runs})
    fig.suptitle(f"4x4 Sudoku, held-out grids; seeds {seeds}: solid first, dashed others")
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def table(runs: list[dict]) -> str:
    lines = [
        "| model | parameters | steps in budget | held-out exact (per seed) | mean |",
        "|---|---:|---:|---|---:|",
    ]
    for name in MODELS:
        mine = [r for r in runs if r["model"] == name]
        if not mine:
            continue
        finals = [r["curve"][-1]["exact"] for r in mine]
        steps = "/".join(str(r["curve"][-1]["steps"]) for r in mine)
        lines.append(
            f"| {name} | {mine[0]['params']:,} | {steps} | "
            f"{' / '.join(f'{f:.3f}' for f in finals)} | {np.mean(finals):.3f} |"
        )
    return "\n".join(lines)


def main() -> None:
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument(
        "--budget", type=float, default=90.0, help="training CPU seconds (process time) per run"
    )
    p.add_argument("--seeds", type=int, nargs="+", default=[0, 1])
    p.add_argument("--models", nargs="+", default=list(MODELS), choices=list(MODELS))
    p.add_argument("--evals", type=int, default=6, help="evaluations per run")
    p.add_argument("--batch", type=int, default=128)
    p.add_argument("--lr", type=float, default=3e-3)
    p.add_argument("--train-puzzles", type=int, default=20000)
    p.add_argument("--test-puzzles", type=int, default=500)
    p.add_argument("--warmup", type=int, default=20, help="learning-rate warm-up steps")
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--plot", type=Path, nargs="+", help="runs.json files to draw, no training")
    p.add_argument("--out", type=Path, default=Path("runs/compare-models"))
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    args.out.mkdir(parents=True, exist_ok=True)
    print(f"torch {torch.__version__}, {args.threads} thread(s), load {os.getloadavg()[0]:.1f}")

    if args.plot:
        runs = [r for f in args.plot for r in json.loads(f.read_text())]
        plot(runs, args.out / "compare_models.png", args.budget)
        print(table(runs))
        return
    runs = []
    for seed in args.seeds:  # models interleaved, so a change in machine load hits them alike
        source = puzzles(seed, args.train_puzzles, args.test_puzzles)
        for name in args.models:
            runs.append(run(name, source, seed, args))
            (args.out / "runs.json").write_text(json.dumps(runs, indent=1))
    plot(runs, args.out / "compare_models.png", args.budget)
    print(f"\nload average now {os.getloadavg()[0]:.1f}\n")
    print(table(runs))
    print(f"\nwrote {args.out / 'compare_models.png'} and {args.out / 'runs.json'}")


if __name__ == "__main__":
    main()
