"""Grid validation and the token codecs that turn grids into what an HRM consumes.

Grids are stored at their own size (most ARC grids are far smaller than 30x30) and turned into
fixed-length token rows only when a loader asks, by the vectorised :func:`encode_packed`.
Token layouts follow the reference exactly (see ``schemas/README.md``):

* ARC: 30x30 canvas, PAD=0, EOS=1, colour c -> c+2, grid at an offset with an EOS border.
* Sudoku: n*n cells, PAD=0, blank -> 1, digit d -> d+1.
* Maze: 30x30 cells over ``# SGo`` -> 1..5.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from arcdata.errors import InputError

PAD = 0
EOS = 1
ARC_SIDE = 30
MAZE_CHARS = "# SGo"


@dataclass(frozen=True)
class Codec:
    """How a family's grids become tokens: canvas side, value->token shift, EOS border or not."""

    name: str
    side: int
    shift: int
    vocab_size: int
    max_value: int
    eos_border: bool

    @property
    def seq_len(self) -> int:
        return self.side * self.side


ARC = Codec("arc", side=ARC_SIDE, shift=2, vocab_size=12, max_value=9, eos_border=True)
SUDOKU = Codec("sudoku", side=9, shift=1, vocab_size=11, max_value=9, eos_border=False)
MAZE = Codec("maze", side=30, shift=1, vocab_size=6, max_value=4, eos_border=False)
CODECS = {c.name: c for c in (ARC, SUDOKU, MAZE)}


def sudoku_codec(side: int) -> Codec:
    """Sudoku of any size n*n (4x4 for tiny experiments, 9x9 for the benchmark)."""
    if side == 9:
        return SUDOKU
    return Codec(
        f"sudoku{side}", side=side, shift=1, vocab_size=side + 2, max_value=side, eos_border=False
    )


def get_codec(name: str) -> Codec:
    if name in CODECS:
        return CODECS[name]
    if name.startswith("sudoku") and name[6:].isdigit():
        return sudoku_codec(int(name[6:]))
    raise KeyError(f"unknown codec {name!r}; known: {sorted(CODECS)}")


def validate_grid(
    value: object,
    *,
    max_side: int = ARC_SIDE,
    max_value: int = 9,
    file: str | None = None,
    task: str | None = None,
    pair: str | None = None,
    field: str | None = None,
) -> np.ndarray:
    """Check a raw grid (nested lists of ints) and return it as a 2-D uint8 array.

    Rejects anything that is not a rectangular list of lists of integers in 0..max_value with
    1..max_side rows and columns; the error names the file, task, pair and field.
    """

    def fail(msg: str) -> InputError:
        return InputError(msg, file=file, task=task, pair=pair, field=field)

    if not isinstance(value, list) or not value:
        raise fail("grid must be a non-empty list of rows")
    if len(value) > max_side:
        raise fail(f"grid has {len(value)} rows; at most {max_side} allowed")
    width = None
    for r, row in enumerate(value):
        if not isinstance(row, list) or not row:
            raise fail(f"row {r} must be a non-empty list")
        if width is None:
            width = len(row)
        elif len(row) != width:
            raise fail(f"row {r} has {len(row)} cells but row 0 has {width} (ragged grid)")
        for c, v in enumerate(row):
            if type(v) is not int:  # bool and float are not cell values
                raise fail(f"cell ({r}, {c}) is {v!r}, not an integer")
            if not 0 <= v <= max_value:
                raise fail(f"cell ({r}, {c}) is {v}; values must be 0..{max_value}")
    if width > max_side:
        raise fail(f"grid has {width} columns; at most {max_side} allowed")
    return np.asarray(value, dtype=np.uint8)


def encode(codec: Codec, grid: np.ndarray, offset: tuple[int, int] = (0, 0)) -> np.ndarray:
    """One grid to one token row (uint8[seq_len]); the readable reference for encode_packed."""
    h, w = grid.shape
    r, c = offset
    side = codec.side
    if r < 0 or c < 0 or r + h > side or c + w > side:
        raise ValueError(f"grid {h}x{w} at offset {offset} does not fit a {side}x{side} canvas")
    canvas = np.full((side, side), PAD, dtype=np.uint8)
    canvas[r : r + h, c : c + w] = grid.astype(np.uint8) + codec.shift
    if codec.eos_border:
        if r + h < side:
            canvas[r + h, c : c + w] = EOS
        if c + w < side:
            canvas[r : r + h, c + w] = EOS
    return canvas.reshape(-1)


