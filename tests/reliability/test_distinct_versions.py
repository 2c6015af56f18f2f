"""No task repeats a version: checked on the full default ARC-AGI-1 build, from the rows alone.

Two versions of a task are the same when their multisets of (input, output) pairs, over all
splits and roles, are equal. The check hashes each stored pair (grid bytes and shapes), sorts a
version's pair hashes and compares versions by that list: independent of the planner's key.
"""

from __future__ import annotations

import json
import subprocess

import polars as pl
import pytest

from tests.conftest import REPO
from tests.reliability.helpers import arcdata_cmd


def version_contents(root) -> pl.DataFrame:
    """One row per (task, version): its pair count and the sorted multiset of pair hashes."""
    manifest = json.loads((root / "manifest.json").read_text())
    paths = [str(root / e["path"]) for s in manifest["splits"].values() for e in s["shards"]]
    pairs = (
        pl.scan_parquet(paths)
        .select(
            "task_id",
            "version",
            pl.struct("input", "input_h", "input_w", "output", "output_h", "output_w")
            .hash(11)
            .alias("a"),
            pl.struct("output", "output_h", "output_w", "input", "input_h", "input_w")
            .hash(29)
            .alias("b"),
        )
        .collect()
    )
    return pairs.group_by("task_id", "version").agg(
        pl.len().alias("pairs"),
        pl.concat_list("a", "b").sort().alias("content"),
    )


@pytest.mark.slow
def test_default_arc_agi_1_build_repeats_no_version(tmp_path):
    out = tmp_path / "arc1"
    done = subprocess.run(
        arcdata_cmd("build", str(REPO / "pipelines" / "arc-agi-1.yaml"), "--out", str(out)),
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert done.returncode == 0, done.stderr
    manifest = json.loads((out / "manifest.json").read_text())
    versions = version_contents(out)
    assert versions.height == manifest["totals"]["versions"]
    assert (versions["version"] == 0).sum() == manifest["totals"]["tasks"] == 800
    per_task = versions.group_by("task_id").agg(
        pl.len().alias("versions"), pl.col("content").n_unique().alias("distinct")
    )
    repeated = per_task.filter(pl.col("versions") != pl.col("distinct"))
    assert repeated.height == 0, f"tasks repeating a version: {repeated.head(10)}"
    assert per_task["versions"].max() == 1001
    # the symmetric task of the issue: a D4 move swaps its two demonstration pairs
    assert per_task.filter(pl.col("task_id") == "4522001f")["versions"].item() <= 289
    assert manifest["embedding_ids"]["count"] == manifest["totals"]["versions"] + 1
    short = manifest["short_tasks"]["count"]
    assert short == (per_task["versions"] < 1001).sum()
