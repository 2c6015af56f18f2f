"""Plain-text picture of a maze, for ``arcdata show`` and error messages."""

from __future__ import annotations

import numpy as np

from arcdata.maze.board import CHARS


def render_maze(grid: np.ndarray, frame: bool = True) -> str:
    """Rows of ``# SGo`` characters; ``frame`` draws a border so open edge cells stay visible."""
    g = np.asarray(grid, dtype=np.intp)
    rows = [CHARS[row].tobytes().decode() for row in g]
    if not frame:
        return "\n".join(rows)
    edge = "+" + "-" * g.shape[1] + "+"
    return "\n".join([edge, *(f"|{row}|" for row in rows), edge])
