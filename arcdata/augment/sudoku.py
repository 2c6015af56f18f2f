"""Sudoku augmentations as data: the validity-preserving moves of an n x n Sudoku.

A transform is (dihedral, row_map, col_map, digit_map), applied in that order:

1. ``dihedral``: 0 (identity) or 6 (transpose), the two D4 moves that keep rows, columns and
   boxes as units (in :mod:`arcdata.augment.d4` numbering, so stored ids mean the same thing as
   for ARC);
2. rows: new row i = old row ``row_map[i]``; ``row_map`` keeps bands together (a band
   permutation composed with row permutations inside each band);
3. columns: the same with stacks, ``col_map``;
4. digits: ``digit_map`` is a uint8[10] lookup table in colour-map style, 0 (blank) fixed and
   1..n permuted, so the stored string reads like an ARC colour map.

Each move maps valid solutions to valid solutions and commutes with "is a puzzle of", so a
(puzzle, solution) pair stays consistent. Everything is invertible exactly, which is what lets a
built row be traced back to its raw puzzle.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from arcdata.augment import colour, d4
from arcdata.augment.plan import task_rng
from arcdata.sudoku.board import box_side

DIHEDRAL_IDS = (0, 6)


@dataclass(frozen=True, eq=False)
class SudokuTransform:
    """One validity-preserving move of an n x n Sudoku (see the module docstring)."""

    dihedral: int
    row_map: tuple[int, ...]
    col_map: tuple[int, ...]
    digit_map: np.ndarray  # uint8[10]

    @property
    def n(self) -> int:
        return len(self.row_map)

    def key(self) -> tuple:
        return (self.dihedral, self.row_map, self.col_map, self.digit_map.tobytes())

    def __eq__(self, other: object) -> bool:
        return isinstance(other, SudokuTransform) and self.key() == other.key()

    def __hash__(self) -> int:
        return hash(self.key())


def identity(n: int = 9) -> SudokuTransform:
    return SudokuTransform(0, tuple(range(n)), tuple(range(n)), colour.IDENTITY.copy())


def _band_map(rng: np.random.Generator, n: int) -> tuple[int, ...]:
    """A row (or column) permutation that keeps bands: permute bands, then rows inside each."""
    b = box_side(n)
    bands = rng.permutation(b)
    return tuple(int(band * b + r) for band in bands for r in rng.permutation(b))


def random(rng: np.random.Generator, n: int = 9) -> SudokuTransform:
    """A uniformly random transform: transpose with p=0.5, band/row/stack/column and digit
    permutations uniform."""
    dihedral = 6 if rng.random() < 0.5 else 0
    rows = _band_map(rng, n)
    cols = _band_map(rng, n)
    digits = colour.random_map(rng, fixed=[0, *range(n + 1, 10)])
    return SudokuTransform(dihedral, rows, cols, digits)


def apply(grid: np.ndarray, t: SudokuTransform) -> np.ndarray:
    """The transformed grid (a new array); works on a stack ``[..., n, n]`` too."""
    g = d4.apply(np.asarray(grid), t.dihedral)
    g = g[..., list(t.row_map), :][..., list(t.col_map)]
    return t.digit_map[g]


def invert(grid: np.ndarray, t: SudokuTransform) -> np.ndarray:
    """Undo :func:`apply`: ``invert(apply(g, t), t) == g``."""
    g = colour.invert(t.digit_map)[np.asarray(grid)]
    g = g[..., np.argsort(t.col_map)]
    g = g[..., np.argsort(t.row_map), :]
    return d4.invert(g, t.dihedral)


def inverse(t: SudokuTransform) -> SudokuTransform:
    """The transform u with ``apply(apply(g, t), u) == g`` (itself a transform of this kind)."""
    rows = np.argsort(t.row_map)
    cols = np.argsort(t.col_map)
    if t.dihedral == 6:  # undo columns/rows first, then transpose: swap the roles of the maps
        rows, cols = cols, rows
    return SudokuTransform(
        t.dihedral,
        tuple(int(v) for v in rows),
        tuple(int(v) for v in cols),
        colour.invert(t.digit_map),
    )


def to_arrays(transforms: Sequence[SudokuTransform]):
    """Stack transforms as (dihedral int8[V], row_maps uint8[V, n], col_maps uint8[V, n],
    digit_maps uint8[V, 10]) for vectorised use and for :class:`arcdata.augment.plan.Versions`."""
    dih = np.array([t.dihedral for t in transforms], dtype=np.int8)
    rows = np.array([t.row_map for t in transforms], dtype=np.uint8)
    cols = np.array([t.col_map for t in transforms], dtype=np.uint8)
    digits = np.stack([t.digit_map for t in transforms]).astype(np.uint8)
    return dih, rows, cols, digits


def apply_many(grids: np.ndarray, transforms: Sequence[SudokuTransform]) -> np.ndarray:
    """``grids[i]`` moved by ``transforms[i]`` for all i at once ([N, n, n] in, [N, n, n] out).

    One gather per step instead of a Python loop per grid, for building millions of versions.
    """
    g = np.asarray(grids)
    count = len(transforms)
    if g.ndim != 3 or g.shape[0] != count:
        raise ValueError(f"expected grids [N, n, n] with N = {count}, got {g.shape}")
    dih, rows, cols, digits = to_arrays(transforms)
    flip = dih == 6
    g = np.where(flip[:, None, None], np.swapaxes(g, 1, 2), g)
    idx = np.arange(count)[:, None, None]
    g = g[idx, rows.astype(np.intp)[:, :, None], cols.astype(np.intp)[:, None, :]]
    return digits[idx, g]


def to_strings(t: SudokuTransform) -> dict[str, str]:
    """Readable storage form: ``{"dihedral": "6", "row_map": "012345678", ...}``."""
    return {
        "dihedral": str(t.dihedral),
        "row_map": "".join(str(v) for v in t.row_map),
        "col_map": "".join(str(v) for v in t.col_map),
        "digit_map": colour.to_string(t.digit_map),
    }


def _check_band_map(values: tuple[int, ...], what: str) -> None:
    n = len(values)
    b = box_side(n)
    if sorted(values) != list(range(n)):
        raise ValueError(f"{what} must be a permutation of 0..{n - 1}, got {values}")
    for band in range(b):
        sources = {v // b for v in values[band * b : (band + 1) * b]}
        if len(sources) != 1:
            raise ValueError(f"{what} {values} splits a band (rows {band * b}..{band * b + b - 1})")


def from_strings(fields: Mapping[str, str]) -> SudokuTransform:
    """Parse :func:`to_strings` output, checking that it is a validity-preserving move."""
    dihedral = int(fields["dihedral"])
    if dihedral not in DIHEDRAL_IDS:
        raise ValueError(f"Sudoku dihedral must be 0 or 6 (transpose), got {dihedral}")
    rows = tuple(int(ch) for ch in fields["row_map"])
    cols = tuple(int(ch) for ch in fields["col_map"])
    if len(rows) != len(cols):
        raise ValueError("row_map and col_map have different lengths")
    _check_band_map(rows, "row_map")
    _check_band_map(cols, "col_map")
    digits = colour.from_string(fields["digit_map"])
    n = len(rows)
    if digits[0] != 0 or sorted(digits[1 : n + 1].tolist()) != list(range(1, n + 1)):
        raise ValueError(f"digit_map must fix 0 and permute 1..{n}, got {fields['digit_map']}")
    return SudokuTransform(dihedral, rows, cols, digits)


def pick_versions(
    puzzle: np.ndarray,
    solution: np.ndarray,
    count: int,
    *,
    seed: int,
    puzzle_id: str,
    draws_factor: int = 5,
) -> list[SudokuTransform]:
    """Up to ``count`` distinct versions of a puzzle: version 0 is the identity.

    Distinct means the (puzzle, solution) content differs; the original counts as taken, so a
    draw that reproduces it is dropped. Draws stop after ``draws_factor * count`` (the
    reference's budget), so ``count`` is an upper bound. The random stream depends only on
    (seed, puzzle id) (:func:`arcdata.augment.plan.task_rng`), not on order or workers.
    """
    puzzle = np.asarray(puzzle, dtype=np.uint8)
    solution = np.asarray(solution, dtype=np.uint8)
    n = puzzle.shape[0]
    kept = [identity(n)]
    if count <= 1:
        return kept[:count] if count > 0 else []
    pair = np.stack([puzzle, solution])
    seen = {pair.tobytes()}
    rng = task_rng(seed, puzzle_id)
    for _ in range(draws_factor * count):
        t = random(rng, n)
        content = apply(pair, t).tobytes()
        if content in seen:
            continue
        seen.add(content)
        kept.append(t)
        if len(kept) == count:
            break
    return kept
