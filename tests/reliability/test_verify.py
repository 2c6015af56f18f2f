"""``arcdata verify`` passes an intact dataset and names the file of every kind of damage."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner

from arcdata.builder.manifest import write_json
from arcdata.builder.shards import file_sha256
from arcdata.cli import main
from arcdata.errors import DatasetError
from arcdata.verify import safe_member, verify_dataset


@pytest.fixture
def dataset(tiny, tmp_path) -> Path:
    out = tmp_path / "data"
    shutil.copytree(tiny.reference, out)
    return out


def run_verify(path: Path, *args: str):
    return CliRunner().invoke(main, ["verify", str(path), "--quiet", *args])


def manifest_of(path: Path) -> dict:
    return json.loads((path / "manifest.json").read_text())


def a_shard(path: Path, split: str = "train", index: int = 1) -> str:
    return manifest_of(path)["splits"][split]["shards"][index]["path"]


def test_intact_dataset_is_ok(dataset):
    result = run_verify(dataset, "--verbose")
    assert result.exit_code == 0, result.output
    assert result.output.strip().splitlines()[-1].startswith("OK:")
    m = manifest_of(dataset)
    n = sum(len(s["shards"]) for s in m["splits"].values())
    assert f"{n} shards" in result.output and f"{m['totals']['examples']:,} rows" in result.output
    assert result.output.count("  ok    ") == n + 2  # shards, manifest, identifiers


def flip_byte(path: Path) -> None:
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x01
    path.write_bytes(bytes(data))


def truncate(path: Path) -> None:
    with open(path, "r+b") as f:
        f.truncate(path.stat().st_size // 2)


DAMAGE = {
    "flip": (flip_byte, "sha256 mismatch"),
    "truncate": (truncate, "bytes, manifest says"),
    "delete": (os.remove, "missing"),
}


@pytest.mark.parametrize("kind", sorted(DAMAGE))
def test_damaged_shard_is_named(dataset, kind):
    damage, message = DAMAGE[kind]
    rel = a_shard(dataset)
    damage(dataset / rel)
    result = run_verify(dataset)
    assert result.exit_code == 1, result.output
    fails = [line for line in result.output.splitlines() if line.startswith("  FAIL")]
    assert fails and all(rel in line for line in fails), result.output
    assert message in result.output
    assert result.output.strip().splitlines()[-1].startswith("FAIL:")


def test_damaged_identifiers_are_named(dataset):
    flip_byte(dataset / "identifiers.parquet")
    report = verify_dataset(dataset)
    assert not report.ok and {p.file for p in report.problems} == {"identifiers.parquet"}


def test_every_damage_at_once_is_reported(dataset):
    m = manifest_of(dataset)
    shards = [e["path"] for s in m["splits"].values() for e in s["shards"]]
    flip_byte(dataset / shards[0])
    truncate(dataset / shards[1])
    os.remove(dataset / shards[2])
    report = verify_dataset(dataset, jobs=2)
    assert {p.file for p in report.problems} == set(shards[:3])


def rewrite_shard(dataset: Path, rel: str, change) -> None:
    """Replace a shard's table by ``change(table)`` and make the manifest agree on its checksum,
    so only the content checks can catch it."""
    path = dataset / rel
    table = change(pq.read_table(path))
    pq.write_table(table, path)
    m = manifest_of(dataset)
    for s in m["splits"].values():
        for e in s["shards"]:
            if e["path"] == rel:
                e.update(rows=table.num_rows, bytes=path.stat().st_size, sha256=file_sha256(path))
    write_json(dataset / "manifest.json", m)


def test_ids_out_of_range_are_found(dataset):
    rel = a_shard(dataset)
    count = manifest_of(dataset)["embedding_ids"]["count"]

    def shift(t: pa.Table) -> pa.Table:
        i = t.schema.get_field_index("embedding_id")
        shifted = pc.add(t["embedding_id"], pa.scalar(count, pa.int32()))
        return t.set_column(i, t.schema.field(i), shifted)

    rewrite_shard(dataset, rel, shift)
    report = verify_dataset(dataset)
    assert [p.file for p in report.problems] == [rel]
    assert "embedding ids" in report.problems[0].message


def test_wrong_split_column_is_found(dataset):
    rel = a_shard(dataset)

    def relabel(t: pa.Table) -> pa.Table:
        i = t.schema.get_field_index("split")
        return t.set_column(i, t.schema.field(i), pa.array(["test"] * t.num_rows))

    rewrite_shard(dataset, rel, relabel)
    report = verify_dataset(dataset)
    assert [p.file for p in report.problems] == [rel]
    assert "split other than 'train'" in report.problems[0].message


def test_wrong_arrow_schema_is_found(dataset):
    rel = a_shard(dataset)
    rewrite_shard(dataset, rel, lambda t: t.drop_columns(["colour_map"]))
    report = verify_dataset(dataset)
    assert [p.file for p in report.problems] == [rel]
    assert "ROW_SCHEMA" in report.problems[0].message


def test_row_count_mismatch_in_manifest_is_found(dataset):
    m = manifest_of(dataset)
    m["splits"]["train"]["shards"][0]["rows"] += 1
    write_json(dataset / "manifest.json", m)
    report = verify_dataset(dataset)
    files = {p.file for p in report.problems}
    assert files == {"manifest.json", m["splits"]["train"]["shards"][0]["path"]}


def test_manifest_schema_is_checked(dataset):
    m = manifest_of(dataset)
    del m["totals"]
    m["splits"]["train"]["shards"][0]["sha256"] = "not-a-digest"
    write_json(dataset / "manifest.json", m)
    result = run_verify(dataset)
    assert result.exit_code == 1
    assert "manifest.json: schema: (top level): 'totals' is a required property" in result.output
    assert "schema: splits.train.shards.0.sha256" in result.output


@pytest.mark.parametrize(
    "bad", ["../outside/part-00000.parquet", "/etc/passwd", "train/../../part-00000.parquet"]
)
def test_manifest_paths_cannot_escape(dataset, bad):
    m = manifest_of(dataset)
    m["splits"]["train"]["shards"][0]["path"] = bad
    write_json(dataset / "manifest.json", m)
    report = verify_dataset(dataset)
    assert not report.ok and report.problems[0].file == "manifest.json"
    with pytest.raises(DatasetError, match="inside the dataset|outside"):
        safe_member(dataset, bad)


def test_safe_member_refuses_symlinks_out(dataset, tmp_path):
    (tmp_path / "elsewhere").mkdir()
    (dataset / "train" / "link").symlink_to(tmp_path / "elsewhere")
    with pytest.raises(DatasetError, match="outside the dataset"):
        safe_member(dataset, "train/link/part-00000.parquet")
    assert (
        safe_member(dataset, "train/part-00000.parquet")
        == dataset.resolve() / "train/part-00000.parquet"
    )


def test_missing_or_garbled_manifest(dataset):
    (dataset / "manifest.json").write_text("{not json")
    result = run_verify(dataset)
    assert result.exit_code == 1 and "manifest.json: unreadable" in result.output
    (dataset / "manifest.json").unlink()
    assert "manifest.json: missing" in run_verify(dataset).output


def test_json_report(dataset):
    os.remove(dataset / a_shard(dataset))
    result = run_verify(dataset, "--json")
    data = json.loads(result.output)
    assert result.exit_code == 1 and not data["ok"]
    assert data["problems"] == [{"file": a_shard(dataset), "message": "missing"}]
