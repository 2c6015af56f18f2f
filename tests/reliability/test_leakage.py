"""The leakage report of a real build: an evaluation test pair that is a rotated, recoloured
copy of a training pair is recorded in the manifest, shown by ``inspect``, and refused by
``build --fail-on-leak`` before anything is written."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from arcdata.cli import main
from arcdata.verify import verify_dataset
from tests.reliability.helpers import random_task, write_pipeline


def _moved(grid: list[list[int]], cmap: np.ndarray) -> list[list[int]]:
    return cmap[np.rot90(np.array(grid), 1)].tolist()


@pytest.fixture(scope="module")
def pipeline(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("leak")
    rng = np.random.default_rng(5)
    train, evaluation = root / "train", root / "eval"
    train.mkdir()
    evaluation.mkdir()
    tasks = {f"t{i}": random_task(rng) for i in range(3)}
    for name, task in tasks.items():
        (train / f"{name}.json").write_text(json.dumps(task))
    cmap = np.array([0, 3, 1, 2, 5, 4, 7, 6, 9, 8])  # a recolouring that keeps 0
    source = tasks["t1"]["train"][2]
    leaked = random_task(rng)
    leaked["test"] = [{k: _moved(v, cmap) for k, v in source.items()}]
    (evaluation / "e_leak.json").write_text(json.dumps(leaked))
    (evaluation / "e_clean.json").write_text(json.dumps(random_task(rng)))
    return write_pipeline(root / "leak.yaml", train, evaluation, name="leak", versions=2)


def run(*args) -> object:
    return CliRunner().invoke(main, [str(a) for a in args])


def test_leak_is_recorded_shown_and_refused(pipeline, tmp_path):
    out = tmp_path / "data"
    refused = run("build", pipeline, "--out", out, "--workers", "1", "--quiet", "--fail-on-leak")
    assert refused.exit_code == 2, refused.output
    line = refused.output.strip()
    assert line.startswith("error: leakage: 1 of 2 evaluation test pairs") and "\n" not in line
    assert "e_leak test 0 ~ t1 train 2" in line
    assert not out.exists() and not (tmp_path / ".data.partial").exists()

    built = run("build", pipeline, "--out", out, "--workers", "1", "--quiet")
    assert built.exit_code == 0, built.output
    leakage = json.loads((out / "manifest.json").read_text())["leakage"]
    assert (leakage["leaked"], leakage["exact"], leakage["evaluation_test_pairs"]) == (1, 0, 2)
    assert leakage["pairs"] == [
        {
            "task": "e_leak",
            "pair": 0,
            "exact": False,
            "same_task": False,
            "matches": [{"task": "t1", "role": "train", "pair": 2}],
            "match_count": 1,
        }
    ]
    shown = run("inspect", out)
    assert "leakage: 1 of 2 evaluation test pairs occur in the train split" in shown.output
    assert verify_dataset(out).ok  # the record passes the manifest schema
