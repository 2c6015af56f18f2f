"""Bounded-memory npy I/O: chunked writes equal np.save, mapped windows equal slices."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from arcdata.errors import DatasetError
from arcdata.formats.hrm.npy import NpyFile, RowWriter


@settings(max_examples=30, deadline=None)
@given(st.integers(0, 40), st.integers(1, 9), st.integers(1, 5), st.randoms(use_true_random=False))
def test_row_writer_writes_what_np_save_writes(tmp_path_factory, rows, chunk, depth, rnd):
    folder = tmp_path_factory.mktemp("w")
    data = {k: np.frombuffer(rnd.randbytes(rows * 7), np.uint8).reshape(rows, 7) for k in "ab"}
    writer = RowWriter({k: folder / f"{k}.npy" for k in "ab"}, rows, 7, chunk, depth)
    for lo in range(0, rows, chunk):
        for k in "ab":
            out = writer.buffer(min(chunk, rows - lo))
            out[:] = data[k][lo : lo + chunk]
            writer.put(k, out)
    writer.close()
    for k in "ab":
        np.save(folder / f"ref-{k}.npy", data[k])
        assert (folder / f"{k}.npy").read_bytes() == (folder / f"ref-{k}.npy").read_bytes()
    assert writer.written == {"a": rows, "b": rows}


def test_row_writer_reraises_a_write_error(tmp_path):
    writer = RowWriter({"a": tmp_path / "a.npy"}, 4, 3, 2)
    writer.files["a"].close()  # every later write fails
    writer.put("a", writer.buffer(2))
    with pytest.raises(ValueError):
        writer.close()


@pytest.mark.parametrize("dtype", [np.uint8, np.int64])
def test_windows_equal_slices(tmp_path, dtype):
    data = np.arange(50 * 9, dtype=dtype).reshape(50, 9)
    np.save(tmp_path / "x.npy", data)
    f = NpyFile.open(tmp_path / "x.npy", np.uint8 if dtype == np.uint8 else np.int64, 2)
    assert f.shape == (50, 9) and len(f) == 50
    for lo, hi in [(0, 50), (0, 1), (13, 29), (49, 50), (7, 7)]:
        with f.rows(lo, hi) as window:
            np.testing.assert_array_equal(window, data[lo:hi])
    np.testing.assert_array_equal(f.load(), data)


def test_header_errors_name_the_file(tmp_path):
    with pytest.raises(DatasetError, match=r"x\.npy: missing"):
        NpyFile.open(tmp_path / "x.npy", np.uint8, 2)
    np.save(tmp_path / "f.npy", np.zeros((3, 2), np.float32))
    with pytest.raises(
        DatasetError, match=r"f\.npy: expected a 2-d uint8 array, found 2-d float32"
    ):
        NpyFile.open(tmp_path / "f.npy", np.uint8, 2)
    np.save(tmp_path / "o.npy", np.asfortranarray(np.zeros((3, 2), np.uint8)))
    with pytest.raises(DatasetError, match=r"o\.npy: Fortran-ordered"):
        NpyFile.open(tmp_path / "o.npy", np.uint8, 2)
    (tmp_path / "j.npy").write_bytes(b"junk")
    with pytest.raises(DatasetError, match=r"j\.npy: unreadable npy"):
        NpyFile.open(tmp_path / "j.npy", np.uint8, 2)
