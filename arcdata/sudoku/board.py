"""Sudoku grids as values: text parsing, box geometry and vectorised validity checks.

Grids hold cell values (0 = blank, 1..n digits) so they drop straight into a ``Pair``; the
checks take a stack ``[N, n, n]`` because readers validate millions of CSV rows at once.
"""

from __future__ import annotations

import math

import numpy as np

BLANKS = ".0"
SIZES = (4, 9)


def box_side(n: int) -> int:
    """Side of one box (2 for 4x4, 3 for 9x9); only perfect squares make a Sudoku."""
    b = math.isqrt(n)
    if b * b != n or b < 2:
        raise ValueError(f"Sudoku side must be a square >= 4 (4, 9, ...), got {n}")
    return b


def side_of_length(length: int) -> int:
    """The side n of a puzzle written as ``length`` characters (81 -> 9, 16 -> 4)."""
    n = math.isqrt(length)
    if n * n != length:
        raise ValueError(f"{length} characters is not a square grid")
    box_side(n)
    return n


def _lookup(blank_ok: bool) -> np.ndarray:
    """Byte -> value table; 255 marks bytes that are not allowed."""
    table = np.full(256, 255, dtype=np.uint8)
    for d in range(1, 10):
        table[ord(str(d))] = d
    if blank_ok:
        for ch in BLANKS:
            table[ord(ch)] = 0
    return table


PUZZLE_BYTES = _lookup(blank_ok=True)
SOLUTION_BYTES = _lookup(blank_ok=False)


def parse(text: str, n: int | None = None, *, blanks: bool = True) -> np.ndarray:
    """One puzzle string (row-major; ``.`` or ``0`` blank) to an n x n uint8 grid.

    Raises ValueError with the offending character's position so readers can wrap it in an
    InputError that names file and line.
    """
    n = side_of_length(len(text)) if n is None else n
    if len(text) != n * n:
        raise ValueError(f"expected {n * n} characters, got {len(text)}")
    raw = np.frombuffer(text.encode("latin-1", "replace"), dtype=np.uint8)
    values = (PUZZLE_BYTES if blanks else SOLUTION_BYTES)[raw]
    bad = np.flatnonzero((values == 255) | (values > n))
    if bad.size:
        i = int(bad[0])
        allowed = ("'.', '0', " if blanks else "") + f"'1'..'{n}'"
        raise ValueError(f"character {i + 1} is {text[i]!r}; allowed: {allowed}")
    return values.reshape(n, n)


def to_string(grid: np.ndarray, blank: str = ".") -> str:
    """Row-major text of a grid (the CSV / puzzle-list layout)."""
    chars = np.frombuffer(("?" if blank == "" else blank[0]).encode() + b"123456789", np.uint8)
    return chars[np.asarray(grid, dtype=np.intp).ravel()].tobytes().decode()


def units(grids: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Rows, columns and boxes of ``[..., n, n]`` grids, each as ``[..., n units, n cells]``."""
    g = np.asarray(grids)
    n = g.shape[-1]
    b = box_side(n)
    lead = g.shape[:-2]
    boxes = g.reshape(*lead, b, b, b, b).swapaxes(-3, -2).reshape(*lead, n, n)
    return g, g.swapaxes(-2, -1), boxes


def _digit_sets(cells: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per unit: how many distinct digits (values 1..n) it holds and how many cells are filled."""
    bits = np.where(cells > 0, np.left_shift(1, cells.astype(np.int32)), 0)
    ored = np.bitwise_or.reduce(bits, axis=-1)
    distinct = sum((ored >> d) & 1 for d in range(1, cells.shape[-1] + 1))
    return distinct, (cells > 0).sum(axis=-1)


def is_valid_solution(grids: np.ndarray) -> np.ndarray:
    """Whether each grid of ``[..., n, n]`` is a complete, valid Sudoku solution.

    Every cell holds 1..n and every row, column and box sums 2^digit to 2^1 + ... + 2^n. A sum
    of n powers of two has n one-bits only when no two are equal (equal ones carry), so the sum
    test is exact, and plain sums are much faster than per-digit checks on millions of rows.
    """
    g = np.asarray(grids)
    n = g.shape[-1]
    in_range = (g >= 1) & (g <= n)
    ok = in_range.all(axis=(-2, -1))
    bits = np.left_shift(1, np.where(in_range, g, 0).astype(np.int32))
    full = (1 << (n + 1)) - 2
    b = box_side(n)
    lead = g.shape[:-2]
    ok &= (bits.sum(axis=-1) == full).all(axis=-1)
    ok &= (bits.sum(axis=-2) == full).all(axis=-1)
    boxes = bits.reshape(*lead, b, b, b, b).sum(axis=(-3, -1))
    ok &= (boxes == full).all(axis=(-2, -1))
    return ok


def has_conflict(grids: np.ndarray) -> np.ndarray:
    """Whether some digit repeats in a row, column or box of each (partial) grid."""
    bad = np.zeros(np.shape(grids)[:-2], dtype=bool)
    for cells in units(grids):
        distinct, filled = _digit_sets(cells)
        bad |= (distinct != filled).any(axis=-1)
    return bad


def agrees(puzzles: np.ndarray, solutions: np.ndarray) -> np.ndarray:
    """Whether each solution keeps every given of its puzzle (blanks may hold anything)."""
    p = np.asarray(puzzles)
    s = np.asarray(solutions)
    return ((p == 0) | (p == s)).all(axis=(-2, -1))
