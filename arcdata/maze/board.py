"""Maze grids as values: index into ``"# SGo"`` (wall, open, start, goal, path).

The CSV layout stores a maze as one row-major string; :func:`parse_many` turns a column of them
into a ``[N, side, side]`` uint8 stack with a single lookup, which is what validation of a
whole file at once needs.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from arcdata.tokens import MAZE_CHARS

WALL, OPEN, START, GOAL, PATH = range(5)
SIDE = 30


def _lookup() -> np.ndarray:
    table = np.full(256, 255, dtype=np.uint8)
    for value, ch in enumerate(MAZE_CHARS):
        table[ord(ch)] = value
    return table


BYTES = _lookup()
CHARS = np.frombuffer(MAZE_CHARS.encode(), dtype=np.uint8)


def side_of_length(length: int) -> int:
    side = math.isqrt(length)
    if side * side != length:
        raise ValueError(f"{length} characters is not a square maze")
    return side


def parse(text: str, side: int | None = None, *, path_allowed: bool = True) -> np.ndarray:
    """One maze string to a side x side uint8 grid; ValueError names the first bad character."""
    side = side_of_length(len(text)) if side is None else side
    if len(text) != side * side:
        raise ValueError(f"expected {side * side} characters, got {len(text)}")
    values = BYTES[np.frombuffer(text.encode("latin-1", "replace"), dtype=np.uint8)]
    top = PATH if path_allowed else GOAL
    bad = np.flatnonzero(values > top)
    if bad.size:
        i = int(bad[0])
        raise ValueError(f"character {i + 1} is {text[i]!r}; allowed: {MAZE_CHARS[: top + 1]!r}")
    return values.reshape(side, side)


def parse_many(texts: Sequence[str], side: int) -> np.ndarray:
    """Equal-length strings to ``[N, side, side]``; unknown characters become 255."""
    blob = "".join(texts).encode("latin-1", "replace")
    return BYTES[np.frombuffer(blob, dtype=np.uint8)].reshape(len(texts), side, side)


def to_string(grid: np.ndarray) -> str:
    return CHARS[np.asarray(grid, dtype=np.intp).ravel()].tobytes().decode()
