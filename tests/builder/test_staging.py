"""The build's staging in isolation (no Dask): destination rules, the partial folder's lock
and cleanup, checksum-verified resume records."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from arcdata.builder import staging
from arcdata.builder.manifest import write_json
from arcdata.builder.shards import file_sha256
from arcdata.builder.units import Unit
from arcdata.errors import DatasetError

# ------------------------------------------------------------------------- destination


def make_dataset(path: Path, marker: str = "v1") -> Path:
    (path / "train").mkdir(parents=True)
    (path / "manifest.json").write_text(json.dumps({"marker": marker}))
    (path / "train" / "part-00000.parquet").write_bytes(marker.encode())
    return path


def test_destination_rules(tmp_path):
    staging.check_destination(tmp_path / "new", overwrite=False)
    (tmp_path / "empty").mkdir()
    staging.check_destination(tmp_path / "empty", overwrite=False)
    ds = make_dataset(tmp_path / "ds")
    with pytest.raises(DatasetError, match="pass --overwrite"):
        staging.check_destination(ds, overwrite=False)
    staging.check_destination(ds, overwrite=True)
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "notes.txt").write_text("x")
    with pytest.raises(DatasetError, match="not an arcdata dataset"):
        staging.check_destination(tmp_path / "other", overwrite=True)
    (tmp_path / "file").write_text("x")
    with pytest.raises(DatasetError, match="not a folder"):
        staging.check_destination(tmp_path / "file", overwrite=True)
    (tmp_path / "link").symlink_to(ds)
    with pytest.raises(DatasetError, match="not a folder"):
        staging.check_destination(tmp_path / "link", overwrite=True)


def test_an_interrupted_swap_is_undone(tmp_path):
    out = tmp_path / "data"
    make_dataset(tmp_path / ".data.old", "previous")
    staging.recover_interrupted_swap(out)  # killed between the two renames: put it back
    assert json.loads((out / "manifest.json").read_text()) == {"marker": "previous"}
    assert not (tmp_path / ".data.old").exists()

    make_dataset(tmp_path / ".data.old", "stale")  # killed after both renames: drop it
    staging.recover_interrupted_swap(out)
    assert json.loads((out / "manifest.json").read_text()) == {"marker": "previous"}
    assert not (tmp_path / ".data.old").exists()


# ------------------------------------------------------------------------- partial folder


def test_only_one_build_holds_a_destination(tmp_path):
    tmp = tmp_path / ".data.partial"
    with staging.locked_tmp(tmp, tmp_path / "data") as lock:
        assert lock.exists()
        with (
            pytest.raises(DatasetError, match="another build is writing"),
            staging.locked_tmp(tmp, tmp_path / "data"),
        ):
            pass
    with staging.locked_tmp(tmp, tmp_path / "data"):  # released on exit
        pass


def fill_partial(tmp: Path, digest: str) -> None:
    (tmp / "units" / "train").mkdir(parents=True)
    (tmp / "units" / "train" / "unit-00000.parquet").write_bytes(b"x")
    (tmp / "train").mkdir()
    (tmp / "train" / "part-00000.parquet").write_bytes(b"renamed by a killed publish")
    (tmp / "manifest.json.tmp").write_text("{")
    (tmp / staging.HASH_NAME).write_text(digest + "\n")


@pytest.mark.parametrize(
    ("resume", "digest", "kept"),
    [(True, "abc", True), (True, "other", False), (False, "abc", False)],
)
def test_prepare_keeps_units_only_when_resuming_the_same_config(tmp_path, resume, digest, kept):
    tmp = tmp_path / ".data.partial"
    tmp.mkdir()
    fill_partial(tmp, "abc")
    staging.prepare_tmp(tmp, digest, resume)
    names = sorted(p.name for p in tmp.iterdir())
    assert names == (["config_hash", "units"] if kept else ["config_hash"])
    assert (tmp / staging.HASH_NAME).read_text().strip() == digest


# ------------------------------------------------------------------------- resume records


def finished_unit(tmp: Path, index: int = 3, ident: bool = True) -> tuple[Unit, dict]:
    unit = Unit(index, ("a",), 10)
    shard = tmp / "units" / "train" / f"unit-{index:05d}.parquet"
    shard.parent.mkdir(parents=True, exist_ok=True)
    shard.write_bytes(b"shard bytes")
    stats = {
        "unit": index,
        "versions": [2],
        "splits": {
            "train": {
                "path": str(shard.relative_to(tmp)),
                "rows": 4,
                "bytes": 11,
                "sha256": file_sha256(shard),
                "tasks": 1,
                "versions": 2,
            }
        },
    }
    if ident:
        part = staging.identifiers_part(tmp, index)
        part.parent.mkdir(parents=True, exist_ok=True)
        part.write_bytes(b"ids")
    stats = staging.accept_unit(tmp, stats)
    write_json(staging.unit_record(tmp, index), stats)
    return unit, stats


def test_a_checked_unit_is_reused(tmp_path):
    unit, stats = finished_unit(tmp_path)
    assert stats["identifiers_sha256"] == file_sha256(staging.identifiers_part(tmp_path, 3))
    assert staging.finished_unit(tmp_path, unit) == stats
    unit, stats = finished_unit(tmp_path, 4, ident=False)
    assert staging.finished_unit(tmp_path, unit) == stats


def flip(path: Path) -> None:
    data = bytearray(path.read_bytes())
    data[0] ^= 1
    path.write_bytes(bytes(data))


@pytest.mark.parametrize(
    "damage", ["shard", "shard_gone", "ids", "ids_gone", "ids_extra", "record", "record_other_unit"]
)
def test_a_damaged_unit_is_rebuilt(tmp_path, damage):
    unit, stats = finished_unit(tmp_path, ident=damage != "ids_extra")
    shard = tmp_path / stats["splits"]["train"]["path"]
    ids = staging.identifiers_part(tmp_path, unit.index)
    record = staging.unit_record(tmp_path, unit.index)
    if damage == "shard":
        flip(shard)
    elif damage == "shard_gone":
        shard.unlink()
    elif damage == "ids":
        flip(ids)
    elif damage == "ids_gone":
        ids.unlink()
    elif damage == "ids_extra":  # recorded without identifiers, yet a file is there
        ids.parent.mkdir(parents=True, exist_ok=True)
        ids.write_bytes(b"?")
    elif damage == "record":
        record.write_text('{"unit": 3, "spl')
    else:
        record.write_text(json.dumps({**stats, "unit": 9}))
    assert staging.finished_unit(tmp_path, unit) is None


def test_unshared_output_folder_is_a_clear_error(tmp_path):
    stats = {
        "unit": 0,
        "splits": {
            "train": {"path": "units/train/unit-00000.parquet", "bytes": 5, "sha256": "0" * 64}
        },
    }
    with pytest.raises(DatasetError, match="shared by the driver and every worker"):
        staging.accept_unit(tmp_path, stats)


def test_task_keys_depend_on_config_and_destination(tmp_path):
    a = staging.key_token("d1", tmp_path / ".a.partial")
    assert a == staging.key_token("d1", tmp_path / ".a.partial")
    assert a != staging.key_token("d1", tmp_path / ".b.partial")
    assert a != staging.key_token("d2", tmp_path / ".a.partial")
