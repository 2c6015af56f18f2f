"""The on-error policies end to end, and what a build may replace at its destination.

``fail`` (default) stops before writing anything; ``skip`` builds the rest and lists each
reject (what, where, why) in the manifest, with tasks read = built + rejected.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import polars as pl
import pytest

from arcdata.builder.driver import build
from arcdata.config import load_pipeline
from arcdata.errors import DatasetError
from arcdata.verify import verify_dataset
from tests.reliability.helpers import arcdata_cmd, tree_digest, write_arc_dir, write_pipeline

TIMEOUT = 300


def bad_sources(root: Path) -> tuple[Path, dict[str, str]]:
    """A small pipeline whose sources hold good tasks and one defect of several kinds;
    returns it and {bad task id: fragment of the expected reason}."""
    good = write_arc_dir(root / "train", 6, seed=3, prefix="g")
    write_arc_dir(root / "eval", 2, seed=4, prefix="v")
    (root / "train" / "broken.json").write_text('{"train": [{"input": [[1]]')
    (root / "train" / "ragged.json").write_text(
        json.dumps(
            {
                "train": [{"input": [[1, 2], [3]], "output": [[1]]}],
                "test": [{"input": [[1]], "output": [[1]]}],
            }
        )
    )
    (root / "train" / "notest.json").write_text(
        json.dumps({"train": [{"input": [[1]], "output": [[1]]}]})
    )
    (root / "eval" / "g000.json").write_text((root / "train" / "g000.json").read_text())
    assert "g000" in good
    pipeline = write_pipeline(root / "p.yaml", root / "train", root / "eval", name="bad", rows=1000)
    return pipeline, {
        "broken": "malformed JSON",
        "ragged": "ragged",
        "notest": "missing 'test'",
        "g000": "duplicate task id",
    }


def test_fail_policy_stops_before_writing_anything(tmp_path):
    pipeline, _ = bad_sources(tmp_path)
    out = tmp_path / "data"
    done = subprocess.run(
        arcdata_cmd("build", str(pipeline), "--out", str(out)),
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
    )
    assert done.returncode == 2
    assert done.stderr.startswith("error: ") and "Traceback" not in done.stderr
    assert "broken.json" in done.stderr and "malformed JSON" in done.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["eval", "p.yaml", "train"]


def test_skip_policy_builds_the_rest_and_reports_rejects(tmp_path, tiny):
    pipeline, expected = bad_sources(tmp_path)
    out = tmp_path / "data"
    shutil.copytree(tiny.reference, out)  # an older dataset, replaced because of --overwrite
    done = subprocess.run(
        arcdata_cmd(
            "build",
            str(pipeline),
            "--out",
            str(out),
            "--quiet",
            "--on-error",
            "skip",
            "--overwrite",
            "--workers",
            "1",
        ),
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
    )
    assert done.returncode == 0, done.stderr
    assert "4 inputs rejected" in done.stdout

    m = json.loads((out / "manifest.json").read_text())
    assert m["name"] == "bad" and m["config"]["on_error"] == "skip"
    # a file that is not JSON at all has no task inside it: its reject names the file
    reasons = {r["task"] or Path(r["file"]).stem: r for r in m["rejects"]}
    assert set(reasons) == set(expected)
    for task, fragment in expected.items():
        assert fragment in reasons[task]["reason"] and reasons[task]["file"]
    assert reasons["ragged"]["pair"] == "train[0]" and reasons["ragged"]["field"] == "input"
    assert reasons["notest"]["field"] == "test"
    t = m["totals"]
    assert (t["tasks_read"], t["tasks"], t["tasks_rejected"]) == (12, 8, 4)
    assert t["tasks_read"] == t["tasks"] + t["tasks_rejected"]
    for s in m["sources"]:
        assert s["read"] == s["built"] + s["rejected"]
    built = set(pl.read_parquet(out / "*" / "*.parquet")["task_id"].unique().to_list())
    assert built == {f"g{i:03d}" for i in range(6)} | {"v000", "v001"}
    assert verify_dataset(out).ok


def test_skip_policy_with_nothing_left_writes_nothing(tmp_path):
    (tmp_path / "train").mkdir()
    (tmp_path / "eval").mkdir()
    (tmp_path / "train" / "a.json").write_text("[]")
    (tmp_path / "eval" / "b.json").write_text("{}")
    config = load_pipeline(
        write_pipeline(tmp_path / "p.yaml", tmp_path / "train", tmp_path / "eval")
    )
    with pytest.raises(DatasetError, match="no tasks"):
        build(config, tmp_path / "data", on_error="skip", progress=False)
    assert not (tmp_path / "data").exists() and not (tmp_path / ".data.partial").exists()


def test_existing_dataset_is_refused_without_overwrite(tiny, tmp_path):
    out = tmp_path / "data"
    shutil.copytree(tiny.reference, out)
    before = tree_digest(out, exclude=set())
    done = subprocess.run(
        arcdata_cmd("build", str(tiny.pipeline), "--out", str(out)),
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
    )
    assert done.returncode == 2
    assert "already exists; pass --overwrite" in done.stderr and "Traceback" not in done.stderr
    assert tree_digest(out, exclude=set()) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["data"]


@pytest.mark.parametrize("kind", ["folder", "file"])
def test_something_else_is_never_replaced_even_with_overwrite(tiny, tmp_path, kind):
    out = tmp_path / "precious"
    if kind == "folder":
        out.mkdir()
        (out / "thesis.tex").write_text("years of work")
    else:
        out.write_text("years of work")
    with pytest.raises(DatasetError, match="not replacing it"):
        build(tiny.config(), out, overwrite=True, progress=False)
    assert (out / "thesis.tex" if kind == "folder" else out).read_text() == "years of work"
    assert not (tmp_path / ".precious.partial").exists()
