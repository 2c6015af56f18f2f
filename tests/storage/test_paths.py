"""Manifest paths and names stay inside the dataset (and writers inside their --out)."""

from __future__ import annotations

import pytest

from arcdata.errors import DatasetError
from arcdata.storage.paths import safe_member, safe_name


@pytest.mark.parametrize(
    "rel", ["../x", "a/../../x", "/etc/passwd", "~/x", "a\\b", "a//b", "./a", "", None, 3, "a\x00"]
)
def test_safe_member_refuses_paths_that_leave(tmp_path, rel):
    with pytest.raises(DatasetError, match="manifest"):
        safe_member(tmp_path, rel)


def test_safe_member_keeps_plain_paths(tmp_path):
    assert safe_member(tmp_path, "train/part-00000.parquet") == (
        tmp_path.resolve() / "train" / "part-00000.parquet"
    )


@pytest.mark.parametrize("name", ["..", ".", "../x", "a/b", ".hidden", "", "/x", None, "a\\b"])
def test_safe_name_refuses_anything_but_one_plain_name(tmp_path, name):
    with pytest.raises(DatasetError, match="plain file name"):
        safe_name(tmp_path, name, "split name")


def test_safe_name_keeps_split_names(tmp_path):
    assert safe_name(tmp_path, "train") == "train"
    assert safe_name(tmp_path, "eval-2.x") == "eval-2.x"
