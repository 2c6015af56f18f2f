"""Choose each task's versions: which transform every augmented copy gets, deterministically.

The random stream of a task depends only on (seed, task id), never on file order, partitioning
or worker count, so any worker can re-plan any task and get the same answer.

Distinctness is decided without materialising a single augmented grid: two versions (d, p) and
(d', p') of a task have the same content exactly when the colour-canonical forms of d(task) and
d'(task) agree and p, p' send the first-appearance colour sequences to the same colours. The key
(class of canon(d(task)), p[first_colours(d)]) is a few bytes, so 5000 draws cost microseconds.
"""

from __future__ import annotations

import hashlib

import numpy as np

from arcdata.augment import colour, d4
from arcdata.augment.transform import Transform
from arcdata.records import Task


def task_rng(seed: int, task_id: str, stream: int = 0) -> np.random.Generator:
    """A generator for one task's random choices; ``stream`` separates independent uses."""
    digest = hashlib.sha256(task_id.encode("utf-8")).digest()
    words = np.frombuffer(digest[:16], dtype="<u4").tolist()
    return np.random.default_rng(np.random.SeedSequence([seed, stream, *words]))


def task_grids(task: Task) -> list[np.ndarray]:
    """Every grid of a task in a fixed order: for each pair (demos, then tests) input, output."""
    grids = []
    for _, _, pair in task.pairs():
        grids.append(pair.input)
        grids.append(pair.output)
    return grids


def _canonical(values: np.ndarray, shapes: bytes) -> tuple[bytes, np.ndarray]:
    """Colour-canonical form (colours renamed by first appearance) and the appearance order."""
    present, first = np.unique(values, return_index=True)
    order = present[np.argsort(first)]
    rename = np.zeros(256, dtype=np.uint8)
    rename[order] = np.arange(len(order), dtype=np.uint8)
    return shapes + rename[values].tobytes(), order


def plan_dihedral_colour(
    task: Task,
    *,
    versions: int,
    dihedral: list[int],
    permute_colours: bool,
    fixed_colours: list[int],
    seed: int,
    draws_factor: int = 5,
) -> Transform:
    """Up to ``versions`` distinct augmented copies plus the original, in draw order."""
    if versions <= 0 or (not permute_colours and set(dihedral) <= {0}):
        return Transform.identity()
    grids = task_grids(task)
    classes: dict[bytes, int] = {}
    class_of = np.zeros(8, dtype=np.uint8)
    seq_of: dict[int, np.ndarray] = {}
    for t in sorted(set(dihedral) | {0}):
        moved = [d4.apply(g, t) for g in grids]
        shapes = np.array([g.shape for g in moved], dtype=np.uint8).tobytes()
        canon, seq = _canonical(np.concatenate([g.ravel() for g in moved]), shapes)
        class_of[t] = classes.setdefault(canon, len(classes))
        seq_of[t] = seq
    k = len(seq_of[0])

    rng = task_rng(seed, task.id)
    n_draws = versions * draws_factor
    ds = rng.choice(np.asarray(dihedral, dtype=np.int8), size=n_draws)
    maps = (
        colour.random_maps(rng, n_draws, fixed_colours)
        if permute_colours
        else np.tile(colour.IDENTITY, (n_draws, 1))
    )
    seqs = np.stack([seq_of[int(t)] for t in range(8) if t in seq_of])
    seq_row = np.zeros(8, dtype=np.int64)
    seq_row[sorted(seq_of)] = np.arange(len(seq_of))
    keys = np.empty((n_draws + 1, k + 1), dtype=np.uint8)
    keys[0, 0] = class_of[0]
    keys[0, 1:] = seq_of[0]
    keys[1:, 0] = class_of[ds]
    keys[1:, 1:] = np.take_along_axis(maps, seqs[seq_row[ds]].astype(np.int64), axis=1)

    flat = np.ascontiguousarray(keys).view(np.dtype((np.void, k + 1))).ravel()
    _, first = np.unique(flat, return_index=True)
    first = np.sort(first)
    kept = first[first != 0][:versions] - 1  # index 0 is the original, always kept
    dih = np.concatenate([[0], ds[kept]]).astype(np.int8)
    cmaps = np.concatenate([colour.IDENTITY[None, :], maps[kept]]).astype(np.uint8)
    return Transform(dih, cmaps)
