"""The stream's token arrays: encoded once, chunk by chunk, equal to encoding each row alone."""

from __future__ import annotations

import numpy as np
import pytest

from arcdata.stream.store import (
    FIELDS,
    LABEL_PAD,
    Dataset,
    encode_split,
    open_split,
    read_split,
    token_chunks,
)
from arcdata.tokens import encode


@pytest.fixture(scope="module")
def split(small_ds):
    ds = Dataset.open(small_ds)
    return ds, read_split(ds, "train", ds.split_entry("train"), verify=True)


def test_token_arrays_are_each_row_encoded_alone(split):
    ds, arrays = split
    tokens = encode_split(arrays, ds.codec)
    assert tokens.inputs.shape == tokens.labels.shape == (arrays.num_rows, ds.codec.seq_len)
    assert tokens.inputs.dtype == tokens.labels.dtype == np.uint8
    for i in range(0, arrays.num_rows, 7):
        offset = (int(arrays.offset_r[i]), int(arrays.offset_c[i]))
        for kind, got in (("input", tokens.inputs[i]), ("output", tokens.labels[i])):
            start, h, w = (int(getattr(arrays, f"{kind}_{k}")[i]) for k in ("start", "h", "w"))
            grid = getattr(arrays, f"{kind}_cells")[start : start + h * w].reshape(h, w)
            want = encode(ds.codec, grid, offset)
            if kind == "output":
                want = np.where(want == 0, LABEL_PAD, want)  # labels: PAD cells are ignored
            np.testing.assert_array_equal(got, want)
    for name in FIELDS:
        np.testing.assert_array_equal(tokens.field(name), getattr(arrays, name))
        assert tokens.field(name).dtype == np.int32


@pytest.mark.parametrize("chunk_rows", [1, 5, 64, 10_000])
def test_chunking_does_not_change_the_tokens(split, chunk_rows):
    ds, arrays = split
    whole = encode_split(arrays, ds.codec)
    parts = {"inputs": [], "labels": []}
    covered = []
    for rows, inputs, labels in token_chunks(arrays, ds.codec, chunk_rows):
        assert len(inputs) == len(labels) == rows.stop - rows.start <= chunk_rows
        parts["inputs"].append(inputs.copy())
        parts["labels"].append(labels.copy())
        covered.append((rows.start, rows.stop))
    assert covered[0][0] == 0 and covered[-1][1] == arrays.num_rows
    assert all(a[1] == b[0] for a, b in zip(covered, covered[1:], strict=False))
    np.testing.assert_array_equal(np.concatenate(parts["inputs"]), whole.inputs)
    np.testing.assert_array_equal(np.concatenate(parts["labels"]), whole.labels)


def test_cache_written_shard_by_shard_equals_the_whole_split_encoded(split, tmp_path):
    ds, arrays = split
    assert len(ds.split_entry("train")["shards"]) > 1  # several shards, one file
    cached = open_split(ds, "train", cache_dir=tmp_path)
    whole = encode_split(arrays, ds.codec)
    assert cached.task_ids == whole.task_ids
    for key in ("inputs", "labels", "fields"):
        np.testing.assert_array_equal(getattr(cached, key), getattr(whole, key), err_msg=key)
        assert not getattr(cached, key).flags.writeable  # a read-only map
    np.testing.assert_array_equal(cached.puzzle_starts, whole.puzzle_starts)
