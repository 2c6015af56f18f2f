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
import itertools
from dataclasses import dataclass, field

import numpy as np

from arcdata.augment import colour, d4
from arcdata.records import Task


@dataclass(frozen=True)
class Versions:
    """All versions of one task; index 0 is the original (identity transform)."""

    dihedral: np.ndarray  # int8 [V]
    colour_maps: np.ndarray  # uint8 [V, 10]
    row_maps: np.ndarray | None = None  # uint8 [V, n] (Sudoku), new row i = old row map[i]
    col_maps: np.ndarray | None = None  # uint8 [V, n]
    cells: np.ndarray | None = field(default=None, compare=False, repr=False)
    """Optional [V, all cells] of the transformed task, when planning had to compute it."""

    def __len__(self) -> int:
        return len(self.dihedral)


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


def identity_versions() -> Versions:
    return Versions(np.zeros(1, np.int8), colour.IDENTITY[None, :].copy())


def plan_dihedral_colour(
    task: Task,
    *,
    versions: int,
    dihedral: list[int],
    permute_colours: bool,
    fixed_colours: list[int],
    seed: int,
    draws_factor: int = 5,
) -> Versions:
    """Up to ``versions`` distinct augmented copies plus the original, in draw order."""
    if versions <= 0 or (not permute_colours and set(dihedral) <= {0}):
        return identity_versions()
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
    return Versions(dih, cmaps)


def _band_maps(rng: np.random.Generator, count: int, n: int) -> np.ndarray:
    """[count, n] row maps that keep bands of ``sqrt(n)`` rows together (new row i = old map[i]).

    A band map is a permutation of the bands and one of the rows inside each band; both are
    drawn as indices into the table of all permutations of ``sqrt(n)`` items.
    """
    b = int(round(n**0.5))
    perms = np.array(list(itertools.permutations(range(b))), dtype=np.int64)
    bands = perms[rng.integers(0, len(perms), size=count)]
    inner = perms[rng.integers(0, len(perms), size=(count, b))]
    return (bands[:, :, None] * b + inner).reshape(count, n).astype(np.uint8)


def sudoku_cells(grids: np.ndarray, dihedral, row_maps, col_maps, digit_maps) -> np.ndarray:
    """[V, G * n * n] every grid of [G, n, n] under every version's Sudoku move.

    The moves are turned into one flat source index per output cell (transpose swaps the roles
    of row and column), so each grid costs a single ``take`` instead of 4-D fancy indexing.
    """
    count, n = row_maps.shape
    r = row_maps.astype(np.intp)[:, :, None]
    c = col_maps.astype(np.intp)[:, None, :]
    flip = (np.asarray(dihedral) == 6)[:, None, None]
    source = np.where(flip, c * n + r, r * n + c).reshape(count, n * n)
    flat = grids.reshape(grids.shape[0], n * n)
    values = np.concatenate([g[source] for g in flat], axis=1)  # [V, G*n*n]
    offsets = (np.arange(count, dtype=np.intp) * digit_maps.shape[1])[:, None]
    return digit_maps.reshape(-1)[values + offsets]


def plan_sudoku(task: Task, *, versions: int, seed: int, draws_factor: int = 5) -> Versions:
    """Distinct Sudoku versions: transpose (p = 0.5), band/row and stack/column permutations
    and a digit relabelling (blank fixed), chosen from (seed, puzzle id) like ARC versions.

    Collisions are rare for Sudoku, so candidates are drawn in rounds just larger than what is
    still missing instead of all ``versions x draws_factor`` at once.
    """
    grids = np.stack(task_grids(task))
    n = grids.shape[-1]
    if versions <= 0:
        ident = np.arange(n, dtype=np.uint8)[None, :]
        return Versions(
            np.zeros(1, np.int8),
            colour.IDENTITY[None, :].copy(),
            ident,
            ident.copy(),
            cells=grids.reshape(1, -1),
        )
    fixed = [0, *range(n + 1, 10)]
    rng = task_rng(seed, task.id)
    original = grids.reshape(-1)
    drawn: list[tuple[np.ndarray, ...]] = []
    budget, kept = versions * draws_factor, np.zeros(0, np.int64)
    while len(kept) < versions and budget > 0:
        count = min(budget, versions - len(kept) + 16)
        budget -= count
        dih = np.where(rng.random(count) < 0.5, 6, 0).astype(np.int8)
        rows, cols = _band_maps(rng, count, n), _band_maps(rng, count, n)
        digits = colour.random_maps(rng, count, fixed)
        drawn.append((dih, rows, cols, digits))
        dih, rows, cols, digits = (np.concatenate(x) for x in zip(*drawn, strict=True))
        content = sudoku_cells(grids, dih, rows, cols, digits).reshape(len(dih), -1)
        keys = np.ascontiguousarray(content).view(np.dtype((np.void, content.shape[1]))).ravel()
        _, first = np.unique(keys, return_index=True)
        first = np.sort(first)
        first = first[~(content[first] == original).all(axis=1)]
        kept = first[:versions]
    ident = np.arange(n, dtype=np.uint8)[None, :]
    dih, rows, cols, digits = (
        (np.concatenate(x)[kept] for x in zip(*drawn, strict=True))
        if drawn
        else (np.zeros(0, np.int8), ident[:0], ident[:0], colour.IDENTITY[None, :0])
    )
    cells = content[kept] if drawn else np.zeros((0, original.size), np.uint8)
    return Versions(
        np.concatenate([[0], dih]).astype(np.int8),
        np.concatenate([colour.IDENTITY[None, :], digits]).astype(np.uint8),
        np.concatenate([ident, rows]),
        np.concatenate([ident, cols]),
        cells=np.concatenate([original[None, :], cells]),
    )
