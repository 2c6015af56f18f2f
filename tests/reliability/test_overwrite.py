"""--overwrite replaces only a dataset arcdata wrote (recognised by its manifest's format and
schema, not by a file name) and refuses anything else, naming it, leaving it untouched."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from arcdata.builder.driver import build
from arcdata.errors import DatasetError
from arcdata.formats.hrm import export_hrm, import_hrm
from tests.reliability.helpers import tree_digest


def a_users_folder(path: Path) -> Path:
    """A folder that happens to hold a file called manifest.json, and the user's work."""
    path.mkdir(parents=True)
    (path / "manifest.json").write_text(json.dumps({"name": "my web app"}))
    (path / "index.html").write_text("<html>")
    return path


def test_build_overwrite_refuses_a_folder_holding_a_manifest_json(tiny, tmp_path):
    out = a_users_folder(tmp_path / "site")
    before = tree_digest(out, exclude=set())
    with pytest.raises(
        DatasetError, match=r"site already exists and is not an arcdata dataset.*format"
    ):
        build(tiny.config(), out, overwrite=True, progress=False)
    assert tree_digest(out, exclude=set()) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["site"]


def test_build_overwrite_refuses_a_dataset_the_user_added_files_to(tiny, tmp_path):
    out = tmp_path / "data"
    shutil.copytree(tiny.reference, out)
    (out / "train" / "my_notes.txt").write_text("keep me")
    with pytest.raises(DatasetError, match="train/my_notes.txt is not named by its manifest"):
        build(tiny.config(), out, overwrite=True, progress=False)
    assert (out / "train" / "my_notes.txt").read_text() == "keep me"


@pytest.mark.parametrize("what", ["users", "arcdata"])
def test_export_overwrite_refuses_what_is_not_an_npy_dataset(tiny, tmp_path, what):
    out = tmp_path / "npy"
    if what == "users":
        a_users_folder(out)
        message = "npy already exists and is not an npy dataset .*identifiers.json"
    else:  # an arcdata dataset is not export's output: exporting over it would lose it
        shutil.copytree(tiny.reference, out)
        message = "npy already exists and is not an npy dataset"
    before = tree_digest(out, exclude=set())
    with pytest.raises(DatasetError, match=message):
        export_hrm(tiny.reference, out, overwrite=True)
    assert tree_digest(out, exclude=set()) == before


def test_export_and_import_overwrite_replace_their_own_output(tiny, tmp_path):
    export_hrm(tiny.reference, tmp_path / "npy")
    first = tree_digest(tmp_path / "npy")
    (tmp_path / "npy" / "train" / "all__inputs.npy").write_bytes(b"stale")
    export_hrm(tiny.reference, tmp_path / "npy", overwrite=True)
    assert tree_digest(tmp_path / "npy") == first
    import_hrm(tmp_path / "npy", tmp_path / "ds")
    again = import_hrm(tmp_path / "npy", tmp_path / "ds", overwrite=True)
    assert again["format"] == "arcdata/1"


def test_import_overwrite_refuses_a_users_folder(tiny, tmp_path):
    export_hrm(tiny.reference, tmp_path / "npy")
    out = a_users_folder(tmp_path / "site")
    before = tree_digest(out, exclude=set())
    with pytest.raises(DatasetError, match="site already exists and is not an arcdata dataset"):
        import_hrm(tmp_path / "npy", out, overwrite=True)
    assert tree_digest(out, exclude=set()) == before
