"""Choose each task's versions: which transform every augmented copy gets, deterministically.

The random stream of a task depends only on (seed, task id), never on file order, partitioning
or worker count, so any worker can re-plan any task and get the same answer.

Two versions of a task are the same when their multisets of (input, output) pairs, over all
splits and roles, are equal: a D4 move that only permutes a symmetric task's pairs makes no new
version. This is decided without materialising a single augmented grid: pair i of version
(d, p) equals pair j of version (d', p') exactly when the colour-canonical forms of d(pair i) and
d'(pair j) agree and p, p' send their first-appearance colour sequences to the same colours. So
a version's key is the sorted list of its pairs' (class, p[first colours]) keys, a few int64s,
and 5000 draws cost a millisecond.
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


_DIGITS = 10 ** np.arange(10, dtype=np.int64)


def _pair_classes(task: Task, dihedral: list[int]) -> tuple[np.ndarray, np.ndarray]:
    """For every D4 id t and pair i, what decides equality of d_t(pair i) under colour maps.

    ``class_of`` [8, P] int64: the class of the pair's colour-canonical form (shapes, then the
    cells with colours renamed by first appearance) times 10**10; ``weights`` [8, P, 10]:
    ``10**k`` at colour c when c is the k-th colour to appear in the pair, else 0. So pair i
    under map p is the same as pair j of another version exactly when
    ``class + p @ weights`` agree: the class fixes the pattern (and how many colours appear),
    ``p @ weights`` the colours, one decimal digit each. Every pair under every id at once: one
    gather of :func:`arcdata.augment.d4.cell_sources` and one first-appearance reduction.
    """
    grids = task_grids(task)
    n = len(grids) // 2
    shapes = np.array([g.shape for g in grids], dtype=np.int64)  # (2P, 2)
    values = np.concatenate([g.ravel() for g in grids])  # (L,) every grid, back to back
    sizes = shapes[:, 0] * shapes[:, 1]
    pair_sizes = sizes[0::2] + sizes[1::2]
    starts = np.cumsum(pair_sizes) - pair_sizes
    pair_of = np.repeat(np.arange(n), pair_sizes)  # (L,)
    ids = sorted(set(dihedral) | {0})
    moved = values[d4.cell_sources(shapes, ids)]  # (T, L): the task under each D4 id
    length = values.size
    # first position of colour c in pair i (length where absent), for every id at once
    where = np.where(
        moved[:, :, None] == np.arange(10, dtype=values.dtype), np.arange(length)[:, None], length
    )
    first = np.minimum.reduceat(where, starts, axis=1)  # (T, P, 10)
    rank = np.argsort(np.argsort(first, axis=2, kind="stable"), axis=2)
    weights = np.zeros((8, n, 10), dtype=np.int64)
    weights[ids] = np.where(first < length, _DIGITS[rank], 0)
    renamed = rank[np.arange(len(ids))[:, None], pair_of, moved].astype(np.uint8)  # (T, L)
    swap = np.array([d4.transposes_shape(t) for t in ids])[:, None, None]
    moved_shapes = np.where(swap, shapes[None, :, ::-1], shapes[None])  # (T, 2P, 2)
    pair_shapes = moved_shapes.astype(np.uint8).reshape(len(ids), n, 4)
    classes: dict[bytes, int] = {}
    class_of = np.zeros((8, n), dtype=np.int64)
    bounds = list(zip(starts.tolist(), (starts + pair_sizes).tolist(), strict=True))
    for k, t in enumerate(ids):
        cells = renamed[k]
        for i, (lo, hi) in enumerate(bounds):
            canon = pair_shapes[k, i].tobytes() + cells[lo:hi].tobytes()
            class_of[t, i] = classes.setdefault(canon, len(classes)) * 10**10
    return class_of, weights


def version_keys(
    class_of: np.ndarray, weights: np.ndarray, dihedral: np.ndarray, maps: np.ndarray
) -> np.ndarray:
    """[N, P] int64: row n is the sorted multiset of pair keys of version (dihedral[n], maps[n]).

    A pair's key is exact, not a hash: its canonical form's class, then the colours its
    appearance sequence is sent to as decimal digits (``maps[n] @ weights[t, i]``, below 10**10
    so exact in float64, which lets BLAS do it). Two versions are the same task exactly when
    their rows are equal, whatever their pair order.
    """
    keys = np.empty((len(dihedral), class_of.shape[1]), dtype=np.int64)
    maps = maps.astype(np.float64)
    for t in np.unique(dihedral).tolist():
        rows = np.flatnonzero(dihedral == t)
        colours = maps[rows] @ weights[t].T.astype(np.float64)
        keys[rows] = colours.astype(np.int64) + class_of[t]
    keys.sort(axis=1)
    return keys


_MIX = np.uint64(0x9E3779B97F4A7C15)


def first_of_each(keys: np.ndarray) -> np.ndarray:
    """Indices of the rows of ``keys`` that differ from every earlier row, in order.

    Rows are grouped by a 64-bit mix of their values, then every row is compared with its
    group's first row; only if a mix ever collided does the exact (slower) sort decide.
    """
    mixed = np.zeros(len(keys), dtype=np.uint64)
    for column in keys.T.astype(np.uint64):
        mixed = (mixed ^ column) * _MIX
        mixed ^= mixed >> np.uint64(29)
    _, first, group = np.unique(mixed, return_index=True, return_inverse=True)
    if (keys == keys[first[group.ravel()]]).all():
        return np.sort(first)
    order = np.lexsort(keys.T[::-1])  # stable: a group's first row in order is its earliest
    ordered = keys[order]
    starts = np.concatenate([[True], (ordered[1:] != ordered[:-1]).any(axis=1)])
    return np.sort(order[starts])


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
    class_of, weights = _pair_classes(task, dihedral)
    rng = task_rng(seed, task.id)
    n_draws = versions * draws_factor
    ds = rng.choice(np.asarray(dihedral, dtype=np.int8), size=n_draws)
    maps = (
        colour.random_maps(rng, n_draws, fixed_colours)
        if permute_colours
        else np.tile(colour.IDENTITY, (n_draws, 1))
    )
    # row 0 is the original (identity), so draws equal to it are dropped like repeats
    keys = version_keys(
        class_of,
        weights,
        np.concatenate([[0], ds]).astype(np.int64),
        np.concatenate([colour.IDENTITY[None, :], maps]),
    )
    first = first_of_each(keys)
    kept = first[first != 0][:versions] - 1
    dih = np.concatenate([[0], ds[kept]]).astype(np.int8)
    cmaps = np.concatenate([colour.IDENTITY[None, :], maps[kept]]).astype(np.uint8)
    return Transform(dih, cmaps)
