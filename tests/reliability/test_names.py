"""Names never collide: a task id that reads as another task's version name is refused."""

from __future__ import annotations

import json
import subprocess

import numpy as np

from tests.reliability.helpers import arcdata_cmd, random_task, write_arc_dir, write_pipeline


def test_task_named_like_a_version_is_refused_naming_it(tmp_path):
    train = tmp_path / "train"
    write_arc_dir(train, 2, seed=1, prefix="x")  # x000, x001
    bad = "x000_t1_0123456789"  # would be the name of version (t1, identity map) of x000
    (train / f"{bad}.json").write_text(json.dumps(random_task(np.random.default_rng(2))))
    write_arc_dir(tmp_path / "eval", 1, seed=3, prefix="v")
    pipeline = write_pipeline(tmp_path / "p.yaml", train, tmp_path / "eval")
    out = tmp_path / "data"
    done = subprocess.run(
        arcdata_cmd("build", str(pipeline), "--out", str(out)),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 2
    assert done.stderr.startswith("error: ") and "Traceback" not in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1
    assert f"task {bad}" in done.stderr and "version name" in done.stderr
    assert not out.exists()