def decode(codec: Codec, tokens: np.ndarray) -> tuple[np.ndarray, tuple[int, int]]:
    """Recover (grid, offset) from a token row written by :func:`encode`.

    The grid is the bounding box of value tokens; it is exact for encoded rows because every
    cell of the grid is a value token and nothing else is.
    """
    canvas = np.asarray(tokens).reshape(codec.side, codec.side)
    mask = canvas >= codec.shift if codec.eos_border else canvas > PAD
    if not mask.any():
        raise ValueError("token row holds no grid cells")
    rows = np.flatnonzero(mask.any(axis=1))
    cols = np.flatnonzero(mask.any(axis=0))
    r0, r1, c0, c1 = rows[0], rows[-1] + 1, cols[0], cols[-1] + 1
    block = canvas[r0:r1, c0:c1]
    if not mask[r0:r1, c0:c1].all():
        raise ValueError("value tokens do not form a rectangle")
    return (block - codec.shift).astype(np.uint8), (int(r0), int(c0))


def crop_prediction(tokens: np.ndarray, side: int = ARC_SIDE, shift: int = 2) -> np.ndarray | None:
    """The largest top-left rectangle of value tokens in a predicted ARC canvas.

    Predictions need not be well formed, so this scans like the reference's evaluator: width
    from the first row's run of colour tokens, then rows while they stay colour over that width.
    ``tokens`` is a flat row or any 2-D window of the canvas (to crop from an offset).
    Returns None when the top-left cell is not a colour.
    """
    tokens = np.asarray(tokens)
    canvas = tokens if tokens.ndim == 2 else tokens.reshape(side, side)
    colour = canvas >= shift
    if not colour.size or not colour[0, 0]:
        return None
    first_row = colour[0]
    width = int(np.argmin(first_row)) if not first_row.all() else canvas.shape[1]
    rows_ok = colour[:, :width].all(axis=1)
    height = int(np.argmin(rows_ok)) if not rows_ok.all() else canvas.shape[0]
    return (canvas[:height, :width] - shift).astype(np.uint8)


def encode_packed(
    codec: Codec,
    values: np.ndarray,
    starts: np.ndarray,
    heights: np.ndarray,
    widths: np.ndarray,
    rows: np.ndarray | None = None,
    cols: np.ndarray | None = None,
) -> np.ndarray:
    """Many grids, packed end to end in ``values``, to a [N, seq_len] uint8 token array at once.

    ``starts[i]`` is where grid i begins in ``values``; (rows, cols) its offset on the canvas.
    One fancy-indexed scatter replaces a Python loop per grid, which is what lets the stream
    deliver hundreds of thousands of examples a second.
    """
    n = len(starts)
    side = codec.side
    heights = heights.astype(np.int64)
    widths = widths.astype(np.int64)
    rows = np.zeros(n, np.int64) if rows is None else rows.astype(np.int64)
    cols = np.zeros(n, np.int64) if cols is None else cols.astype(np.int64)
    out = np.zeros((n, side * side), dtype=np.uint8)
    sizes = heights * widths
    owner, within = _expand(np.arange(n), sizes)
    if owner.size:
        w_o = widths[owner]
        pos = (rows[owner] + within // w_o) * side + cols[owner] + within % w_o
        src = starts.astype(np.int64)[owner] + within
        out[owner, pos] = values[src] + codec.shift
    if codec.eos_border:
        _draw_eos(out, side, heights, widths, rows, cols)
    return out


def _expand(items: np.ndarray, lengths: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each item repeated ``lengths`` times, with the position 0..length-1 inside its run."""
    owner = np.repeat(items, lengths)
    ends = np.cumsum(lengths)
    within = np.arange(ends[-1] if len(ends) else 0) - np.repeat(ends - lengths, lengths)
    return owner, within


def _draw_eos(out, side, heights, widths, rows, cols) -> None:
    """EOS on the row under each grid and the column right of it (never the corner)."""
    below, right = rows + heights, cols + widths
    owner, within = _expand(np.flatnonzero(below < side), widths[below < side])
    out[owner, below[owner] * side + cols[owner] + within] = EOS
    owner, within = _expand(np.flatnonzero(right < side), heights[right < side])
    out[owner, (rows[owner] + within) * side + right[owner]] = EOS
