"""Plain-text picture of a Sudoku grid, for ``arcdata show`` and error messages."""

from __future__ import annotations

import numpy as np

from arcdata.sudoku.board import box_side


def render_sudoku(grid: np.ndarray, blank: str = ".") -> str:
    """Rows of digits with box borders, e.g. ``5 3 . | . 7 . | . . .``; works for 4x4 and 9x9."""
    g = np.asarray(grid)
    n = g.shape[0]
    b = box_side(n)
    lines = []
    for r in range(n):
        if r and r % b == 0:
            lines.append("+".join(["-" * (2 * b + 1)] * b)[1:-1])
        cells = [blank if v == 0 else str(int(v)) for v in g[r]]
        lines.append(" | ".join(" ".join(cells[k : k + b]) for k in range(0, n, b)))
    return "\n".join(lines)
