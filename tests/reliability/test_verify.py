"""``arcdata verify`` passes an intact dataset and names the file of every kind of damage."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner

from arcdata.cli import main
from arcdata.errors import DatasetError
from arcdata.storage.hashing import file_sha256
from arcdata.storage.manifest import write_json
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
    assert "warn" not in result.output  # a fresh build holds no file verify does not know
    assert run_verify(dataset, "--strict").exit_code == 0


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
    """Replace a shard's table by ``change(table)`` and make the manifest agree on its checksum
    and row counts (shard, split, totals), so only the content checks can catch it."""
    path = dataset / rel
    table = change(pq.read_table(path))
    pq.write_table(table, path)
    m = manifest_of(dataset)
    for s in m["splits"].values():
        for e in s["shards"]:
            if e["path"] == rel:
                e.update(rows=table.num_rows, bytes=path.stat().st_size, sha256=file_sha256(path))
        s["rows"] = sum(e["rows"] for e in s["shards"])
    m["totals"]["examples"] = sum(s["rows"] for s in m["splits"].values())
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


# Re-derivation: each damage below keeps every checksum and row total right, so only reading
# the rows can find it; verify must name it.


def set_column(t: pa.Table, name: str, values) -> pa.Table:
    i = t.schema.get_field_index(name)
    return t.set_column(i, t.schema.field(i), pa.array(values, t.schema.field(i).type))


def change_row(name: str, row: int, value):
    """A change that sets column ``name`` of one row to ``value``."""

    def change(t: pa.Table) -> pa.Table:
        values = t[name].to_pylist()
        values[row] = value(values[row]) if callable(value) else value
        return set_column(t, name, values)

    return change


def first_row(dataset: Path, rel: str, **where) -> int:
    """Index of the first row of a shard matching ``column=value`` conditions."""
    t = pq.read_table(dataset / rel)
    mask = np.ones(t.num_rows, dtype=bool)
    for column, value in where.items():
        mask &= np.asarray(t[column].to_pylist()) == value
    return int(np.flatnonzero(mask)[0])


def a_task(dataset: Path, rel: str) -> str:
    return pq.read_table(dataset / rel, columns=["task_id"])["task_id"][0].as_py()


def shard_of(dataset: Path, prefix: str) -> str:
    """A train shard whose first task's id starts with ``prefix`` (t: training, e: evaluation)."""
    shards = manifest_of(dataset)["splits"]["train"]["shards"]
    return next(e["path"] for e in shards if a_task(dataset, e["path"]).startswith(prefix))


def drop_rows(keep):
    return lambda t: t.filter(pa.array(keep(t)))


def problems_of(dataset: Path, **kwargs) -> list[str]:
    report = verify_dataset(dataset, **kwargs)
    return [f"{p.file}: {p.message}" for p in report.problems]


def test_split_rows_are_rederived(dataset):
    rel = a_shard(dataset)
    path = dataset / rel
    pq.write_table(pq.read_table(path).slice(1), path)
    m = manifest_of(dataset)
    entry = m["splits"]["train"]["shards"][1]
    entry.update(rows=entry["rows"] - 1, bytes=path.stat().st_size, sha256=file_sha256(path))
    write_json(dataset / "manifest.json", m)
    assert any("split train: rows" in p for p in problems_of(dataset))


def test_groups_are_rederived(dataset):
    rel = shard_of(dataset, "t")
    task = a_task(dataset, rel)
    rewrite_shard(dataset, rel, drop_rows(lambda t: [x != task for x in t["task_id"].to_pylist()]))
    found = problems_of(dataset)
    assert any("split train: groups" in p for p in found), found
    assert any("totals.tasks" in p for p in found), found


def test_puzzles_and_versions_per_task_are_rederived(dataset):
    rel = shard_of(dataset, "t")
    task = a_task(dataset, rel)
    rewrite_shard(
        dataset,
        rel,
        drop_rows(
            lambda t: [
                not (x == task and v == 3)
                for x, v in zip(t["task_id"].to_pylist(), t["version"].to_pylist(), strict=True)
            ]
        ),
    )
    found = problems_of(dataset)
    assert any("split train: puzzles" in p for p in found), found
    assert any(f"versions per task: {task} has 3 versions" in p for p in found), found
    assert any("totals.versions" in p for p in found), found


def test_tasks_are_rederived(dataset):
    """An evaluation task renamed in one split only: every split's counts still add up."""
    rel = shard_of(dataset, "e")
    task = a_task(dataset, rel)
    rename = lambda t: set_column(  # noqa: E731
        t, "task_id", ["zz" if x == task else x for x in t["task_id"].to_pylist()]
    )
    rewrite_shard(dataset, rel, rename)
    found = problems_of(dataset)
    assert any("totals.tasks 80 but the rows hold 81" in p for p in found), found
    assert any("an id naming another task" in p for p in found), found


def test_version_numbering_is_checked(dataset):
    rel = a_shard(dataset)
    row = first_row(dataset, rel, version=3)
    rewrite_shard(dataset, rel, change_row("version", row, 7))
    found = problems_of(dataset)
    assert any("not numbered 0..n-1" in p for p in found), found


