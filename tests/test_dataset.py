"""Public row helpers: grids, the original pair, the model's tokens."""

from __future__ import annotations

import numpy as np
import polars as pl

from arcdata.dataset import decode_row, row_tokens, undo_augmentation
from arcdata.tokens import IGNORE_LABEL, decode, get_codec


def _rows(root):
    return pl.read_parquet(str(root / "*" / "*.parquet")).to_dicts()


def test_undo_augmentation_gives_the_original_pair(strict_arc):
    rows = _rows(strict_arc)
    originals = {
        (r["task_id"], r["role"], r["pair_index"]): decode_row(r) for r in rows if r["version"] == 0
    }
    augmented = [r for r in rows if r["version"] > 0]
    assert augmented and any(r["dihedral"] or r["colour_map"] != "0123456789" for r in augmented)
    for r in augmented:
        want = originals[(r["task_id"], r["role"], r["pair_index"])]
        got = undo_augmentation(r)
        assert np.array_equal(got.input, want.input) and np.array_equal(got.output, want.output)


def test_row_tokens_decode_back_to_the_row_and_ignore_padding(strict_arc):
    codec = get_codec("arc")
    for r in _rows(strict_arc)[:50]:
        inputs, labels = row_tokens(r, "arc")
        assert inputs.shape == labels.shape == (codec.seq_len,)
        grids = decode_row(r)
        grid, offset = decode(codec, inputs.astype(np.uint8))
        assert np.array_equal(grid, grids.input) and offset == (r["offset_r"], r["offset_c"])
        assert (labels == IGNORE_LABEL).any() == (inputs == 0).any()
        out, _ = decode(codec, np.where(labels == IGNORE_LABEL, 0, labels).astype(np.uint8))
        assert np.array_equal(out, grids.output)
