"""Colour (value) permutations: a map is a uint8[10] lookup table, ``new = map[old]``.

Stored in rows as a 10-digit string (digit i = new colour of old colour i), the reference's
naming, so a person can read it and the inverse is a simple argsort.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

IDENTITY = np.arange(10, dtype=np.uint8)


def random_map(rng: np.random.Generator, fixed: Iterable[int] = (0,), size: int = 10) -> np.ndarray:
    """A random permutation of 0..size-1 that leaves the ``fixed`` values where they are."""
    fixed = sorted(set(fixed))
    free = np.array([v for v in range(size) if v not in fixed], dtype=np.uint8)
    out = np.arange(size, dtype=np.uint8)
    out[free] = rng.permutation(free)
    return out


def random_maps(
    rng: np.random.Generator, n: int, fixed: Iterable[int] = (0,), size: int = 10
) -> np.ndarray:
    """``n`` random maps at once, [n, size] uint8; same law as :func:`random_map`."""
    fixed = sorted(set(fixed))
    free = np.array([v for v in range(size) if v not in fixed], dtype=np.int64)
    out = np.tile(np.arange(size, dtype=np.uint8), (n, 1))
    if free.size:
        keys = rng.random((n, free.size))
        out[:, free] = free[np.argsort(keys, axis=1)].astype(np.uint8)
    return out


def invert(cmap: np.ndarray) -> np.ndarray:
    return np.argsort(cmap).astype(np.uint8)


def apply(grid: np.ndarray, cmap: np.ndarray) -> np.ndarray:
    return cmap[grid]


def to_string(cmap: np.ndarray) -> str:
    return "".join(str(int(v)) for v in cmap)


def from_string(text: str) -> np.ndarray:
    if len(text) != 10 or not text.isdigit() or sorted(text) != list("0123456789"):
        raise ValueError(f"colour map must be a permutation of the 10 digits, got {text!r}")
    return np.frombuffer(text.encode(), dtype=np.uint8) - ord("0")
