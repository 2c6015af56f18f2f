"""Captioned pictures: the pixels show digits, box lines, a caption and a maze legend."""

from __future__ import annotations

import sys

import numpy as np
import pytest

from arcdata.errors import ArcdataError
from arcdata.picture import BOX_LINE_WIDTH, PAD, TITLE_BAND, PairPicture, draw, rgb
from arcdata.render import MAZE_PALETTE

pytest.importorskip("matplotlib")


def sudoku_pair() -> PairPicture:
    puzzle = np.zeros((9, 9), np.uint8)
    puzzle[0, 0], puzzle[4, 4], puzzle[8, 2] = 5, 8, 1
    solution = np.arange(81, dtype=np.uint8).reshape(9, 9) % 9 + 1
    return PairPicture("split train · demonstration pair 0", puzzle, solution)


def cell_interior(img, panel, r, c) -> np.ndarray:
    """The pixels of cell (r, c) well inside its lines."""
    m = max(BOX_LINE_WIDTH, 2)
    y, x = panel.y + r * panel.cell, panel.x + c * panel.cell
    return img[y + m : y + panel.cell - m + 1, x + m : x + panel.cell - m + 1].astype(int)


@pytest.fixture(scope="module")
def sudoku_picture():
    fig, lay = draw("task s · version 1", "transform: dihedral 0", [sudoku_pair()], "sudoku9")
    return rgb(fig), lay


def test_sudoku_digits_are_drawn(sudoku_picture):
    img, lay = sudoku_picture
    puzzle = lay.panels[0]
    given, empty = cell_interior(img, puzzle, 0, 0), cell_interior(img, puzzle, 0, 1)
    assert given.min() < 100  # ink of the digit
    assert empty.min() > 200 and np.ptp(empty) == 0  # an empty cell is plain
    # different digits draw differently (not just a shaded square)
    five, eight = cell_interior(img, puzzle, 0, 0), cell_interior(img, puzzle, 4, 4)
    assert np.abs(five - eight).sum() > 0
    # every cell of the solution holds a digit
    solution = lay.panels[1]
    assert all(cell_interior(img, solution, r, c).min() < 150 for r in range(9) for c in range(9))


def test_sudoku_box_lines_are_thicker_and_darker(sudoku_picture):
    img, lay = sudoku_picture
    p = lay.panels[0]
    rows = slice(p.y + 5, p.y + 9 * p.cell - 5)

    def dark_columns(k: int) -> int:
        x = p.x + k * p.cell
        return int((img[rows, x - 3 : x + 4].mean(axis=(0, 2)) < 100).sum())

    def darkness(k: int) -> float:
        return float(img[rows, p.x + k * p.cell].mean())

    assert dark_columns(3) >= BOX_LINE_WIDTH and dark_columns(1) == 0
    assert darkness(3) < darkness(1) - 50 and darkness(6) < darkness(4) - 50


def test_caption_band_is_not_blank(sudoku_picture):
    img, lay = sudoku_picture
    title = img[:TITLE_BAND, :, :]
    assert (title.min(axis=2) < 128).sum() > 200  # dark text in the title band
    cap = img[lay.caption_rows[0] : lay.panels[0].y - 1, PAD:]
    assert (cap.min(axis=2) < 128).sum() > 100  # the pair's caption


def test_blank_caption_would_be_caught():
    fig, lay = draw("", "", [sudoku_pair()], "sudoku9")
    img = rgb(fig)
    assert (img[:TITLE_BAND].min(axis=2) < 128).sum() < 20


def test_maze_has_a_legend():
    grid = np.ones((6, 6), np.uint8)
    grid[0], grid[1, 1], grid[4, 4] = 0, 2, 3
    answer = grid.copy()
    answer[2, 1:5] = 4
    fig, lay = draw("maze", "", [PairPicture("split train", grid, answer)], "maze")
    img = rgb(fig)
    assert lay.legend_y is not None
    band = img[lay.legend_y : lay.height].reshape(-1, 3)
    for colour in MAZE_PALETTE:
        assert (band == colour).all(axis=1).sum() >= 100, colour  # a swatch of each value
    labels = img[lay.legend_y : lay.height, PAD + 20 : PAD + 60]
    assert (labels.min(axis=2) < 128).sum() > 20  # its name beside it


def test_arc_grids_use_the_arc_palette():
    from arcdata.render import ARC_PALETTE

    grid = np.arange(10, dtype=np.uint8).reshape(2, 5)
    fig, lay = draw("arc", "", [PairPicture("x", grid, grid)], "arc")
    img = rgb(fig)
    p = lay.panels[0]
    for v in range(10):
        r, c = divmod(v, 5)
        assert (cell_interior(img, p, r, c) == ARC_PALETTE[v]).all()


def test_missing_matplotlib_is_a_one_line_error(monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib.figure", None)
    with pytest.raises(ArcdataError, match=r"pip install 'arcdata\[plot\]'"):
        draw("t", "", [sudoku_pair()], "sudoku9")
