"""The dihedral group D4 on grids, in the reference's index order.

0 identity, 1 rot90 (counter-clockwise), 2 rot180, 3 rot270, 4 fliplr, 5 flipud,
6 transpose, 7 anti-transpose (= fliplr(rot90(x))). The composition table is derived from the
transforms themselves (not typed in), so it cannot disagree with :func:`apply`.
"""

from __future__ import annotations

import numpy as np

NAMES = ("identity", "rot90", "rot180", "rot270", "fliplr", "flipud", "transpose", "antitranspose")
INVERSE = (0, 3, 2, 1, 4, 5, 6, 7)


def apply(grid: np.ndarray, t: int) -> np.ndarray:
    """Transform the last two axes of ``grid`` (so a stack of grids works too)."""
    if t == 0:
        return grid
    if t == 1:
        return np.rot90(grid, 1, axes=(-2, -1))
    if t == 2:
        return np.rot90(grid, 2, axes=(-2, -1))
    if t == 3:
        return np.rot90(grid, 3, axes=(-2, -1))
    if t == 4:
        return np.flip(grid, axis=-1)
    if t == 5:
        return np.flip(grid, axis=-2)
    if t == 6:
        return np.swapaxes(grid, -2, -1)
    if t == 7:
        return np.flip(np.rot90(grid, 1, axes=(-2, -1)), axis=-1)
    raise ValueError(f"dihedral id must be 0..7, got {t}")


def invert(grid: np.ndarray, t: int) -> np.ndarray:
    return apply(grid, INVERSE[t])


def transposes_shape(t: int) -> bool:
    """Whether transform t swaps height and width."""
    return t in (1, 3, 6, 7)


def _derive_table() -> np.ndarray:
    probe = np.arange(6).reshape(2, 3)
    images = [apply(probe, t) for t in range(8)]
    table = np.zeros((8, 8), dtype=np.int8)
    for a in range(8):
        for b in range(8):
            target = apply(apply(probe, b), a)
            table[a, b] = next(
                t
                for t in range(8)
                if images[t].shape == target.shape and np.array_equal(images[t], target)
            )
    return table


COMPOSE = _derive_table()
"""``COMPOSE[a, b]`` is the id of "apply b, then a"."""


def compose(a: int, b: int) -> int:
    return int(COMPOSE[a, b])


def apply_to_coords(t: int, r: np.ndarray, c: np.ndarray, h: int, w: int):
    """Where cell (r, c) of an h x w grid lands under transform t: (new_r, new_c)."""
    if t == 0:
        return r, c
    if t == 1:
        return w - 1 - c, r
    if t == 2:
        return h - 1 - r, w - 1 - c
    if t == 3:
        return c, h - 1 - r
    if t == 4:
        return r, w - 1 - c
    if t == 5:
        return h - 1 - r, c
    if t == 6:
        return c, r
    if t == 7:
        return w - 1 - c, h - 1 - r
    raise ValueError(f"dihedral id must be 0..7, got {t}")


def cell_sources(shapes: np.ndarray, ids=range(8)) -> np.ndarray:
    """[len(ids), L] where each cell of the transformed grids comes from, as flat positions.

    ``shapes`` [G, 2] describes G grids stored row-major one after another (L cells in all);
    row k of the result lists, for transform ``ids[k]``, the source position of every cell of
    the transformed grids stored the same way (a grid keeps its place and size, only its shape
    may swap). So ``values[cell_sources(shapes, [t])[0]]`` transforms every grid at once: the
    build and the planner gather a whole task with one index instead of a flip or rotation
    per grid and version. Computed from :func:`apply_to_coords` of the inverse, with no loop
    over grids.
    """
    shapes = np.asarray(shapes, dtype=np.int64).reshape(-1, 2)
    h, w = shapes[:, 0], shapes[:, 1]
    sizes = h * w
    starts = np.cumsum(sizes) - sizes
    grid = np.repeat(np.arange(len(shapes)), sizes)  # (L,) grid of each cell
    start, hg, wg = starts[grid], h[grid], w[grid]
    k = np.arange(int(sizes.sum()), dtype=np.int64) - start  # (L,) position inside its grid
    ids = list(ids)
    out = np.empty((len(ids), k.size), dtype=np.intp)
    for row, t in enumerate(ids):
        ho, wo = (wg, hg) if transposes_shape(t) else (hg, wg)  # transformed shape
        r_new, c_new = np.divmod(k, wo)
        r, c = apply_to_coords(INVERSE[t], r_new, c_new, ho, wo)
        out[row] = start + r * wg + c
    return out
