"""The tile encoder (what the stream uses) against the row encoder and the cell-by-cell oracle:
random grids, offsets, padding rows and both pad bytes; and the tile layout never overlaps."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from arcdata.tokens import ARC, MARGIN, Canvas, tile_layout, tiles_for, with_margin
from tests.test_tokens import encode_all, oracle, placed_batch


def encode_from_tiles(canvas: Canvas, grids, padding=()) -> np.ndarray:
    cells = np.concatenate([g.ravel() for g, _ in grids])
    sizes = np.array([g.size for g, _ in grids])
    starts = np.cumsum(sizes) - sizes + MARGIN
    shapes = np.array([g.shape for g, _ in grids], dtype=np.uint8)
    offsets = np.array([o for _, o in grids], dtype=np.uint8)
    tiles, bases = tiles_for(canvas.codec, with_margin(cells), starts, shapes[:, 0], shapes[:, 1])
    heights = shapes[:, 0].copy()
    heights[list(padding)] = 0
    out = np.full((len(grids), canvas.codec.seq_len), 77, np.uint8)  # overwritten entirely
    return canvas.encode_tiles(
        canvas.tile_windows(tiles), bases, heights, shapes[:, 1], offsets[:, 0], offsets[:, 1], out
    )


@settings(max_examples=200, deadline=None)
@given(placed_batch(), st.booleans())
def test_tile_encoder_equals_the_row_encoder_and_the_oracle(batch, labels):
    codec, grids = batch
    canvas = Canvas.labels(codec) if labels else Canvas.of(codec)
    tokens = encode_from_tiles(canvas, grids)
    np.testing.assert_array_equal(tokens, encode_all(canvas, grids))
    if not labels:
        for row, (grid, offset) in zip(tokens, grids, strict=True):
            np.testing.assert_array_equal(row, oracle(codec, grid, offset))


@settings(max_examples=50, deadline=None)
@given(placed_batch(), st.data())
def test_tile_encoder_padding_rows_are_all_background(batch, data):
    codec, grids = batch
    pad = data.draw(st.sets(st.integers(0, len(grids) - 1)))
    for canvas in (Canvas.of(codec), Canvas.labels(codec)):
        tokens = encode_from_tiles(canvas, grids, sorted(pad))
        blank = np.full(codec.seq_len, canvas.pad, np.uint8)
        for i in range(len(grids)):
            if i in pad:
                np.testing.assert_array_equal(tokens[i], blank)
            else:
                np.testing.assert_array_equal(tokens[i], encode_all(canvas, [grids[i]])[0])


@settings(max_examples=100, deadline=None)
@given(st.lists(st.tuples(st.integers(1, 30), st.integers(1, 30)), min_size=1, max_size=300))
def test_tile_layout_places_every_grid_apart_and_inside(shapes):
    h, w = np.array(shapes).T
    bases, size = tile_layout(h, w, ARC.side)
    owner = np.full(size, -1)
    for k, (hh, ww) in enumerate(shapes):
        cells = bases[k] + np.arange(hh)[:, None] * ARC.side + np.arange(ww)[None, :]
        assert (owner[cells] == -1).all()  # no two grids share a byte
        owner[cells] = k
        rows = cells // ARC.side
        assert (rows == rows[:, :1]).all()  # a grid row stays within one tile row
    assert bases.min() >= ARC.seq_len and bases.max() + ARC.seq_len <= size  # windows fit
    assert size <= 2 * ARC.seq_len + 2 * int((h * w).sum()) + 30 * 30 * 30
