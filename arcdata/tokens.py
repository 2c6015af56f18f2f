"""Every token layout arcdata writes or reads: constants, codecs, the batch encoder, crops.

Grids are stored at their own size (most ARC grids are far smaller than 30x30) and become
fixed-length token rows only when a loader or exporter asks. Layouts follow the reference
exactly (see ``schemas/README.md``):

* ARC: 30x30 canvas, PAD=0, EOS=1, colour c -> c+2, the grid at an offset with an EOS border
  (the row under the grid and the column right of it, never the corner);
* Sudoku: n*n cells, PAD=0, blank -> 1, digit d -> d+1;
* Maze: 30x30 cells over ``# SGo`` -> 1..5.

Labels are the output's tokens with PAD replaced by :data:`IGNORE_LABEL`.

There is one encoder, :class:`Canvas`, vectorised over a whole batch; :func:`encode` (one
grid) and :func:`encode_batch` (packed grids) are thin calls into it. It works one *grid row*
at a time rather than one cell:

* the packed cells live in one flat uint8 array with a zero margin on both sides, seen as
  overlapping ``side``-byte void items (stride 1); fancy-indexing that view copies, for each
  grid row, the ``side`` bytes starting ``c`` cells before it (one memcpy per grid row);
* a small lookup table keyed by ``(c, w)`` turns such a window into the full canvas row with
  one ``maximum`` (see :class:`Canvas`): the grid's cells stay, the rest becomes PAD, EOS right
  of the grid; a second table gives the EOS row under the grid;
* the canvas rows are scattered into ``out`` viewed as ``[n * side, side]``, and the shift is
  added to the whole canvas at once.

Only per-grid-row work is index arithmetic (~13 grid rows per ARC grid): about a millisecond
per 768 ARC examples, paid once per dataset (the stream caches the encoded rows, exporters write
them). :func:`decode_rows` is the vectorised inverse used by importers.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field

import numpy as np

PAD = 0
EOS = 1
IGNORE_LABEL = -100
"""Label value of cells the loss skips (the reference's and torch's ``ignore_index``)."""
ARC_SIDE = 30
MAZE_CHARS = "# SGo"
"""Maze cell values are indices into this string (wall, open, start, goal, path)."""
MARGIN = 64
"""Zero bytes before and after packed cells, so every window ``[start - c, start - c + side)``
stays inside the array (side <= MARGIN)."""


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
MAZE = Codec(
    "maze", side=30, shift=1, vocab_size=6, max_value=len(MAZE_CHARS) - 1, eos_border=False
)
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


# ----------------------------------------------------------------------------- the encoder


def with_margin(cells: np.ndarray) -> np.ndarray:
    """Packed cells with MARGIN zero bytes on both sides (positions shift by MARGIN)."""
    out = np.zeros(len(cells) + 2 * MARGIN, dtype=np.uint8)
    out[MARGIN : MARGIN + len(cells)] = cells
    return out


@dataclass(frozen=True)
class Canvas:
    """A codec's canvas with the lookup tables the row encoder needs (one per codec and pad
    value, cached).

    ``pad`` is the byte written where the layout has PAD: 0 for inputs, and for labels the
    byte of IGNORE_LABEL (156, which is -100 read as int8), so labels come out of the encoder
    directly instead of through a second pass over the canvas.

    The encoder works in bytes minus ``shift`` (mod 256) and adds ``shift`` to the whole canvas
    last. There the grid's cells are their plain values (0..max_value) and every byte around
    them (PAD or EOS minus shift) is larger than any value, so a single ``maximum`` with one
    table row turns a window of stored cells (the grid row plus neighbouring cells) into its
    canvas row: the cells stay, everything else becomes the background.
    """

    codec: Codec
    pad: int
    floor: np.ndarray = field(repr=False)  # uint8 [(S+1)^2, S]: 0 on the grid, background else
    under: np.ndarray = field(repr=False)  # uint8 [(S+1)^2, S]: the row below the grid
    background: int = 0  # the pad byte minus shift

    @classmethod
    def of(cls, codec: Codec, pad: int = PAD) -> Canvas:
        return _canvas(codec, pad % 256)

    @classmethod
    def labels(cls, codec: Codec) -> Canvas:
        """The canvas that writes labels: the layout with PAD cells read as IGNORE_LABEL."""
        return _canvas(codec, IGNORE_LABEL % 256)

    def __reduce__(self):
        return (Canvas.of, (self.codec, self.pad))  # tables are rebuilt, not shipped to workers

    @property
    def side(self) -> int:
        return self.codec.side

    def windows(self, cells_with_margin: np.ndarray) -> np.ndarray:
        """Every ``side``-byte window of the cells as one item of a 1-D void array (no copy).

        Items overlap (stride 1 byte), so fancy indexing copies one ``side``-byte item per grid
        row, the cheapest gather numpy offers. Never pass this to ``np.take``, which would first
        make it contiguous (``side`` times the cells' size).
        """
        cells = np.ascontiguousarray(cells_with_margin, dtype=np.uint8)
        count = max(len(cells) - self.side + 1, 0)
        return np.ndarray((count,), dtype=f"V{self.side}", buffer=cells, strides=(1,))

    def encode(
        self,
        windows: np.ndarray,
        starts: np.ndarray,
        heights: np.ndarray,
        widths: np.ndarray,
        rows: np.ndarray,
        cols: np.ndarray,
        out: np.ndarray,
    ) -> np.ndarray:
        """Write the token rows of n grids into ``out`` (uint8 [n, side*side]; overwritten).

        ``windows`` comes from :meth:`windows` over cells in 0..max_value; ``starts`` index the
        margin-shifted cell array behind it. A grid of height 0 leaves its row all PAD: that
        is a padding row.
        """
        side = self.side
        n = len(starts)
        h = heights.astype(np.intp)
        w = widths.astype(np.intp)
        r = rows.astype(np.intp)
        c = cols.astype(np.intp)
        key = c * (side + 1) + w
        first = np.cumsum(h) - h  # first grid row of each grid among all grid rows
        j = np.arange(int(h.sum()), dtype=np.intp)
        # Grid row j - first of its grid: the window starting c cells before it, and its
        # place among the [n * side] canvas rows of ``out``.
        src = np.repeat(starts.astype(np.intp) - c - first * w, h) + j * np.repeat(w, h)
        row0 = np.arange(0, n * side, side, dtype=np.intp) + r
        dst = np.repeat(row0 - first, h) + j
        seg = windows[src].view(np.uint8).reshape(-1, side)
        # One table row per grid, repeated per grid row: fewer items than one gather per row.
        floor = np.repeat(self._rows(self.floor)[key], h).view(np.uint8).reshape(-1, side)
        np.maximum(seg, floor, out=seg)
        out.fill(self.background)
        canvas_rows = self._rows(out.reshape(n * side, side))
        canvas_rows[dst] = self._rows(seg)
        if self.codec.eos_border:
            has = (r + h < side) & (h > 0)
            canvas_rows[(row0 + h)[has]] = self._rows(self.under)[key[has]]
        out += np.uint8(self.codec.shift)  # wraps mod 256: background back to PAD / EOS
        return out

    def _rows(self, table: np.ndarray) -> np.ndarray:
        """A C-contiguous uint8 [K, side] array as K void items of ``side`` bytes (no copy)."""
        return table.view(f"V{self.side}").reshape(-1)


@functools.cache
def _canvas(codec: Codec, pad: int) -> Canvas:
    side = codec.side
    if side > MARGIN:
        raise ValueError(f"canvas side {side} exceeds the cell margin {MARGIN}")
    background, eos = (pad - codec.shift) % 256, (EOS - codec.shift) % 256
    if min(background, eos if codec.eos_border else 255) <= codec.max_value:
        raise ValueError(f"pad byte {pad} collides with the {codec.name} values")
    c = np.arange(side + 1)[:, None, None]
    w = np.arange(side + 1)[None, :, None]
    j = np.arange(side)[None, None, :]
    inside = (j >= c) & (j < c + w)
    floor = np.where(inside, 0, background)
    under = np.full_like(floor, background)
    if codec.eos_border:
        floor = np.where(j == c + w, eos, floor)
        under = np.where(inside, eos, background)
    shape = (-1, side)
    return Canvas(
        codec,
        pad,
        floor=floor.astype(np.uint8).reshape(shape),
        under=under.astype(np.uint8).reshape(shape),
        background=background,
    )


def encode_batch(
    codec: Codec,
    cells: np.ndarray,
    starts: np.ndarray,
    heights: np.ndarray,
    widths: np.ndarray,
    rows: np.ndarray | None = None,
    cols: np.ndarray | None = None,
) -> np.ndarray:
    """Many grids, packed end to end in ``cells``, to a uint8 [n, seq_len] token array.

    ``starts[i]`` is where grid i begins in ``cells``; (rows, cols) its offset on the canvas
    (default 0, 0). Grids must fit the canvas at their offsets.
    """
    canvas = Canvas.of(codec)
    n = len(starts)
    zeros = np.zeros(n, np.intp)
    rows = zeros if rows is None else np.asarray(rows).astype(np.intp)
    cols = zeros if cols is None else np.asarray(cols).astype(np.intp)
    heights, widths = np.asarray(heights).astype(np.intp), np.asarray(widths).astype(np.intp)
    side = codec.side
    bad = (rows < 0) | (cols < 0) | (rows + heights > side) | (cols + widths > side)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise ValueError(
            f"grid {heights[i]}x{widths[i]} at offset ({rows[i]}, {cols[i]}) does not fit a "
            f"{side}x{side} canvas"
        )
    out = np.empty((n, codec.seq_len), np.uint8)
    windows = canvas.windows(with_margin(np.asarray(cells, dtype=np.uint8)))
    starts = np.asarray(starts, dtype=np.intp) + MARGIN
    return canvas.encode(windows, starts, heights, widths, rows, cols, out)


def encode(codec: Codec, grid: np.ndarray, offset: tuple[int, int] = (0, 0)) -> np.ndarray:
    """One grid to one token row (uint8 [seq_len])."""
    grid = np.asarray(grid)
    h, w = grid.shape
    return encode_batch(codec, grid.ravel(), [0], [h], [w], [offset[0]], [offset[1]])[0]


# ----------------------------------------------------------------------------- decoding


@dataclass
class Decoded:
    """Grids recovered from token rows: packed cells plus per-row shape and offset."""

    cells: np.ndarray  # uint8 [sum(h*w)]
    starts: np.ndarray  # int64 [n] into cells
    heights: np.ndarray  # uint8 [n]
    widths: np.ndarray  # uint8 [n]
    rows: np.ndarray  # uint8 [n]
    cols: np.ndarray  # uint8 [n]

    def grid(self, i: int) -> np.ndarray:
        h, w = int(self.heights[i]), int(self.widths[i])
        return self.cells[self.starts[i] : self.starts[i] + h * w].reshape(h, w)


DECODE_BLOCK = 512
"""Rows decoded per step: ~0.5 MB of ARC tokens, so every pass stays in a core's L2 cache
(numpy's byte loops run about 4x slower once their operands spill to memory)."""


def decode_rows(canvas: Canvas, tokens: np.ndarray) -> tuple[Decoded, np.ndarray]:
    """Recover grids and offsets from [n, side*side] token rows, all at once.

    Returns the decoded grids and a bool [n] that is False for rows that are not exactly what
    the encoder writes for some grid (no cells, a non-rectangular block, a wrong EOS border,
    stray or out-of-vocabulary tokens); callers report those rows (their grids are empty).

    A row's first cell in reading order is its grid's corner (the offset), the cells in that
    canvas row its width, the cell count over the width its height; the row is exact iff every token lies in the range the encoder allows at its
    position (:func:`_token_bounds`: PAD or EOS exactly, a cell value on the grid), a check
    that needs no re-encoding. Rows use PAD 0 (inputs, or labels as the npy layout stores
    them), not the IGNORE_LABEL padding of ``Canvas.labels``.
    """
    if canvas.pad != PAD:
        raise ValueError("decode_rows reads rows padded with PAD (use Canvas.of(codec))")
    codec = canvas.codec
    tokens = np.asarray(tokens)
    blocks = range(0, max(len(tokens), 1), DECODE_BLOCK)
    parts = [
        _decode_block(codec, np.ascontiguousarray(tokens[lo : lo + DECODE_BLOCK], np.uint8))
        for lo in blocks
    ]
    cells, sizes, heights, widths, rows, cols, ok = (
        np.concatenate(p) for p in zip(*parts, strict=True)
    )
    sizes = sizes.astype(np.int64)
    return Decoded(cells, np.cumsum(sizes) - sizes, heights, widths, rows, cols), ok


def _decode_block(codec: Codec, tokens: np.ndarray) -> tuple[np.ndarray, ...]:
    side, length = codec.side, codec.seq_len
    n = len(tokens)
    tokens = tokens.reshape(n, length)
    cell = tokens >= np.full(length, codec.shift, np.uint8)  # an array operand: scalars skip SIMD
    first = cell.argmax(axis=1)
    r, c = np.divmod(first, side)
    w = cell.reshape(n * side, side)[np.arange(n) * side + r].sum(axis=1)  # cells in row r
    count = _count_true(cell)
    h = np.minimum(count // np.maximum(w, 1), side - r)
    lowest, span = _token_bounds(codec)
    key = _bounds_key(side, h, w, r + h < side, c + w < side)
    at = key * (2 * length) + length - first  # the grid's pattern shifted to (r, c)
    low = _byte_windows(lowest, length)[at].view(np.uint8).reshape(n, length)
    allowed = _byte_windows(span, length)[at].view(np.uint8).reshape(n, length)
    above = np.subtract(tokens, low, out=low)  # wraps below the lowest, so fails the test
    ok = (above <= allowed).all(axis=1) & (h > 0) & (w > 0) & (h * w == count)
    if not ok.all():
        cell &= ok[:, None]
    sizes = np.where(ok, h * w, 0)
    cells = tokens[cell] - np.uint8(codec.shift)
    shape = (np.where(ok, v, 0).astype(np.uint8) for v in (h, w, r, c))
    return (cells, sizes, *shape, ok)


def _count_true(mask: np.ndarray) -> np.ndarray:
    """True entries per row of a bool [n, L] array. Where L is a multiple of 4 (ARC, Maze), the
    rows are summed as uint32 words, each byte lane counting separately (at most L/4 < 256 per
    lane), several times faster than counting bytes."""
    n, length = mask.shape
    if length % 4 or length // 4 > 255:
        return mask.sum(axis=1)
    lanes = mask.view(np.uint32).sum(axis=1, dtype=np.uint32)
    return (lanes & 255) + ((lanes >> 8) & 255) + ((lanes >> 16) & 255) + (lanes >> 24)


def _bounds_key(side: int, h, w, eos_row, eos_col):
    return ((h * (side + 1) + w) * 2 + eos_row) * 2 + eos_col


def _byte_windows(flat: np.ndarray, length: int) -> np.ndarray:
    """Every ``length``-byte window of ``flat`` as one void item (no copy; see ``windows``)."""
    return np.ndarray((len(flat) - length + 1,), dtype=f"V{length}", buffer=flat, strides=(1,))


@functools.cache
def _token_bounds(codec: Codec) -> tuple[np.ndarray, np.ndarray]:
    """Per (h, w, EOS row below?, EOS column right?): the lowest token the encoder writes at
    each position of a grid at (0, 0), and how far above it a token may be (the cell values).
    Each pattern is preceded by seq_len zeros (PAD), so shifting it to (r, c) is a window."""
    side, length = codec.side, codec.seq_len
    keys = (side + 1) * (side + 1) * 4
    lowest = np.zeros((keys, 2 * length), np.uint8)
    span = np.zeros((keys, 2 * length), np.uint8)
    low_grid = lowest[:, length:].reshape(keys, side, side)
    span_grid = span[:, length:].reshape(keys, side, side)
    for h in range(1, side + 1):
        for w in range(1, side + 1):
            for eos_row in (0, 1):
                for eos_col in (0, 1):
                    k = _bounds_key(side, h, w, eos_row, eos_col)
                    low_grid[k, :h, :w] = codec.shift
                    span_grid[k, :h, :w] = codec.vocab_size - 1 - codec.shift
                    if codec.eos_border and eos_row and h < side:
                        low_grid[k, h, :w] = EOS
                    if codec.eos_border and eos_col and w < side:
                        low_grid[k, :h, w] = EOS
    return lowest.reshape(-1), span.reshape(-1)


def decode(codec: Codec, tokens: np.ndarray) -> tuple[np.ndarray, tuple[int, int]]:
    """(grid, offset) of one token row written by the encoder; ValueError if it is not one."""
    row = np.asarray(tokens).reshape(1, codec.seq_len)
    if row.min() < 0 or row.max() >= codec.vocab_size:
        raise ValueError(f"token row has values outside the {codec.name} vocabulary")
    dec, ok = decode_rows(Canvas.of(codec), row)
    if not ok[0]:
        raise ValueError(f"token row is not a well-formed {codec.name} grid")
    return dec.grid(0).copy(), (int(dec.rows[0]), int(dec.cols[0]))


# ----------------------------------------------------------------------------- predictions


def crop(codec: Codec, tokens: np.ndarray, offset: tuple[int, int] = (0, 0)) -> np.ndarray | None:
    """The grid a predicted ARC-style canvas draws at ``offset`` (None when it draws none).

    Predictions need not be well formed, so this scans like the reference's evaluator: width
    from the first row's run of value tokens, then rows while they stay value tokens over that
    width. ``tokens``: a flat row of ``seq_len`` tokens or the [side, side] canvas.
    """
    canvas = np.asarray(tokens).reshape(codec.side, codec.side)[offset[0] :, offset[1] :]
    value = canvas >= codec.shift
    if not value.size or not value[0, 0]:
        return None
    first_row = value[0]
    width = int(np.argmin(first_row)) if not first_row.all() else canvas.shape[1]
    rows_ok = value[:, :width].all(axis=1)
    height = int(np.argmin(rows_ok)) if not rows_ok.all() else canvas.shape[0]
    return (canvas[:height, :width] - codec.shift).astype(np.uint8)


def token_values(codec: Codec, tokens: np.ndarray) -> np.ndarray:
    """Predicted canvases as cell values, tokens outside the values clipped.

    ``tokens``: [..., seq_len] rows or [..., side, side] canvases; returns [..., side, side].
    For layouts without a border (Sudoku, Maze) every cell is part of the grid, so this is the
    prediction; PAD and EOS read as value 0.
    """
    tokens = np.asarray(tokens)
    if tokens.shape[-1] == codec.seq_len:
        tokens = tokens.reshape(tokens.shape[:-1] + (codec.side, codec.side))
    return (tokens.astype(np.int16) - codec.shift).clip(0, codec.max_value).astype(np.uint8)
