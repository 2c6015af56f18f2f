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
Keys are computed for all pairs of one shape at once, so 100k pairs cost well under a second.
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


def _relabel(values: np.ndarray, fixed: np.ndarray) -> np.ndarray:
    """[N, L] cells renamed by first appearance per row; colours in ``fixed`` keep their value."""
    n, length = values.shape
    colours = np.arange(10, dtype=np.uint8)
    seen = values[:, :, None] == colours  # [N, L, 10]
    first = np.where(seen.any(axis=1), seen.argmax(axis=1), length + 1)  # [N, 10]
    first[:, fixed] = length + 2  # fixed colours rank after every free one (and keep values)
    rank = np.argsort(np.argsort(first, axis=1, kind="stable"), axis=1)
    names = (FREE_BASE + rank).astype(np.uint8)
    names[:, fixed] = fixed.astype(np.uint8)
    return np.take_along_axis(names, values.astype(np.int64), axis=1)


def _lexicographic_min(best: np.ndarray, other: np.ndarray) -> np.ndarray:
    """Row-wise lexicographic minimum of two [N, K] uint8 arrays."""
    differ = best != other
    at = differ.argmax(axis=1)
    rows = np.arange(len(best))
    smaller = differ.any(axis=1) & (other[rows, at] < best[rows, at])
    return np.where(smaller[:, None], other, best)


def _group_keys(inputs: np.ndarray, outputs: np.ndarray, fixed: np.ndarray) -> list[bytes]:
    """Canonical keys of N pairs that share their input shape and their output shape."""
    n = len(inputs)
    shapes, cells = [], []
    for t in range(8):
        a, b = d4.apply(inputs, t), d4.apply(outputs, t)  # [N, h, w] stacks at once
        shapes.append(np.array([*a.shape[1:], *b.shape[1:]], dtype=np.uint8))
        cells.append(np.concatenate([a.reshape(n, -1), b.reshape(n, -1)], axis=1))
    named = _relabel(np.concatenate(cells), fixed).reshape(8, n, -1)  # one pass for all 8
    best = None
    for t in range(8):
        key = np.concatenate([np.broadcast_to(shapes[t], (n, 4)), named[t]], axis=1)
        best = key if best is None else _lexicographic_min(best, key)
    return [row.tobytes() for row in best]


def _exact_key(pair) -> bytes:
    shapes = np.array([*pair.input.shape, *pair.output.shape], dtype=np.uint8)
    return shapes.tobytes() + pair.input.tobytes() + pair.output.tobytes()


def canonical_keys(pairs: list, fixed_colours: list[int]) -> list[bytes]:
    """One key per (input, output) pair; equal keys mean equal up to D4 and free colours."""
    fixed = np.array(sorted(set(fixed_colours)), dtype=np.int64)
    groups: dict[tuple, list[int]] = defaultdict(list)
    for i, p in enumerate(pairs):
        groups[(p.input.shape, p.output.shape)].append(i)
    keys: list[bytes] = [b""] * len(pairs)
    for members in groups.values():
        inputs = np.stack([pairs[i].input for i in members])
        outputs = np.stack([pairs[i].output for i in members])
        for i, key in zip(members, _group_keys(inputs, outputs, fixed), strict=True):
            keys[i] = key
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
