"""Bounded-memory npy I/O: chunked writes equal np.save, mapped windows equal slices."""

from __future__ import annotations

import os

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from arcdata.errors import DatasetError
from arcdata.formats.hrm import npy
from arcdata.formats.hrm.npy import NpyFile, RowWriter


@settings(max_examples=40, deadline=None)
@given(
    st.integers(0, 40),
    st.sampled_from([7, 900, 4096, 5000]),
    st.integers(1, 9),
    st.integers(1, 5),
    st.booleans(),
    st.randoms(use_true_random=False),
)
def test_row_writer_writes_what_np_save_writes(
    tmp_path_factory, rows, width, chunk, depth, direct, rnd
):
    """Byte for byte, whatever the row width against the direct-I/O block, chunk and depth."""
    folder = tmp_path_factory.mktemp("w")
    data = {
        k: np.frombuffer(rnd.randbytes(rows * width), np.uint8).reshape(rows, width) for k in "ab"
    }
    writer = RowWriter({k: folder / f"{k}.npy" for k in "ab"}, rows, width, chunk, depth, direct)
    for lo in range(0, rows, chunk):
        for k in "ab":
            out = writer.buffer(k, min(chunk, rows - lo))
            out[:] = data[k][lo : lo + chunk]
            writer.put(k, out)
    writer.close()
    for k in "ab":
        np.save(folder / f"ref-{k}.npy", data[k])
        assert (folder / f"{k}.npy").read_bytes() == (folder / f"ref-{k}.npy").read_bytes()
    assert writer.written == {"a": rows, "b": rows}


def test_row_writer_reraises_a_write_error(tmp_path):
    writer = RowWriter({"a": tmp_path / "a.npy"}, 4, 3, 2)
    os.close(writer.streams["a"].fd)  # every later write fails
    writer.put("a", writer.buffer("a", 2))
    with pytest.raises(OSError):
        writer.close()


def test_row_writer_uses_direct_io_where_the_filesystem_has_it(tmp_path):
    writer = RowWriter({"a": tmp_path / "a.npy"}, 3, 5000, 2)
    try:  # whether this filesystem takes direct I/O (tmpfs does not)
        os.close(os.open(tmp_path / "probe", os.O_WRONLY | os.O_CREAT | npy.DIRECT))
        takes_direct = bool(npy.DIRECT)
    except OSError:
        takes_direct = False
    assert writer.streams["a"].direct == takes_direct
    for lo in (0, 2):
        out = writer.buffer("a", min(2, 3 - lo))
        out[:] = lo + 1
        writer.put("a", out)
    writer.close()
    np.testing.assert_array_equal(np.load(tmp_path / "a.npy"), [[1] * 5000] * 2 + [[3] * 5000])


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
