"""End-to-end builds of a small real ARC subset: exact inverses, determinism, splits and ids."""

from __future__ import annotations

import json

import numpy as np
import polars as pl
import pyarrow.parquet as pq
import pytest

from arcdata.augment.transform import Transform
from arcdata.builder.driver import build, read_tasks
from arcdata.errors import DatasetError
from arcdata.schema import ROW_SCHEMA
from tests.conftest import small_config


def rows_of(root, split=None):
    m = json.loads((root / "manifest.json").read_text())
    paths = [
        root / e["path"]
        for s, v in sorted(m["splits"].items())
        if split in (None, s)
        for e in v["shards"]
    ]
    return pl.concat([pl.read_parquet(p) for p in paths])


@pytest.fixture(scope="module")
def built(arc_dirs, tmp_path_factory):
    config = small_config(arc_dirs)
    out = tmp_path_factory.mktemp("b") / "ds"
    build(config, out, workers=2, progress=False)
    return config, out


def test_every_row_inverts_to_the_raw_task(built):
    config, out = built
    tasks = {t.id: t for t in read_tasks(config).tasks}
    frame = rows_of(out)
    assert frame.height > 0
    for r in frame.iter_rows(named=True):
        task = tasks[r["task_id"]]
        raw = (task.train if r["role"] == "train" else task.test)[r["pair_index"]]
        transform = Transform.from_row(r)
        for kind, h, w in (("input", "input_h", "input_w"), ("output", "output_h", "output_w")):
            stored = np.frombuffer(r[kind], np.uint8).reshape(r[h], r[w])
            back = transform.invert(stored)[0]
            np.testing.assert_array_equal(back, getattr(raw, kind))
        assert r["offset_r"] + max(r["input_h"], r["output_h"]) <= 30
        assert r["offset_c"] + max(r["input_w"], r["output_w"]) <= 30


def test_schema_manifest_and_counts(built):
    config, out = built
    m = json.loads((out / "manifest.json").read_text())
    for s in m["splits"].values():
        total = 0
        for e in s["shards"]:
            f = pq.ParquetFile(out / e["path"])
            assert f.schema_arrow == ROW_SCHEMA
            assert f.metadata.num_rows == e["rows"]
            total += e["rows"]
        assert total == s["rows"]
    assert m["totals"]["tasks"] == 7 and m["totals"]["examples"] == rows_of(out).height
    assert m["config_hash"] and m["code_version"] and m["sources"][0]["files"][0]["sha256"]
    assert not list(out.parent.glob(".ds.partial*"))


def test_hrm_split_rule(built):
    _, out = built
    train, test = rows_of(out, "train"), rows_of(out, "test")
    # evaluation tasks' demonstrations train, their tests test; others entirely train
    assert set(test["task_id"]) == {"00576224", "009d5c81"}
    assert set(test["role"]) == {"test"}
    ev_train = train.filter(pl.col("task_id").is_in(["00576224", "009d5c81"]))
    assert set(ev_train["role"]) == {"train"}
    assert set(train.filter(pl.col("task_id") == "007bbfb7")["role"]) == {"train", "test"}
    # translation only in train; one example per version at the origin
    assert (test["offset_r"] == 0).all() and (test["offset_c"] == 0).all()
    at_origin = train.group_by("task_id", "version").agg(
        ((pl.col("offset_r") == 0) & (pl.col("offset_c") == 0)).sum().alias("n")
    )
    assert (at_origin["n"] >= 1).all()
    assert (train["offset_r"] > 0).any()


def test_version_ids_are_shared_across_splits_and_dense(built):
    _, out = built
    frame = rows_of(out)
    per_version = frame.group_by("task_id", "version").agg(pl.col("embedding_id").n_unique())
    assert (per_version["embedding_id"] == 1).all()
    ids = sorted(frame["embedding_id"].unique().to_list())
    assert ids == list(range(1, len(ids) + 1))
    ident = pl.read_parquet(out / "identifiers.parquet")
    assert ident["embedding_id"].to_list() == list(range(len(ids) + 1))
    named = ident.filter(pl.col("version") > 0).row(0, named=True)
    assert named["name"] == f"{named['task_id']}_t{named['dihedral']}_{named['colour_map']}"


def test_one_and_two_workers_give_identical_bytes(built, arc_dirs, tmp_path):
    config, out = built
    other = tmp_path / "ds"
    build(config, other, workers=1, progress=False)
    files = sorted(p.relative_to(out) for p in out.rglob("*") if p.is_file())
    assert files == sorted(p.relative_to(other) for p in other.rglob("*") if p.is_file())
    for f in files:
        if f.name != "build.json":
            assert (out / f).read_bytes() == (other / f).read_bytes(), f


def test_existing_dataset_needs_overwrite(built):
    config, out = built
    with pytest.raises(DatasetError, match="--overwrite"):
        build(config, out, workers=1, progress=False)


@pytest.mark.parametrize("granularity", ["task", "pair", "none"])
def test_id_granularities_and_strict_split(arc_dirs, tmp_path, granularity):
    config = small_config(arc_dirs, versions=3)
    config["ids"] = granularity
    config["split"] = "strict"
    build(config, tmp_path / "ds", workers=1, progress=False)
    frame = rows_of(tmp_path / "ds")
    ev = ["00576224", "009d5c81"]
    assert not frame.filter((pl.col("split") == "train") & pl.col("task_id").is_in(ev)).height
    assert set(frame.filter(pl.col("split") == "eval_demos")["task_id"]) == set(ev)
    ids = frame["embedding_id"]
    if granularity == "none":
        assert (ids == 0).all()
        return
    key = ["task_id"] if granularity == "task" else ["task_id", "version", "role", "pair_index"]
    per_key = frame.group_by(key).agg(
        pl.col("embedding_id").n_unique().alias("n"), pl.col("embedding_id").first().alias("id")
    )
    assert (per_key["n"] == 1).all()
    assert per_key["id"].n_unique() == per_key.height
    assert sorted(per_key["id"].to_list()) == list(range(1, per_key.height + 1))
