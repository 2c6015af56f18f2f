"""Colours of grids: the palettes, and ANSI colour blocks for the terminal.

The ARC palette is the one the ARC web app uses, so a task looks the way people know it. These
palettes are the only ones: the captioned PNG pictures (picture.py: ``show --png`` and the
reasoning strips of ``arcdata evaluate``) and the browser (browse.py) use them too.
"""

from __future__ import annotations

import numpy as np

ARC_PALETTE = np.array(
    [
        (0, 0, 0),
        (0, 116, 217),
        (255, 65, 54),
        (46, 204, 64),
        (255, 220, 0),
        (170, 170, 170),
        (240, 18, 190),
        (255, 133, 27),
        (127, 219, 255),
        (135, 12, 37),
    ],
    dtype=np.uint8,
)
# Maze values: wall, open, start, goal, path
MAZE_LABELS = ("wall", "open", "start", "goal", "path")
MAZE_PALETTE = np.array(
    [(40, 40, 40), (235, 235, 235), (46, 204, 64), (255, 65, 54), (0, 116, 217)], dtype=np.uint8
)
BACKGROUND = np.array((255, 255, 255), dtype=np.uint8)


def palette_for(codec: str) -> np.ndarray:
    return MAZE_PALETTE if codec == "maze" else ARC_PALETTE


def ansi_grid(grid: np.ndarray, codec: str = "arc", colour: bool = True) -> list[str]:
    """Lines of two-space cells on a 24-bit background colour; digits (Sudoku), maze characters,
    or plain digits when the output is not a colour terminal."""
    if codec.startswith("sudoku"):
        return [" ".join("." if v == 0 else str(v) for v in row) for row in grid.tolist()]
    if codec == "maze" and not colour:
        return ["".join("# SGo"[v] for v in row) for row in grid.tolist()]
    if not colour:
        return [" ".join(str(v) for v in row) + " " for row in grid.tolist()]
    pal = palette_for(codec)
    return [
        "".join(f"\x1b[48;2;{pal[v][0]};{pal[v][1]};{pal[v][2]}m  " for v in row) + "\x1b[0m"
        for row in grid.tolist()
    ]


def side_by_side(blocks: list[list[str]], widths: list[int], gap: str = "   ->   ") -> str:
    height = max(len(b) for b in blocks)
    out = []
    for i in range(height):
        parts = []
        for b, w in zip(blocks, widths, strict=True):
            parts.append(b[i] if i < len(b) else " " * w)
        out.append(gap.join(parts))
    return "\n".join(out)
