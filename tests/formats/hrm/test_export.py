"""HRM npy export: the reference's layout and semantics, byte-exact round trips."""

from __future__ import annotations

import json

import numpy as np
import pytest

from arcdata.errors import DatasetError
from arcdata.formats.hrm import ARRAYS, export_hrm, import_hrm
from arcdata.tokens import ARC, decode
from tests.formats.conftest import assert_same_bytes, npy_files


def test_export_import_export_is_byte_identical(golden_build, tmp_path, cache):
    export_hrm(golden_build, tmp_path / "a")
    import_hrm(tmp_path / "a", tmp_path / "ds")
    export_hrm(tmp_path / "ds", tmp_path / "b")
    assert_same_bytes(tmp_path / "a", tmp_path / "b")


def test_export_matches_the_reference_layout_and_semantics(golden, golden_build, tmp_path, cache):
    out = tmp_path / "npy"
    export_hrm(golden_build, out)
    assert npy_files(out) == npy_files(golden)
    ours_names = json.loads((out / "identifiers.json").read_text())
    gold_names = json.loads((golden / "identifiers.json").read_text())
    assert len(ours_names) == len(gold_names) and ours_names[0] == "<blank>"
    for a, b in zip(ours_names[1:], gold_names[1:], strict=True):
        assert a.split("_")[0] == b.split("_")[0] and ("_t" in a) == ("_t" in b)
    for split in ("train", "test"):
        ours = json.loads((out / split / "dataset.json").read_text())
        gold = json.loads((golden / split / "dataset.json").read_text())
        assert list(ours) == list(gold) and ours == gold
        for name in ARRAYS:
            a = np.load(out / split / f"all__{name}.npy")
            b = np.load(golden / split / f"all__{name}.npy")
            assert a.dtype == b.dtype and a.shape == b.shape, (split, name)
            if name != "inputs" and name != "labels":
                np.testing.assert_array_equal(a, b)  # same puzzles, groups and ids
    # Original (version 0) examples hold the same grids; test examples sit at (0, 0).
    for split in ("train", "test"):
        idx = np.load(out / split / "all__puzzle_indices.npy")
        ids = np.load(out / split / "all__puzzle_identifiers.npy")
        originals = [p for p, i in enumerate(ids) if "_t" not in ours_names[i]]
        for p in originals:
            for row in range(idx[p], idx[p + 1]):
                for kind in ("inputs", "labels"):
                    a = np.load(out / split / f"all__{kind}.npy")[row]
                    b = np.load(golden / split / f"all__{kind}.npy")[row]
                    (ga, oa), (gb, ob) = decode(ARC, a), decode(ARC, b)
                    np.testing.assert_array_equal(ga, gb)
                    if split == "test":
                        assert oa == ob == (0, 0)


def test_export_refuses_to_overwrite(golden_build, tmp_path, cache):
    (tmp_path / "out").mkdir()
    with pytest.raises(DatasetError, match="exists"):
        export_hrm(golden_build, tmp_path / "out")


def test_export_bytes_do_not_depend_on_the_chunk_size(golden_build, tmp_path):
    export_hrm(golden_build, tmp_path / "a")
    export_hrm(golden_build, tmp_path / "b", chunk_rows=5)
    assert_same_bytes(tmp_path / "a", tmp_path / "b")
