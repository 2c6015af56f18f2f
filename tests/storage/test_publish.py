"""Publishing a folder: what may be replaced, the lock, the swap (exchange and fallback), and
what is left behind on errors. Kills at every step: tests/reliability/test_publish_kills.py."""

from __future__ import annotations

import json
import os

import pytest

from arcdata.errors import DatasetError
from arcdata.storage import publish
from arcdata.storage.publish import (
    check_destination,
    exchange,
    hold_lock,
    lock_path,
    old_path,
    recover,
    staged,
    staging_path,
)
from tests.storage.helpers import fake_dataset, marker_of


@pytest.fixture(params=["exchange", "fallback"])
def swap(request, monkeypatch):
    """Run a test with the atomic exchange, and again as on a filesystem without one."""
    if request.param == "fallback":
        monkeypatch.setattr(publish, "_renameat2", lambda: None)
    return request.param


# ------------------------------------------------------------------------- destination


def test_destination_rules(tmp_path):
    check_destination(tmp_path / "new", overwrite=False)
    (tmp_path / "empty").mkdir()
    check_destination(tmp_path / "empty", overwrite=False)
    ds = fake_dataset(tmp_path / "ds")
    with pytest.raises(DatasetError, match="pass --overwrite"):
        check_destination(ds, overwrite=False)
    check_destination(ds, overwrite=True)
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "notes.txt").write_text("x")
    with pytest.raises(DatasetError, match="not an arcdata dataset"):
        check_destination(tmp_path / "other", overwrite=True)
    (tmp_path / "file").write_text("x")
    with pytest.raises(DatasetError, match="not a folder"):
        check_destination(tmp_path / "file", overwrite=True)
    (tmp_path / "link").symlink_to(ds)
    with pytest.raises(DatasetError, match="not a folder"):
        check_destination(tmp_path / "link", overwrite=True)


def test_a_file_named_manifest_json_is_not_enough(tmp_path):
    """Recognised by the manifest's format and schema, not by a file name."""
    home = tmp_path / "home"
    home.mkdir()
    (home / "manifest.json").write_text(json.dumps({"app": "mine"}))
    with pytest.raises(
        DatasetError, match=r"home already exists and is not an arcdata dataset.*format"
    ):
        check_destination(home, overwrite=True)
    (home / "manifest.json").write_text(json.dumps({"format": "arcdata/1"}))
    with pytest.raises(DatasetError, match="does not follow the arcdata schema"):
        check_destination(home, overwrite=True)


@pytest.mark.parametrize("extra", ["notes.txt", "train/mine.csv", "deep/er/file"])
def test_a_dataset_holding_files_it_does_not_name_is_refused_naming_them(tmp_path, extra):
    ds = fake_dataset(tmp_path / "ds")
    (ds / extra).parent.mkdir(parents=True, exist_ok=True)
    (ds / extra).write_text("user data")
    with pytest.raises(DatasetError, match=f"{extra} is not named by its manifest"):
        check_destination(ds, overwrite=True)


def test_a_dataset_holding_a_link_is_refused(tmp_path):
    ds = fake_dataset(tmp_path / "ds")
    (tmp_path / "elsewhere").mkdir()
    (ds / "train" / "link").symlink_to(tmp_path / "elsewhere")
    with pytest.raises(DatasetError, match="train/link is a symbolic link"):
        check_destination(ds, overwrite=True)


# ------------------------------------------------------------------------- lock, recovery


def test_only_one_writer_holds_a_destination(tmp_path):
    out = tmp_path / "data"
    with hold_lock(out) as lock:
        assert lock.exists() and lock == lock_path(out)
        with (
            pytest.raises(DatasetError, match="another arcdata command is writing"),
            hold_lock(out),
        ):
            pass
        with pytest.raises(DatasetError, match="is writing"), staged(out):
            pass
    assert not lock_path(out).exists()
    with hold_lock(out):  # released on exit
        pass


def test_an_interrupted_swap_is_undone(tmp_path):
    out = tmp_path / "data"
    fake_dataset(old_path(out), "previous")
    recover(out)  # killed between the two renames: put it back
    assert marker_of(out) == "previous"
    assert not old_path(out).exists()

    fake_dataset(old_path(out), "stale")  # killed after both renames: drop it
    recover(out)
    assert marker_of(out) == "previous"
    assert not old_path(out).exists()


def test_a_reader_leaves_recovery_to_a_writer_holding_the_lock(tmp_path):
    out = tmp_path / "data"
    fake_dataset(old_path(out), "previous")
    with hold_lock(out):
        recover(out)
        assert not out.exists() and old_path(out).exists()
    recover(out)
    assert marker_of(out) == "previous"


def test_exchange_swaps_two_folders(tmp_path):
    a, b = fake_dataset(tmp_path / "a", "a"), fake_dataset(tmp_path / "b", "b")
    if not exchange(a, b):
        pytest.skip("this filesystem has no atomic exchange")
    assert (marker_of(a), marker_of(b)) == ("b", "a")


# ------------------------------------------------------------------------- publishing


def write(stage, marker: str) -> None:
    fake_dataset(stage.path / "x", marker)
    for child in (stage.path / "x").iterdir():
        os.rename(child, stage.path / child.name)
    (stage.path / "x").rmdir()


def leftovers(out) -> list[str]:
    return sorted(p.name for p in out.parent.iterdir() if p.name.startswith("."))


def test_publish_creates_then_replaces_only_with_overwrite(tmp_path, swap):
    out = tmp_path / "data"
    with staged(out) as stage:
        assert stage.path == staging_path(out) and stage.path.is_dir()
        write(stage, "v1")
    assert marker_of(out) == "v1" and leftovers(out) == []
    with pytest.raises(DatasetError, match="pass --overwrite"), staged(out):
        pass
    with staged(out, overwrite=True) as stage:
        write(stage, "v2")
    assert marker_of(out) == "v2" and leftovers(out) == []


def test_publish_onto_an_empty_folder(tmp_path):
    out = tmp_path / "data"
    out.mkdir()
    with staged(out) as stage:
        write(stage, "v1")
    assert marker_of(out) == "v1"


def test_an_error_drops_the_stage_and_keeps_the_previous_dataset(tmp_path, swap):
    out = fake_dataset(tmp_path / "data", "v1")
    with pytest.raises(RuntimeError), staged(out, overwrite=True) as stage:
        write(stage, "v2")
        raise RuntimeError("writer failed")
    assert marker_of(out) == "v1" and leftovers(out) == []
    with pytest.raises(RuntimeError), staged(out, overwrite=True, keep_on_error=True) as stage:
        write(stage, "v2")
        raise RuntimeError("build failed; keep the units for --resume")
    assert marker_of(out) == "v1" and leftovers(out) == [".data.partial"]


def test_refusals_come_before_any_stage_exists(tmp_path):
    out = tmp_path / "data"
    out.mkdir()
    (out / "thesis.tex").write_text("years of work")
    with pytest.raises(DatasetError, match=r"thesis.tex"), staged(out, overwrite=True):
        pytest.fail("must not get here")
    assert (out / "thesis.tex").read_text() == "years of work" and leftovers(out) == []
