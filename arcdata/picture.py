"""Captioned pictures of a task for people (``show --png``): a title, one captioned row per pair,
Sudoku digits on 3x3 boxes, a Maze legend.

The grids are drawn pixel by pixel with numpy (so their geometry is exact and testable) and
matplotlib only sets the text: it is the one dependency that can draw fonts everywhere, kept
optional (the ``plot`` extra) because nothing else in arcdata needs it.
"""

from __future__ import annotations

import math
import textwrap
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from arcdata.errors import ArcdataError
from arcdata.render import ARC_PALETTE, BACKGROUND, MAZE_LABELS, palette_for

DPI = 100
PAD = 12
TITLE_BAND = 58
CAPTION_BAND = 22
LEGEND_BAND = 30
ARROW_GAP = 36
INK = (0.1, 0.1, 0.1)
GIVEN_SHADE = 228
CELL_LINE = 170
BOX_LINE = 20
BOX_LINE_WIDTH = 3
ARC_LINE = 85
SOLVED_DIGIT = tuple(ARC_PALETTE[1] / 255)  # digits a solution adds (the ARC blue)


@dataclass
class PairPicture:
    """One row of the picture: its caption (split, role, pair) and the two grids."""

    caption: str
    input: np.ndarray
    output: np.ndarray


@dataclass
class Placed:
    """Where one grid landed on the canvas (pixels from the top left): for tests and text."""

    x: int
    y: int
    cell: int
    grid: np.ndarray


@dataclass
class Layout:
    width: int
    height: int
    panels: list[Placed] = field(default_factory=list)
    caption_rows: list[int] = field(default_factory=list)
    legend_y: int | None = None


def _box(codec: str, side: int) -> int:
    """Sudoku box side (3 for 9x9, 2 for 4x4); 0 when the codec has no boxes."""
    if not codec.startswith("sudoku"):
        return 0
    root = math.isqrt(side)
    return root if root * root == side else 0


