"""Sudoku augmentation: the validity-preserving moves of an n x n Sudoku, and its one planner.

A move is a :class:`arcdata.augment.transform.Transform` with row/column maps: transpose or not
(dihedral 6 or 0), a row map that keeps bands together (a band permutation composed with row
permutations inside each band), the same for columns with stacks, and a digit map with 0
(blank) fixed and 1..n permuted. Each move maps valid solutions to valid solutions and commutes
with "is a puzzle of", so a (puzzle, solution) pair stays consistent, and every move is exactly
invertible, which is what lets a built row be traced back to its raw puzzle.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping

import numpy as np

from arcdata.augment import colour
from arcdata.augment.plan import task_grids, task_rng
from arcdata.augment.transform import MAP_DIHEDRALS, Transform
from arcdata.records import Task
from arcdata.sudoku.board import box_side

DIHEDRAL_IDS = MAP_DIHEDRALS
CHUNK = 256
"""Candidates drawn per round. Fixed, so the random stream never depends on how many versions
are asked for: asking for fewer versions gives a prefix of asking for more."""


def band_maps(rng: np.random.Generator, count: int, n: int) -> np.ndarray:
    """[count, n] row maps that keep bands of ``sqrt(n)`` rows together (new row i = old map[i]).

    A band map is a permutation of the bands and one of the rows inside each band; both are
    drawn as indices into the table of all permutations of ``sqrt(n)`` items.
    """
    b = box_side(n)
    perms = np.array(list(itertools.permutations(range(b))), dtype=np.int64)
    bands = perms[rng.integers(0, len(perms), size=count)]
    inner = perms[rng.integers(0, len(perms), size=(count, b))]
    return (bands[:, :, None] * b + inner).reshape(count, n).astype(np.uint8)


def random_moves(rng: np.random.Generator, count: int, n: int = 9) -> Transform:
    """``count`` uniformly random moves: transpose with p = 0.5, band/row/stack/column and digit
    permutations uniform."""
    dih = np.where(rng.random(count) < 0.5, 6, 0).astype(np.int8)
    rows, cols = band_maps(rng, count, n), band_maps(rng, count, n)
    digits = colour.random_maps(rng, count, [0, *range(n + 1, 10)])
    return Transform(dih, digits, rows, cols)


def check(t: Transform) -> Transform:
    """``t`` itself, after checking that every entry is a validity-preserving move."""
    if t.row_maps is None:
        raise ValueError("a Sudoku move needs row and column maps")
    if not np.isin(t.dihedral, DIHEDRAL_IDS).all():
        raise ValueError("Sudoku dihedral must be 0 or 6 (transpose)")
    n = t.row_maps.shape[1]
    for maps, what in ((t.row_maps, "row_map"), (t.col_maps, "col_map")):
        for values in maps.tolist():
            _check_band_map(values, what)
    digits = t.colour_maps
    wrong = (digits[:, 0] != 0) | (
        np.sort(digits[:, 1 : n + 1], axis=1) != np.arange(1, n + 1)
    ).any(1)
    if wrong.any():
        bad = colour.to_string(digits[int(np.flatnonzero(wrong)[0])])
        raise ValueError(f"digit_map must fix 0 and permute 1..{n}, got {bad}")
    return t


def _check_band_map(values: list[int], what: str) -> None:
    n = len(values)
    b = box_side(n)
    if sorted(values) != list(range(n)):
        raise ValueError(f"{what} must be a permutation of 0..{n - 1}, got {values}")
    for band in range(b):
        sources = {v // b for v in values[band * b : (band + 1) * b]}
        if len(sources) != 1:
            raise ValueError(f"{what} {values} splits a band (rows {band * b}..{band * b + b - 1})")


def from_strings(fields: Mapping[str, str]) -> Transform:
    """One move from its stored strings, checked to be validity-preserving."""
    dihedral = int(fields["dihedral"])
    if dihedral not in DIHEDRAL_IDS:
        raise ValueError(f"Sudoku dihedral must be 0 or 6 (transpose), got {dihedral}")
    if len(fields["row_map"]) != len(fields["col_map"]):
        raise ValueError("row_map and col_map have different lengths")
    rows = [int(ch) for ch in fields["row_map"]]
    cols = [int(ch) for ch in fields["col_map"]]
    _check_band_map(rows, "row_map")
    _check_band_map(cols, "col_map")
    return check(
        Transform([dihedral], colour.from_string(fields["colour_map"])[None], [rows], [cols])
    )


def plan_sudoku(task: Task, *, versions: int, seed: int, draws_factor: int = 5) -> Transform:
    """The original and up to ``versions`` distinct moves of a puzzle, from (seed, puzzle id).

    Distinct means the (puzzle, solution) content differs; a draw reproducing the original or
    an earlier version is dropped. Draws stop after ``versions x draws_factor`` (the
    reference's budget). Candidates come in fixed rounds of :data:`CHUNK`, so the versions
    depend only on (seed, puzzle id) and a smaller ``versions`` gives a prefix.
    """
    grids = np.stack(task_grids(task))
    n = grids.shape[-1]
    original = grids.reshape(-1)
    shapes = np.array([g.shape for g in grids])
    rng = task_rng(seed, task.id)
    budget = max(versions, 0) * draws_factor
    drawn: list[Transform] = []
    content = np.zeros((0, original.size), np.uint8)
    kept = np.zeros(0, np.int64)
    while len(kept) < versions and len(content) < budget:
        moves = random_moves(rng, CHUNK, n).take(np.arange(min(CHUNK, budget - len(content))))
        drawn.append(moves)
        content = np.concatenate([content, moves.apply_cells(original, shapes)])
        keys = np.ascontiguousarray(content).view(np.dtype((np.void, content.shape[1]))).ravel()
        _, first = np.unique(keys, return_index=True)
        first = np.sort(first)
        kept = first[~(content[first] == original).all(axis=1)][:versions]
    return Transform.concat([Transform.identity(1, n), *drawn]).take(
        np.concatenate([[0], kept + 1]).astype(np.int64)
    )
