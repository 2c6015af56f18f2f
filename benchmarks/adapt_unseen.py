"""Unseen tasks: held-out exact accuracy with blank ids, after adaptation, and the ceiling.

A task family whose rule cannot be read from one input: each task is its own permutation of
the colours, applied cell by cell to small random grids, so only the puzzle embedding (learnt
from the task's demonstrations) tells the model which permutation to apply. A small HRM trains
on most tasks; the held-out tasks are then scored

* ``blank``: with id 0 (what a model that never saw them has to go on),
* ``adapted``: after their fresh rows were fitted on their 3-5 demonstrations with the network
  frozen (the mechanics of ``arcdata adapt``: ``train`` with ``freeze: network`` and fresh rows),
* ``ceiling``: when their demonstrations were in the training set from the start.

Run: ``python benchmarks/adapt_unseen.py --threads 1`` (CPU; prints CPU seconds, not wall).
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

from arcdata.hrm.config import from_dict
from arcdata.hrm.data import ArraySource
from arcdata.hrm.evaluate import evaluate
from arcdata.hrm.init import InitPlan
from arcdata.hrm.source import Source
from arcdata.hrm.train import train

COLOURS = 5  # tokens 2..6; token 1 unused, 0 PAD
CELLS = 9  # 3x3 grids, flattened
VOCAB = 2 + COLOURS


def family(seed: int, tasks: int, train_pairs: int):
    """Per task: its permutation, ``train_pairs`` pairs for seen tasks, 3-5 demos, 2 tests."""
    rng = np.random.default_rng(seed)
    perms = [rng.permutation(COLOURS) for _ in range(tasks)]

    def pairs(task: int, n: int):
        x = rng.integers(0, COLOURS, size=(n, CELLS))
        return x + 2, perms[task][x] + 2

    return rng, pairs


def arrays(parts):
    xs, ys, ids = zip(*parts, strict=True)
    return np.concatenate(xs), np.concatenate(ys), np.concatenate(ids).astype(np.int32)


def config(steps: int, **extra):
    model = dict(
        hidden_size=64, num_heads=4, expansion=2.0, h_layers=1, l_layers=1, h_cycles=1,
        l_cycles=2, puzzle_emb_ndim=64, halt_max_steps=2,
    )  # fmt: skip
    base = dict(
        model=model, global_batch_size=32, max_steps=steps, lr=2e-3, lr_warmup_steps=20,
        puzzle_emb_lr=1e-2, weight_decay=0.1, puzzle_emb_weight_decay=0.1, eval_interval=-1,
        checkpoint_interval=0, log_interval=max(1, steps), progress=False, tensorboard=False,
        loss_type="softmax", seed=0,
    )  # fmt: skip
    base.update(extra)
    return from_dict(base)


def exact(model, data: ArraySource, split: str) -> float:
    stream = data(split, batch_size=64, mode="eval", seed=0)
    return float(
        evaluate(model, stream, torch.device("cpu"), loss_type="softmax")["exact_accuracy"]
    )


def one_seed(seed: int, tasks: int, held: int, steps: int, adapt_steps: int, out: Path) -> dict:
    _, pairs = family(seed, tasks, 0)
    seen, unseen = range(held, tasks), range(held)
    ids = lambda t, n: np.full(n, t + 1)  # noqa: E731  (task t has embedding id t + 1)
    train_parts = [(*pairs(t, 24), ids(t, 24)) for t in seen]
    demo_n = {t: 3 + t % 3 for t in unseen}
    demos = [(*pairs(t, demo_n[t]), ids(t, demo_n[t])) for t in unseen]
    tests = [(*pairs(t, 2), ids(t, 2)) for t in unseen]
    test_x, test_y, test_ids = arrays(tests)
    n_ids = tasks + 1
    splits = {
        "train": arrays(train_parts),
        "ceiling": arrays(train_parts + demos),
        "demos": arrays(demos),
        "test": (test_x, test_y, test_ids),
        "blank": (test_x, test_y, np.zeros_like(test_ids)),
    }
    data = ArraySource(splits, VOCAB, n_ids)
    base = data  # "train" split: seen tasks only

    def on(split):
        return lambda name, **kw: data(split if name == "train" else name, **kw)

    result = train(base, config(steps), out / f"s{seed}-base")
    model = result["model"]
    row = {"blank": exact(model, data, "blank"), "before": exact(model, data, "test")}

    names = ["<blank>"] + [f"task{t}" for t in range(tasks)]
    state = {k: v.clone() for k, v in model.state_dict().items()}
    source = Source(out / "base", "run", model.config, state, names, None)
    plan = InitPlan(source, names, [t + 1 for t in unseen])
    cfg = config(adapt_steps, freeze="network", init="base", lr_warmup_steps=0, puzzle_emb_lr=3e-2)
    cfg = from_dict({"global_batch_size": len(splits["demos"][0])}, cfg)
    adapted = train(on("demos"), cfg, out / f"s{seed}-adapt", init=plan)["model"]
    row["adapted"] = exact(adapted, data, "test")
    ceiling = train(on("ceiling"), config(steps), out / f"s{seed}-ceiling")["model"]
    row["ceiling"] = exact(ceiling, data, "test")
    return row


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--seeds", type=int, default=2)
    p.add_argument("--tasks", type=int, default=40)
    p.add_argument("--held", type=int, default=8)
    p.add_argument("--steps", type=int, default=400)
    p.add_argument("--adapt-steps", type=int, default=100)
    p.add_argument("--threads", type=int, default=1)
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    cpu = time.process_time()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for seed in range(a.seeds):
            rows.append(one_seed(seed, a.tasks, a.held, a.steps, a.adapt_steps, Path(tmp)))
    print(f"held-out exact accuracy, {a.held} of {a.tasks} tasks held out, 2 test pairs each")
    print(f"{'seed':>4} {'blank id':>9} {'own id, unfitted':>17} {'adapted':>8} {'ceiling':>8}")
    for seed, r in enumerate(rows):
        print(f"{seed:>4} {r['blank']:>9.3f} {r['before']:>17.3f} {r['adapted']:>8.3f} "
              f"{r['ceiling']:>8.3f}")  # fmt: skip
    mean = {k: np.mean([r[k] for r in rows]) for k in rows[0]}
    print(f"{'mean':>4} {mean['blank']:>9.3f} {mean['before']:>17.3f} {mean['adapted']:>8.3f} "
          f"{mean['ceiling']:>8.3f}")  # fmt: skip
    print(f"CPU seconds (process_time, all threads): {time.process_time() - cpu:.1f}")


if __name__ == "__main__":
    main()
