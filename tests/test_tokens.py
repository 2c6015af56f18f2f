"""Token layouts: the one encoder against a readable oracle and the reference's golden tokens,
round trips for every codec, the vectorised decoder, labels and prediction crops."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from arcdata.tokens import (
    ARC,
    EOS,
    IGNORE_LABEL,
    MARGIN,
    MAZE,
    PAD,
    SUDOKU,
    Canvas,
    crop,
    decode,
    decode_rows,
    encode,
    encode_batch,
    get_codec,
    token_values,
    with_margin,
)
from tests.conftest import shared_data

CODECS = [ARC, MAZE, SUDOKU, get_codec("sudoku4")]


def oracle(codec, grid: np.ndarray, offset=(0, 0)) -> np.ndarray:
    """The layout written out cell by cell, as the reference describes it (the test's oracle)."""
    side = codec.side
    canvas = np.full((side, side), PAD, dtype=np.uint8)
    r0, c0 = offset
    h, w = grid.shape
    for i in range(h):
        for j in range(w):
            canvas[r0 + i, c0 + j] = grid[i, j] + codec.shift
    if codec.eos_border:
        for j in range(w):
            if r0 + h < side:
                canvas[r0 + h, c0 + j] = EOS
        for i in range(h):
            if c0 + w < side:
                canvas[r0 + i, c0 + w] = EOS
    return canvas.reshape(-1)


@st.composite
def placed_grids(draw, max_side=30):
    h = draw(st.integers(1, max_side))
    w = draw(st.integers(1, max_side))
    r = draw(st.integers(0, 30 - h))
    c = draw(st.integers(0, 30 - w))
    values = draw(st.lists(st.integers(0, 9), min_size=h * w, max_size=h * w))
    return np.array(values, dtype=np.uint8).reshape(h, w), (r, c)


@st.composite
def placed_batch(draw, codecs=tuple(CODECS)):
    """A codec and 1..6 grids with shapes, offsets and values valid for it."""
    codec = draw(st.sampled_from(codecs))
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
    """The stream's call: margin-shifted starts into one window view."""
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


# ----------------------------------------------------------------------------- the reference


def test_arc_codec_matches_reference_tokens():
    z = np.load(shared_data("reference-golden", "arc_codec.npz"))
    for i in range(len(z["offsets"])):
        offset = tuple(int(v) for v in z["offsets"][i])
        for kind in ("input", "output"):
            h, w = z[f"{kind}_shapes"][i]
            grid = z[f"{kind}_grids"][i][:h, :w]
            tokens = encode(ARC, grid, offset)
            np.testing.assert_array_equal(tokens, z[f"{kind}_tokens"][i])
            np.testing.assert_array_equal(oracle(ARC, grid, offset), z[f"{kind}_tokens"][i])
            back, where = decode(ARC, z[f"{kind}_tokens"][i])
            np.testing.assert_array_equal(back, grid)
            assert where == offset


def test_reference_golden_codec_tokens_in_one_batch():
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


@given(placed_grids())
def test_eos_border_exactly_as_reference(placed):
    grid, (r, c) = placed
    h, w = grid.shape
    canvas = encode(ARC, grid, (r, c)).reshape(30, 30)
    expected_eos = set()
    if r + h < 30:
        expected_eos |= {(r + h, j) for j in range(c, c + w)}
    if c + w < 30:
        expected_eos |= {(i, c + w) for i in range(r, r + h)}
    assert set(zip(*np.nonzero(canvas == 1), strict=True)) == expected_eos
    assert (canvas == 0).sum() == 900 - h * w - len(expected_eos)


@given(st.lists(st.integers(0, 9), min_size=81, max_size=81))
def test_sudoku_tokens(values):
    grid = np.array(values, dtype=np.uint8).reshape(9, 9)
    tokens = encode(SUDOKU, grid)
    np.testing.assert_array_equal(tokens, grid.ravel() + 1)
    np.testing.assert_array_equal(decode(SUDOKU, tokens)[0], grid)


def test_maze_tokens():
    grid = np.array([[0, 1, 2, 3, 4]] * 30 + [[0] * 5] * 0, dtype=np.uint8)
    full = np.zeros((30, 30), np.uint8)
    full[:, :5] = grid
    tokens = encode(MAZE, full)
    assert set(np.unique(tokens)) == {1, 2, 3, 4, 5}


# ----------------------------------------------------------------------------- round trips


@given(placed_grids())
def test_arc_round_trip_any_size_and_offset(placed):
    grid, offset = placed
    tokens = encode(ARC, grid, offset)
    assert tokens.shape == (900,) and tokens.dtype == np.uint8
    back, where = decode(ARC, tokens)
    np.testing.assert_array_equal(back, grid)
    assert where == offset


@settings(max_examples=60, deadline=None)
@given(placed_batch(codecs=(MAZE, SUDOKU, get_codec("sudoku4"), get_codec("sudoku16"))))
def test_round_trip_every_fixed_canvas_codec(batch):
    codec, grids = batch
    for grid, offset in grids:
        tokens = encode(codec, grid, offset)
        assert tokens.shape == (codec.seq_len,) and tokens.max() < codec.vocab_size
        back, where = decode(codec, tokens)
        np.testing.assert_array_equal(back, grid)
        assert where == (0, 0)


@st.composite
def packed(draw):
    """Grids of one codec packed end to end, as the build stores them."""
    codec, grids = draw(placed_batch())
    cells = np.concatenate([g.ravel() for g, _ in grids])
    sizes = np.array([g.size for g, _ in grids])
    return codec, grids, cells, np.cumsum(sizes) - sizes


@settings(max_examples=150, deadline=None)
@given(packed())
def test_encode_batch_equals_the_oracle_and_decodes_back(case):
    codec, grids, cells, starts = case
    shapes = np.array([g.shape for g, _ in grids])
    offsets = np.array([o for _, o in grids])
    tokens = encode_batch(
        codec, cells, starts, shapes[:, 0], shapes[:, 1], offsets[:, 0], offsets[:, 1]
    )
    assert tokens.dtype == np.uint8 and tokens.shape == (len(grids), codec.seq_len)
    for row, (grid, offset) in zip(tokens, grids, strict=True):
        np.testing.assert_array_equal(row, oracle(codec, grid, offset))
    dec, ok = decode_rows(Canvas.of(codec), tokens)
    assert ok.all()
    np.testing.assert_array_equal(dec.cells, cells)
    np.testing.assert_array_equal(dec.starts, starts)


@settings(max_examples=150, deadline=None)
@given(placed_batch())
def test_row_encoder_matches_the_oracle(batch):
    codec, grids = batch
    tokens = encode_all(Canvas.of(codec), grids)
    for row, (grid, offset) in zip(tokens, grids, strict=True):
        np.testing.assert_array_equal(row, oracle(codec, grid, offset))


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
        np.testing.assert_array_equal(dec.grid(i), grid)


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
    # A row passes only when the oracle gives back exactly its tokens.
    for i in np.flatnonzero(ok):
        offset = (int(dec.rows[i]), int(dec.cols[i]))
        np.testing.assert_array_equal(oracle(codec, dec.grid(i), offset), damaged[i])


def test_decode_rows_rejects_empty_and_ragged_rows():
    canvas = Canvas.of(ARC)
    empty = np.zeros((1, 900), np.uint8)
    ragged = encode(ARC, np.ones((3, 3), np.uint8)).reshape(1, 900).copy()
    ragged[0, 2] = 1  # a cell of the grid replaced by EOS
    _, ok = decode_rows(canvas, np.concatenate([empty, ragged]))
    assert not ok.any()
    for bad in (empty[0], ragged[0]):
        with pytest.raises(ValueError, match="well-formed arc grid"):
            decode(ARC, bad)
    with pytest.raises(ValueError, match="vocabulary"):
        decode(ARC, np.full(900, 12))


def encode_one_grid_and_one_padding_row(canvas: Canvas) -> np.ndarray:
    """A 2x2 grid of ones and a padding row (height 0), as the stream's eval batches have."""
    out = np.zeros((2, 900), np.uint8)
    windows = canvas.windows(with_margin(np.ones(4, np.uint8)))
    z = np.zeros(2, np.uint8)
    return canvas.encode(windows, np.full(2, MARGIN), np.array([2, 0]), np.array([2, 0]), z, z, out)


def test_padding_rows_stay_pad():
    out = encode_one_grid_and_one_padding_row(Canvas.of(ARC))
    assert out[1].max() == 0 and out[0].max() == 3


def test_canvas_rejects_sides_beyond_margin():
    with pytest.raises(ValueError, match="margin"):
        Canvas.of(get_codec(f"sudoku{MARGIN + 1}"))


@pytest.mark.parametrize(
    ("shape", "offset"), [((3, 3), (28, 0)), ((1, 2), (0, 29)), ((30, 1), (1, 0))]
)
def test_grids_off_the_canvas_are_refused(shape, offset):
    with pytest.raises(ValueError, match="does not fit a 30x30 canvas"):
        encode(ARC, np.zeros(shape, np.uint8), offset)


def test_a_pad_byte_that_reads_as_a_value_is_refused():
    with pytest.raises(ValueError, match="collides"):
        Canvas.of(ARC, pad=5)


def test_canvas_tables_are_built_once_per_codec():
    assert Canvas.of(ARC) is Canvas.of(get_codec("arc"))


# ----------------------------------------------------------------------------- labels


@settings(max_examples=100, deadline=None)
@given(placed_batch())
def test_label_canvas_writes_ignore_where_the_layout_has_pad(batch):
    codec, grids = batch
    labels = encode_all(Canvas.labels(codec), grids).view(np.int8)
    for row, (grid, offset) in zip(labels, grids, strict=True):
        tokens = oracle(codec, grid, offset).astype(np.int64)
        expected = np.where(tokens == PAD, IGNORE_LABEL, tokens)
        np.testing.assert_array_equal(row.astype(np.int64), expected)


def test_label_padding_rows_are_all_ignored():
    out = encode_one_grid_and_one_padding_row(Canvas.labels(ARC))
    assert (out[1].view(np.int8) == IGNORE_LABEL).all()
    assert sorted(set(out[0].view(np.int8).tolist())) == [IGNORE_LABEL, EOS, 3]


# ----------------------------------------------------------------------------- predictions


@given(placed_grids())
def test_crop_recovers_grid_at_origin(placed):
    grid, _ = placed
    np.testing.assert_array_equal(crop(ARC, encode(ARC, grid, (0, 0))), grid)


@given(placed_grids())
def test_crop_recovers_grid_at_its_offset(placed):
    grid, offset = placed
    np.testing.assert_array_equal(crop(ARC, encode(ARC, grid, offset), offset), grid)


def test_crop_of_garbage():
    assert crop(ARC, np.zeros(900, np.uint8)) is None
    assert crop(ARC, np.zeros((30, 30), np.uint8), (29, 29)) is None


def test_token_values_clip_what_is_not_a_value():
    tokens = np.array([0, 1, 2, 10, 11, 15] + [2] * 75, np.uint8)
    values = token_values(SUDOKU, tokens)
    assert values.shape == (9, 9) and values.dtype == np.uint8
    assert values.ravel()[:6].tolist() == [0, 0, 1, 9, 9, 9]
    many = token_values(
        MAZE, np.stack([encode(MAZE, np.full((30, 30), v, np.uint8)) for v in (0, 4)])
    )
    assert many.shape == (2, 30, 30) and many[0].max() == 0 and many[1].min() == 4


def test_decode_rows_across_blocks_equals_row_by_row():
    """More rows than one decode block: the same grids and flags as one row at a time."""
    from arcdata.tokens import DECODE_BLOCK

    rng = np.random.default_rng(0)
    canvas = Canvas.of(ARC)
    n = 2 * DECODE_BLOCK + 37
    h, w = rng.integers(1, 31, n), rng.integers(1, 31, n)
    r, c = rng.integers(0, 31 - h), rng.integers(0, 31 - w)
    sizes = h * w
    cells = rng.integers(0, 10, int(sizes.sum())).astype(np.uint8)
    tokens = encode_batch(ARC, cells, np.cumsum(sizes) - sizes, h, w, r, c)
    tokens[rng.integers(0, n, 40), rng.integers(0, 900, 40)] = rng.integers(0, 13, 40)
    dec, ok = decode_rows(canvas, tokens)
    for i in range(n):
        one, one_ok = decode_rows(canvas, tokens[i : i + 1])
        assert one_ok[0] == ok[i]
        if ok[i]:
            np.testing.assert_array_equal(dec.grid(i), one.grid(0))
            assert (dec.rows[i], dec.cols[i]) == (one.rows[0], one.cols[0])
    assert 0 < ok.sum() < n
