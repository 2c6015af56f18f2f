"""Canonical form of a Sudoku grid under its validity-preserving moves.

Two puzzles are equivalent when one is the other after digit relabelling, transposition, band
and row-in-band permutations and stack and column-in-stack permutations (the moves of
:mod:`arcdata.augment.sudoku`). The canonical form is the lexicographically smallest row-major
reading over all those moves, digits renamed in order of first appearance (blank = 0 first), so
equivalent grids, and only they, share it. Generators dedupe train against test with it.

For 9x9 the group has 2 x 1296 x 1296 geometric moves (x 9! relabellings, absorbed by the
first-appearance naming). Instead of trying all 3.4 M, the search builds the answer one cell at a
time, keeping only the partial moves whose prefix is minimal so far (all ties kept, so nothing
smaller can be lost). Each step is one vectorised numpy operation over the surviving moves; for
real puzzles a few thousand survive the first row and a handful the first band, so a 9x9
puzzle costs a few milliseconds.
"""

from __future__ import annotations

import itertools
from functools import cache

import numpy as np

from arcdata.sudoku.board import box_side

UNSET = 255


@cache
def band_maps(n: int) -> np.ndarray:
    """Every band-preserving permutation of 0..n-1 ([(b!)^(b+1), n], int64)."""
    b = box_side(n)
    inner = list(itertools.permutations(range(b)))
    out = []
    for bands in itertools.permutations(range(b)):
        for rows in itertools.product(inner, repeat=b):
            out.append([bands[k] * b + rows[k][i] for k in range(b) for i in range(b)])
    return np.array(out, dtype=np.int64)


def canonical_form(grid: np.ndarray) -> str:
    """The class representative of ``grid`` as n*n digits ('0' blank, digits by first use).

    Works for puzzles (with blanks) and full solutions alike, for any square side (4, 9, ...).
    """
    g = np.asarray(grid, dtype=np.uint8)
    n = g.shape[0]
    if g.shape != (n, n):
        raise ValueError(f"expected a square grid, got shape {g.shape}")
    b = box_side(n)
    both = np.stack([g, g.T])  # dihedral 0 and 6
    cols = band_maps(n)
    k_cols = len(cols)
    # the state of each surviving partial move
    flip = np.repeat(np.arange(2), k_cols)
    cmap = np.tile(np.arange(k_cols), 2)
    used = np.zeros(2 * k_cols, dtype=np.int64)  # bitmask of source rows placed so far
    band = np.zeros(2 * k_cols, dtype=np.int64)  # source band of the current output band
    labels = np.full((2 * k_cols, 10), UNSET, dtype=np.uint8)
    labels[:, 0] = 0
    nxt = np.ones(2 * k_cols, dtype=np.uint8)
    row_band = np.arange(n) // b
    out = []
    for i in range(n):
        # which source rows may become output row i
        if i % b == 0:
            band_used = (used[:, None] >> (np.arange(b) * b)[None, :]) & ((1 << b) - 1)
            allowed = band_used[:, row_band] == 0
        else:
            allowed = (row_band[None, :] == band[:, None]) & (
                (used[:, None] >> np.arange(n)) & 1 == 0
            )
        who, src = np.nonzero(allowed)
        flip, cmap, used, band, labels, nxt = (
            flip[who],
            cmap[who],
            used[who] | (1 << src),
            band[who],
            labels[who],
            nxt[who],
        )
        if i % b == 0:
            band = src // b
        rowvals = both[flip, src]  # [M, n] the chosen source row
        for j in range(n):
            v = rowvals[np.arange(len(flip)), cols[cmap, j]]
            known = labels[np.arange(len(flip)), v]
            lab = np.where(known == UNSET, nxt, known)
            best = lab.min()
            keep = lab == best
            if not keep.all():
                flip, cmap, used, band, labels, nxt, rowvals, v = (
                    a[keep] for a in (flip, cmap, used, band, labels, nxt, rowvals, v)
                )
            fresh = labels[np.arange(len(flip)), v] == UNSET
            if fresh.any():
                idx = np.flatnonzero(fresh)
                labels[idx, v[idx]] = nxt[idx]
                nxt = nxt + fresh.astype(np.uint8)
            out.append(int(best))
    return "".join(str(d) for d in out)


def equivalent(a: np.ndarray, b: np.ndarray) -> bool:
    """Whether one grid is a validity-preserving move of the other."""
    return canonical_form(a) == canonical_form(b)
