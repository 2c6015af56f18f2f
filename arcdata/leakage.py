"""Which evaluation test pairs a model also sees in training, exactly or up to D4 and colours.

A benchmark score means little when the test answers were trained on: ARC-AGI-2's training set
holds hundreds of ARC-AGI-1 evaluation tasks, and augmentation turns a rotated, recoloured copy
of a test pair into the very pair. So the build compares every evaluation test pair with every
pair of the train split, on the raw (unaugmented) tasks.

Each pair gets a canonical key: for each of the 8 dihedral transforms (applied to input and
output alike), relabel the cells by first appearance (input then output, row-major) with the
pipeline's fixed colours keeping their own value (augmentation never moves them, so a copy that
moves them is not reachable); the key is the least of the 8. Two pairs are related by a D4
transform and a colour permutation fixing the fixed colours exactly when their keys are equal.
Keys are computed for runs of pairs at once (all 8 ids in one gather), so 100k pairs cost well
under a second.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

import numpy as np

from arcdata.augment import d4
from arcdata.builder.rows import split_of_pairs
from arcdata.errors import DatasetError
from arcdata.records import Task

FREE_BASE = 10
"""Non-fixed colours are renamed FREE_BASE, FREE_BASE+1, ... so they never equal a fixed one."""
MAX_MATCHES = 5
"""Training pairs listed per leaked pair in the manifest (the total count is always given)."""


@dataclass(frozen=True)
class PairRef:
    task: str
    role: str
    index: int

    def as_dict(self) -> dict:
        return {"task": self.task, "role": self.role, "pair": self.index}


CHUNK_CELLS = 1 << 16
"""Cells keyed per numpy pass: bounds the (8, cells, 10) first-appearance table to ~20 MB."""


def _chunk_keys(pairs: list, fixed: np.ndarray) -> list[bytes]:
    """Canonical keys of a run of pairs: all 8 dihedral images of every pair in one gather
    (:func:`arcdata.augment.d4.cell_sources`), first appearances in one reduction."""
    grids = [g for p in pairs for g in (p.input, p.output)]
    n = len(pairs)
    shapes = np.array([g.shape for g in grids], dtype=np.int64)  # (2N, 2)
    values = np.concatenate([g.ravel() for g in grids])  # (L,) input then output, per pair
    sizes = shapes[:, 0] * shapes[:, 1]
    pair_sizes = sizes[0::2] + sizes[1::2]
    starts = np.cumsum(pair_sizes) - pair_sizes
    pair_of = np.repeat(np.arange(n), pair_sizes)  # (L,)
    length = values.size
    moved = values[d4.cell_sources(shapes)]  # (8, L): every pair under every D4 id
    at = np.where(
        moved[:, :, None] == np.arange(10, dtype=values.dtype),
        np.arange(length, dtype=np.int32)[:, None],
        np.int32(length + 1),  # absent colours rank after every present one
    )  # (8, L, 10)
    first = np.minimum.reduceat(at, starts, axis=1)  # (8, N, 10)
    first[:, :, fixed] = length + 2  # fixed colours rank after every free one (and keep values)
    rank = np.argsort(np.argsort(first, axis=2, kind="stable"), axis=2)
    names = (FREE_BASE + rank).astype(np.uint8)
    names[:, :, fixed] = fixed.astype(np.uint8)
    named = names[np.arange(8)[:, None], pair_of, moved]  # (8, L) uint8
    swap = np.array([d4.transposes_shape(t) for t in range(8)])[:, None, None]
    moved_shapes = np.where(swap, shapes[None, :, ::-1], shapes[None]).astype(np.uint8)
    pair_shapes = moved_shapes.reshape(8, n, 4)
    keys = []
    for i, (lo, hi) in enumerate(zip(starts.tolist(), (starts + pair_sizes).tolist(), strict=True)):
        keys.append(min(pair_shapes[t, i].tobytes() + named[t, lo:hi].tobytes() for t in range(8)))
    return keys


def _exact_key(pair) -> bytes:
    shapes = np.array([*pair.input.shape, *pair.output.shape], dtype=np.uint8)
    return shapes.tobytes() + pair.input.tobytes() + pair.output.tobytes()


def canonical_keys(pairs: list, fixed_colours: list[int]) -> list[bytes]:
    """One key per (input, output) pair; equal keys mean equal up to D4 and free colours.

    A key is the pair's shapes and relabelled cells under the dihedral id that makes them
    least (bytewise); pairs are keyed in runs of about :data:`CHUNK_CELLS` cells.
    """
    fixed = np.array(sorted(set(fixed_colours)), dtype=np.int64)
    keys: list[bytes] = []
    lo = cells = 0
    for hi, p in enumerate(pairs):
        cells += p.input.size + p.output.size
        if cells >= CHUNK_CELLS:
            keys.extend(_chunk_keys(pairs[lo : hi + 1], fixed))
            lo, cells = hi + 1, 0
    if lo < len(pairs):
        keys.extend(_chunk_keys(pairs[lo:], fixed))
    return keys


def _fixed_colours(config: dict) -> list[int]:
    aug = config.get("augment", {})
    if aug.get("sudoku"):
        return [0]  # the blank; digits are all relabelled by Sudoku augmentation
    return list(aug.get("colours", {}).get("fixed", [0]))


def leakage_report(tasks: list[Task], config: dict) -> dict:
    """The manifest's ``leakage`` record: every evaluation test pair equal to a train-split pair,
    exactly or up to a dihedral transform and a permutation of the free colours."""
    fixed = _fixed_colours(config)
    rule = config.get("split", "hrm")
    train: list[tuple[PairRef, object]] = []
    tests: list[tuple[PairRef, object]] = []
    for task in tasks:
        for (role, index, pair), split in zip(
            task.pairs(), split_of_pairs(task, rule), strict=True
        ):
            ref = PairRef(task.id, role, index)
            if split == "train":
                train.append((ref, pair))
            elif task.evaluation and role == "test":
                tests.append((ref, pair))
    keys = canonical_keys([p for _, p in train] + [p for _, p in tests], fixed)
    by_key: dict[bytes, list[int]] = defaultdict(list)
    for i, key in enumerate(keys[: len(train)]):
        by_key[key].append(i)
    exact = {_exact_key(p) for _, p in train}
    leaked = []
    for (ref, pair), key in zip(tests, keys[len(train) :], strict=True):
        hits = by_key.get(key)
        if not hits:
            continue
        leaked.append(
            {
                "task": ref.task,
                "pair": ref.index,
                "exact": _exact_key(pair) in exact,
                "same_task": all(train[i][0].task == ref.task for i in hits),
                "matches": [train[i][0].as_dict() for i in hits[:MAX_MATCHES]],
                "match_count": len(hits),
            }
        )
    return {
        "compared": "evaluation test pairs against train-split pairs, raw tasks, "
        f"up to D4 and colour permutations fixing {sorted(set(fixed))}",
        "evaluation_test_pairs": len(tests),
        "train_pairs": len(train),
        "leaked": len(leaked),
        "exact": sum(1 for p in leaked if p["exact"]),
        "pairs": leaked,
    }


def describe(report: dict, limit: int = 3) -> str:
    """One line: how many evaluation test pairs leak, and the first few with a training match."""
    n, total = report["leaked"], report["evaluation_test_pairs"]
    if not n:
        return f"leakage: none of {total} evaluation test pairs occurs in the train split"
    shown = []
    for p in report["pairs"][:limit]:
        m = p["matches"][0]
        how = "=" if p["exact"] else "~"
        shown.append(f"{p['task']} test {p['pair']} {how} {m['task']} {m['role']} {m['pair']}")
    more = f", and {n - limit} more" if n > limit else ""
    own = sum(1 for p in report["pairs"] if p["same_task"])
    return (
        f"leakage: {n} of {total} evaluation test pairs occur in the train split "
        f"({report['exact']} exactly, the rest up to D4 and colours; {own} only among their own "
        f"task's demonstrations): {'; '.join(shown)}{more}"
    )


def check_no_leak(report: dict) -> None:
    """Refuse a build whose evaluation answers are trained on (``build --fail-on-leak``)."""
    if report["leaked"]:
        raise DatasetError(
            describe(report) + "; drop the duplicated tasks from a source, or build without "
            "--fail-on-leak to record them in the manifest only"
        )
