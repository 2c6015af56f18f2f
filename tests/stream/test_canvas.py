"""The fast row encoder equals arcdata.grids.encode; the vectorised decoder inverts it."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from arcdata.grids import ARC, MAZE, encode, get_codec
from arcdata.stream.canvas import MARGIN, Canvas, decode_rows, with_margin
from tests.conftest import shared_data

CODECS = [ARC, MAZE, get_codec("sudoku"), get_codec("sudoku4")]


@st.composite
def placed_batch(draw):
    """A codec and 1..6 grids with shapes, offsets and values valid for it."""
    codec = draw(st.sampled_from(CODECS))
    side = codec.side
    grids = []
    for _ in range(draw(st.integers(1, 6))):
        if codec.eos_border:
            h, w = draw(st.integers(1, side)), draw(st.integers(1, side))
            r, c = draw(st.integers(0, side - h)), draw(st.integers(0, side - w))
        else:  # Sudoku and Maze grids fill the canvas
            h = w = side
            r = c = 0
        cells = draw(st.binary(min_size=h * w, max_size=h * w))
        values = np.frombuffer(cells, np.uint8) % (codec.max_value + 1)
        grids.append((values.reshape(h, w), (r, c)))
    return codec, grids


def encode_all(canvas: Canvas, grids) -> np.ndarray:
    cells = np.concatenate([g.ravel() for g, _ in grids])
    sizes = np.array([g.size for g, _ in grids])
    starts = np.cumsum(sizes) - sizes + MARGIN
    shapes = np.array([g.shape for g, _ in grids], dtype=np.uint8)
    offsets = np.array([o for _, o in grids], dtype=np.uint8)
    out = np.zeros((len(grids), canvas.codec.seq_len), np.uint8)
    windows = canvas.windows(with_margin(cells))
    return canvas.encode(
        windows, starts, shapes[:, 0], shapes[:, 1], offsets[:, 0], offsets[:, 1], out
    )


@settings(max_examples=150, deadline=None)
@given(placed_batch())
def test_row_encoder_matches_reference_encode(batch):
    codec, grids = batch
    canvas = Canvas.of(codec)
    tokens = encode_all(canvas, grids)
    for row, (grid, offset) in zip(tokens, grids, strict=True):
        np.testing.assert_array_equal(row, encode(codec, grid, offset))


@settings(max_examples=150, deadline=None)
@given(placed_batch())
def test_decode_rows_inverts_encode(batch):
    codec, grids = batch
    canvas = Canvas.of(codec)
    tokens = encode_all(canvas, grids)
    dec, ok = decode_rows(canvas, tokens)
    assert ok.all()
    for i, (grid, (r, c)) in enumerate(grids):
        h, w = grid.shape
        assert (dec.heights[i], dec.widths[i], dec.rows[i], dec.cols[i]) == (h, w, r, c)
        got = dec.cells[dec.starts[i] : dec.starts[i] + h * w].reshape(h, w)
        np.testing.assert_array_equal(got, grid)


@settings(max_examples=100, deadline=None)
@given(placed_batch(), st.integers(0, 10**6), st.integers(0, 255))
def test_decode_rows_flags_any_damaged_row(batch, where, value):
    codec, grids = batch
    canvas = Canvas.of(codec)
    tokens = encode_all(canvas, grids)
    damaged = tokens.copy()
    row, pos = divmod(where % damaged.size, codec.seq_len)
    damaged[row, pos] = value % (codec.vocab_size + 1)  # may be out of vocabulary too
    dec, ok = decode_rows(canvas, damaged)
    changed = (damaged != tokens).any(axis=1)
    assert ok[~changed].all()
    # A row passes only when the reference encoder gives back exactly its tokens.
    for i in np.flatnonzero(ok):
        h, w = int(dec.heights[i]), int(dec.widths[i])
        grid = dec.cells[dec.starts[i] : dec.starts[i] + h * w].reshape(h, w)
        offset = (int(dec.rows[i]), int(dec.cols[i]))
        np.testing.assert_array_equal(encode(codec, grid, offset), damaged[i])


def test_decode_rows_rejects_empty_and_ragged_rows():
    canvas = Canvas.of(ARC)
    empty = np.zeros((1, 900), np.uint8)
    ragged = encode(ARC, np.ones((3, 3), np.uint8)).reshape(1, 900).copy()
    ragged[0, 2] = 1  # a cell of the grid replaced by EOS
    _, ok = decode_rows(canvas, np.concatenate([empty, ragged]))
    assert not ok.any()


def test_reference_golden_codec_tokens():
    z = np.load(shared_data("reference-golden", "arc_codec.npz"))
    canvas = Canvas.of(ARC)
    for kind in ("input", "output"):
        shapes = z[f"{kind}_shapes"]
        grids = [
            (z[f"{kind}_grids"][i][:h, :w], tuple(int(v) for v in z["offsets"][i]))
            for i, (h, w) in enumerate(shapes)
        ]
        np.testing.assert_array_equal(encode_all(canvas, grids), z[f"{kind}_tokens"])
        dec, ok = decode_rows(canvas, z[f"{kind}_tokens"])
        assert ok.all()
        np.testing.assert_array_equal(dec.heights, shapes[:, 0])


def test_padding_rows_stay_pad():
    canvas = Canvas.of(ARC)
    out = np.zeros((2, 900), np.uint8)
    windows = canvas.windows(with_margin(np.ones(4, np.uint8)))
    z = np.zeros(2, np.uint8)
    canvas.encode(windows, np.full(2, MARGIN), np.array([2, 0]), np.array([2, 0]), z, z, out)
    assert out[1].max() == 0 and out[0].max() == 3


def test_canvas_rejects_sides_beyond_margin():
    with pytest.raises(ValueError, match="margin"):
        Canvas.of(get_codec(f"sudoku{MARGIN + 1}"))
