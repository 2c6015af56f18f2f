"""Pictures of grids: ANSI colour blocks for the terminal and PNG files (no plotting library).

The ARC palette is the one the ARC web app uses, so a task looks the way people know it. These
palettes are the only ones: the captioned pictures (picture.py) and the browser (browse.py) use
them too.
"""

from __future__ import annotations

import struct
import zlib
from pathlib import Path

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


def grid_image(grid: np.ndarray, codec: str = "arc", cell: int = 12) -> np.ndarray:
    """RGB image [H, W, 3] of a grid with 1-pixel grid lines."""
    pal = palette_for(codec)
    if codec.startswith("sudoku"):
        shade = np.where(grid[..., None] > 0, np.uint8(200), np.uint8(255))
        rgb = np.broadcast_to(shade, (*grid.shape, 3))
    else:
        rgb = pal[grid]
    big = np.repeat(np.repeat(rgb, cell, axis=0), cell, axis=1).copy()
    big[::cell, :, :] = 90
    big[:, ::cell, :] = 90
    return big


def compose(rows: list[list[np.ndarray]], pad: int = 8) -> np.ndarray:
    """Lay images out in rows (e.g. one row per pair: input, output) on a white canvas."""
    heights = [max(img.shape[0] for img in r) for r in rows]
    width = max(sum(img.shape[1] for img in r) + pad * (len(r) + 1) for r in rows)
    canvas = np.empty((sum(heights) + pad * (len(rows) + 1), width, 3), dtype=np.uint8)
    canvas[:] = BACKGROUND
    y = pad
    for r, h in zip(rows, heights, strict=True):
        x = pad
        for img in r:
            canvas[y : y + img.shape[0], x : x + img.shape[1]] = img
            x += img.shape[1] + pad
        y += h + pad
    return canvas


def write_png(path: str | Path, rgb: np.ndarray) -> None:
    """A minimal truecolour PNG writer (zlib + CRC chunks): enough for pictures of grids."""
    h, w, _ = rgb.shape
    raw = b"".join(b"\x00" + rgb[y].tobytes() for y in range(h))

    def chunk(tag: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data))
            + tag
            + data
            + struct.pack(">I", zlib.crc32(tag + data) & 0xFFFFFFFF)
        )

    png = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0))
    png += chunk(b"IDAT", zlib.compress(raw, 6)) + chunk(b"IEND", b"")
    Path(path).write_bytes(png)