def cell_size(grid: np.ndarray, codec: str) -> int:
    """Big enough to read a digit, small enough that a 30x30 grid stays on screen."""
    longest = max(grid.shape)
    if codec.startswith("sudoku"):
        return max(18, min(40, 300 // longest))
    return max(8, min(24, 360 // longest))


def grid_pixels(grid: np.ndarray, codec: str, cell: int) -> np.ndarray:
    """RGB [h*cell+1, w*cell+1, 3]: cells, thin cell lines, and thick Sudoku box lines."""
    h, w = grid.shape
    if codec.startswith("sudoku"):
        shade = np.where(grid > 0, np.uint8(GIVEN_SHADE), np.uint8(255))
        rgb = np.repeat(shade[..., None], 3, axis=2)
    else:
        rgb = palette_for(codec)[np.minimum(grid, len(palette_for(codec)) - 1)]
    img = np.repeat(np.repeat(rgb, cell, axis=0), cell, axis=1)
    img = np.pad(img, ((0, 1), (0, 1), (0, 0)), constant_values=255)
    line = {"maze": 120}.get(codec, CELL_LINE if codec.startswith("sudoku") else ARC_LINE)
    img[::cell, :, :] = line
    img[:, ::cell, :] = line
    box = _box(codec, h) if h == w else 0
    if box:
        half = BOX_LINE_WIDTH // 2
        for k in range(0, h + 1, box):
            lo, hi = max(0, k * cell - half), min(img.shape[0], k * cell + half + 1)
            img[lo:hi, :, :] = BOX_LINE
            img[:, lo:hi, :] = BOX_LINE
    return img


def layout(pairs: list[PairPicture], codec: str, title_lines: int) -> Layout:
    """Pixel positions of every grid: title band, then per pair a caption and input -> output."""
    title_band = TITLE_BAND + 14 * max(0, title_lines - 2)
    y = title_band
    rows = []
    width = 520
    for p in pairs:
        cells = [cell_size(p.input, codec), cell_size(p.output, codec)]
        cell = min(cells)
        cap_y = y
        y += CAPTION_BAND
        x = PAD
        placed = []
        for g in (p.input, p.output):
            placed.append(Placed(x, y, cell, g))
            x += g.shape[1] * cell + 1 + ARROW_GAP
        width = max(width, x - ARROW_GAP + PAD)
        y += max(g.shape[0] for g in (p.input, p.output)) * cell + 1 + PAD
        rows.append((cap_y, placed))
    out = Layout(width, y, caption_rows=[r[0] for r in rows])
    for _, placed in rows:
        out.panels += placed
    if codec == "maze":
        out.legend_y = y
        out.height = y + LEGEND_BAND
    return out


def _canvas(lay: Layout, codec: str) -> np.ndarray:
    img = np.empty((lay.height, lay.width, 3), np.uint8)
    img[:] = BACKGROUND
    for p in lay.panels:
        px = grid_pixels(p.grid, codec, p.cell)
        img[p.y : p.y + px.shape[0], p.x : p.x + px.shape[1]] = px
    if lay.legend_y is not None:
        for k, _ in enumerate(MAZE_LABELS):
            x = PAD + 90 * k
            y = lay.legend_y + 6
            img[y : y + 14, x : x + 14] = palette_for("maze")[k]
            img[y, x : x + 14] = img[y + 13, x : x + 14] = 60
            img[y : y + 14, x] = img[y : y + 14, x + 13] = 60
    return img


def _matplotlib():
    try:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
    except ImportError:
        raise ArcdataError(
            "show --png needs matplotlib to draw captions and digits: pip install 'arcdata[plot]'"
        ) from None
    return Figure, FigureCanvasAgg


def draw(title: str, subtitle: str, pairs: list[PairPicture], codec: str):
    """The figure (matplotlib, Agg) and its layout; `rgb(fig)` or `fig.savefig` to use it."""
    captions = [p.caption + "   (input \u2192 output)" for p in pairs]
    width = max([layout(pairs, codec, 2).width] + [int(7.5 * len(c)) + 2 * PAD for c in captions])
    sub_lines = textwrap.wrap(subtitle, max(40, int((width - 2 * PAD) / 6.8))) or [""]
    lay = layout(pairs, codec, 1 + len(sub_lines))
    lay.width = width
    fig, text = _figure(lay, codec)

    text(PAD, 8, title, 18, va="top", weight="bold")
    for k, line in enumerate(sub_lines):
        text(PAD, 34 + 14 * k, line, 12, va="top")
    for k, (a, b) in enumerate(_pairs_of(lay.panels)):
        text(PAD, lay.caption_rows[k] + 4, captions[k], 12, va="top", weight="bold")
        mid = b.y + min(a.grid.shape[0] * a.cell, b.grid.shape[0] * b.cell) / 2
        text(b.x - ARROW_GAP / 2, mid, "\u2192", 22, ha="center", va="center")
    if codec.startswith("sudoku"):
        for a, b in _pairs_of(lay.panels):
            _digits(text, a, None)
            _digits(text, b, a.grid)
    if lay.legend_y is not None:
        for k, name in enumerate(MAZE_LABELS):
            text(PAD + 90 * k + 20, lay.legend_y + 13, name, 12, va="center")
    return fig, lay


def _pairs_of(panels: list[Placed]) -> list[tuple[Placed, Placed]]:
    return list(zip(panels[::2], panels[1::2], strict=True))


def _digits(text, panel: Placed, givens: np.ndarray | None) -> None:
    """Digits centred in their cells: givens in ink, digits a solution adds in blue."""
    size = panel.cell * 0.62
    for (r, c), v in np.ndenumerate(panel.grid):
        if v == 0:
            continue
        added = givens is not None and givens.shape == panel.grid.shape and givens[r, c] == 0
        text(
            panel.x + (c + 0.5) * panel.cell,
            panel.y + (r + 0.5) * panel.cell + 1,
            str(int(v)),
            size,
            ha="center",
            va="center",
            color=SOLVED_DIGIT if added else INK,
        )


def rgb(fig) -> np.ndarray:
    """The rendered figure as an RGB array [H, W, 3] (what the PNG file holds)."""
    fig.canvas.draw()
    return np.asarray(fig.canvas.buffer_rgba())[..., :3].copy()


def _figure(lay, codec: str):
    """A figure of the laid-out canvas and a ``text(x, y, s, size, **kw)`` that places text at
    pixel (x, y) from the top left with its size in pixels, so captions line up with cells."""
    Figure, FigureCanvasAgg = _matplotlib()
    fig = Figure(figsize=(lay.width / DPI, lay.height / DPI), dpi=DPI)
    FigureCanvasAgg(fig)
    fig.figimage(_canvas(lay, codec), 0, 0, origin="upper")

    def text(x, y, s, size, **kw):
        fig.text(
            x / lay.width,
            1 - y / lay.height,
            s,
            fontsize=size * 72 / DPI,
            color=kw.pop("color", INK),
            **kw,
        )

    return fig, text


def write_task_png(
    path: str | Path, title: str, subtitle: str, pairs: list[PairPicture], codec: str
) -> None:
    fig, _ = draw(title, subtitle, pairs, codec)
    fig.savefig(path, dpi=DPI)


@dataclass
class Panel:
    """One captioned grid of a strip. ``givens``: Sudoku digits already in the puzzle (drawn in
    ink; the rest in blue); ``good``: colour the caption green (True) or red (False)."""

    caption: str  # lines separated by "\n"
    grid: np.ndarray
    givens: np.ndarray | None = None
    good: bool | None = None


@dataclass
class Strip:
    """A captioned row of panels, e.g. input, the answer after every segment, target."""

    caption: str
    panels: list[Panel]


STRIP_WIDTH = 2400  # pixels before a strip wraps onto another line of panels
PANEL_MIN = 118  # room for a caption line like "12 cells changed"
LINE = 13
GOOD, BAD = (0.1, 0.5, 0.15), (0.75, 0.1, 0.1)


def strip_layout(
    strips: list[Strip], codec: str
) -> tuple[Layout, list[tuple[int, list[int], int]]]:
    """Pixel positions of every panel; per strip its caption row, its panels' caption rows and
    how many panels one line holds."""
    y = TITLE_BAND
    width = 520
    placed: list[Placed] = []
    bands = []
    for s in strips:
        cell = min(cell_size(p.grid, codec) for p in s.panels)
        lines = max(p.caption.count("\n") + 1 for p in s.panels)
        slot = max(PANEL_MIN, max(p.grid.shape[1] for p in s.panels) * cell + 1 + PAD)
        per_line = max(1, (STRIP_WIDTH - PAD) // slot)
        cap_y = y
        y += CAPTION_BAND
        label_rows = []
        for start in range(0, len(s.panels), per_line):
            chunk = s.panels[start : start + per_line]
            label_rows.append(y)
            y += lines * LINE + 4
            for k, p in enumerate(chunk):
                placed.append(Placed(PAD + k * slot, y, cell, p.grid))
            width = max(width, PAD + len(chunk) * slot)
            y += max(p.grid.shape[0] for p in chunk) * cell + 1 + PAD
        bands.append((cap_y, label_rows, per_line))
    lay = Layout(width, y, panels=placed, caption_rows=[b[0] for b in bands])
    return lay, bands


def draw_strips(title: str, strips: list[Strip], codec: str):
    """The figure (matplotlib, Agg) of captioned strips, drawn like ``show --png``'s pairs:
    same palette, cell lines, Sudoku digits and box lines."""
    lay, bands = strip_layout(strips, codec)
    lay.width = max(
        lay.width, max((int(7.5 * len(s.caption)) + 2 * PAD for s in strips), default=0)
    )
    fig, text = _figure(lay, codec)

    text(PAD, 8, title, 18, va="top", weight="bold")
    panels = iter(lay.panels)
    for s, (cap_y, label_rows, per_line) in zip(strips, bands, strict=True):
        text(PAD, cap_y + 4, s.caption, 12, va="top", weight="bold")
        for k, p in enumerate(s.panels):
            at = next(panels)
            row = k // per_line
            colour = INK if p.good is None else (GOOD if p.good else BAD)
            for j, line in enumerate(p.caption.split("\n")):
                text(at.x, label_rows[row] + j * LINE, line, 10.5, va="top", color=colour)
            if codec.startswith("sudoku"):
                _digits(text, at, p.givens)
    return fig, lay


def write_strips_png(path: str | Path, title: str, strips: list[Strip], codec: str) -> None:
    fig, _ = draw_strips(title, strips, codec)
    fig.savefig(path, dpi=DPI)
