"""The build's staging in isolation (no Dask): the partial folder's cleanup, the inputs
fingerprint, checksum-verified resume records. (Destination rules and the lock are
storage.publish's: tests/storage/test_publish.py.)"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from arcdata.builder import staging
from arcdata.builder.collect import ReadResult, SourceReport
from arcdata.builder.units import Unit
from arcdata.errors import DatasetError
from arcdata.storage.hashing import file_sha256
from arcdata.storage.manifest import write_json

# ------------------------------------------------------------------------- partial folder


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
    assert names == (sorted([staging.HASH_NAME, "units"]) if kept else [staging.HASH_NAME])
    assert (tmp / staging.HASH_NAME).read_text().strip() == digest


# ------------------------------------------------------------------------- resume records


def finished_unit(tmp: Path, index: int = 3, ident: bool = True) -> tuple[Unit, dict]:
    unit = Unit(index, ("a", "b"), 10)
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
    stats = staging.accept_unit(tmp, stats, unit)
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
    "damage",
    [
        "shard",
        "shard_gone",
        "ids",
        "ids_gone",
        "ids_extra",
        "record",
        "record_other_unit",
        "other_tasks",
    ],
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
    elif damage == "record_other_unit":
        record.write_text(json.dumps({**stats, "unit": 9}))
    else:  # the inputs now pack other tasks into this unit: its files are of the old ones
        unit = Unit(unit.index, ("a", "c"), 10)
    assert staging.finished_unit(tmp_path, unit) is None


def test_unshared_output_folder_is_a_clear_error(tmp_path):
    stats = {
        "unit": 0,
        "splits": {
            "train": {"path": "units/train/unit-00000.parquet", "bytes": 5, "sha256": "0" * 64}
        },
    }
    with pytest.raises(DatasetError, match="shared by the driver and every worker"):
        staging.accept_unit(tmp_path, stats, Unit(0, ("a",), 1))


def test_task_keys_depend_on_config_and_destination(tmp_path):
    a = staging.key_token("d1", tmp_path / ".a.partial")
    assert a == staging.key_token("d1", tmp_path / ".a.partial")
    assert a != staging.key_token("d1", tmp_path / ".b.partial")
    assert a != staging.key_token("d2", tmp_path / ".a.partial")


# ------------------------------------------------------------------------- inputs fingerprint


def read_result(files: list[dict]) -> ReadResult:
    return ReadResult([], [SourceReport("s", "arc_dir", files, 1, 1, 0)])


def test_the_inputs_fingerprint_sees_every_source_file():
    files = [
        {"path": "/raw/a.json", "sha256": "1" * 64},
        {"path": "/raw/b.json", "sha256": "2" * 64},
    ]
    base = staging.inputs_fingerprint("cfg", "1.0", read_result(files))
    assert base == staging.inputs_fingerprint("cfg", "1.0", read_result([dict(f) for f in files]))
    edited = [files[0], {**files[1], "sha256": "3" * 64}]
    added = [*files, {"path": "/raw/c.json", "sha256": "4" * 64}]
    others = [
        staging.inputs_fingerprint("cfg", "1.0", read_result(edited)),
        staging.inputs_fingerprint("cfg", "1.0", read_result(added)),
        staging.inputs_fingerprint("cfg", "1.0", read_result(files[:1])),
        staging.inputs_fingerprint("cfg2", "1.0", read_result(files)),
        staging.inputs_fingerprint("cfg", "1.1", read_result(files)),
    ]
    assert base not in others and len(set(others)) == len(others)