@pytest.mark.parametrize(
    ("column", "value", "message"),
    [
        ("input", lambda b: b[:-1] + bytes([10]), "input cells outside 0..9 (codec arc)"),
        ("output", lambda b: b[:-1] + bytes([255]), "output cells outside 0..9 (codec arc)"),
        ("input", lambda b: b[:-1], "input holds a number of cells other than its height"),
        ("offset_r", 29, "input shape outside the 30x30 canvas of codec arc"),
        ("output_w", 0, "output shape outside the 30x30 canvas"),
        ("colour_map", "0123456788", "colour map is not a permutation of the 10 digits"),
        ("colour_map", "1023456789", "colour map moves fixed colour(s) [0]"),
        ("dihedral", 9, "dihedral id outside 0..7"),
    ],
)
def test_bad_cell_shape_and_transform_values_are_found(dataset, column, value, message):
    rel = a_shard(dataset)
    row = first_row(dataset, rel, version=2)
    rewrite_shard(dataset, rel, change_row(column, row, value))
    report = verify_dataset(dataset)
    assert {p.file for p in report.problems} == {rel}, report.format()
    assert any(p.message.startswith(f"1 rows: {message}") for p in report.problems), report.format()


def test_version_zero_must_be_the_identity(dataset):
    rel = a_shard(dataset)
    rewrite_shard(dataset, rel, change_row("dihedral", first_row(dataset, rel, version=0), 3))
    assert any("version 0 is not the identity" in p for p in problems_of(dataset))


def test_dihedral_ids_must_be_ones_the_pipeline_draws(dataset):
    m = manifest_of(dataset)
    m["config"]["augment"]["dihedral"] = [0]
    write_json(dataset / "manifest.json", m)
    found = problems_of(dataset)
    assert found and all("dihedral id not one the pipeline draws [0]" in p for p in found)


def test_colour_maps_must_fix_the_pipelines_fixed_colours(dataset):
    m = manifest_of(dataset)
    m["config"]["augment"]["colours"]["fixed"] = [0, 5]
    write_json(dataset / "manifest.json", m)
    assert any("moves fixed colour(s) [5]" in p for p in problems_of(dataset))


def test_ids_naming_another_version_are_found(dataset):
    rel = a_shard(dataset)
    row = first_row(dataset, rel, version=1)
    rewrite_shard(dataset, rel, change_row("embedding_id", row, lambda i: i + 1))
    found = problems_of(dataset)
    assert any(
        p.startswith("identifiers.parquet: 1 row key(s) carry an id naming another task")
        for p in found
    ), found


def test_duplicate_names_are_found(dataset):
    path = dataset / "identifiers.parquet"
    t = pq.read_table(path)
    names = t["name"].to_pylist()
    names[2] = names[1]
    pq.write_table(set_column(t, "name", names), path)
    m = manifest_of(dataset)
    m["embedding_ids"]["sha256"] = file_sha256(path)
    write_json(dataset / "manifest.json", m)
    found = problems_of(dataset)
    assert found == [
        f"identifiers.parquet: 1 name(s) given to more than one id, first {names[1]!r}"
    ]


def test_embedding_id_count_is_rederived(dataset):
    path = dataset / "identifiers.parquet"
    t = pq.read_table(path)
    pq.write_table(
        pa.concat_tables(
            [
                t,
                t.slice(t.num_rows - 1).set_column(
                    0, t.schema.field(0), pa.array([t.num_rows], pa.int32())
                ),
            ]
        ),
        path,
    )
    m = manifest_of(dataset)
    m["embedding_ids"].update(sha256=file_sha256(path), count=t.num_rows + 1)
    write_json(dataset / "manifest.json", m)
    found = problems_of(dataset)
    assert any("embedding_ids.count" in p and "version granularity" in p for p in found), found


def test_codec_is_checked_against_the_sources(dataset):
    m = manifest_of(dataset)
    m["codec"] = m["config"]["codec"] = "maze"
    write_json(dataset / "manifest.json", m)
    found = problems_of(dataset)
    assert (
        "manifest.json: source 'train' (arc_dir) needs codec 'arc', but the codec is 'maze'; "
        "set codec: arc" in found
    )
    assert any("cells outside 0..4 (codec maze)" in p for p in found)


def test_unknown_files_are_reported_and_strict_fails(dataset):
    (dataset / "notes.txt").write_text("hi")
    (dataset / "train" / "part-99999.parquet").write_bytes(b"x")
    (dataset / "train" / "old").mkdir()
    (dataset / "scratch").mkdir()
    (dataset / "scratch" / "a").write_text("a")
    report = verify_dataset(dataset)
    assert report.ok
    assert [(w.file, w.message.split(",")[0]) for w in report.warnings] == [
        ("notes.txt", "unknown file"),
        ("scratch", "unknown folder"),
        ("train/old", "unknown folder"),
        ("train/part-99999.parquet", "unknown file"),
    ]
    result = run_verify(dataset, "--strict")
    assert result.exit_code == 1 and "FAIL  scratch: unknown folder" in result.output
