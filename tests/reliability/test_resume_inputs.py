"""``--resume`` never mixes inputs: a build that died after finishing some units, whose raw
files are then edited, added to or removed from, resumes to the bytes of a clean build of the
new inputs (a unit is reused only if the config hash, every source file's checksum and the
unit's task list match)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from arcdata.builder import driver
from arcdata.builder.staging import accept_unit
from arcdata.config import load_pipeline
from tests.reliability.helpers import (
    assert_same_dataset,
    random_task,
    unit_records,
    write_arc_dir,
    write_pipeline,
)

FINISHED = 3


def dying_after(n: int):
    """Stands in for the driver's accept_unit: the build dies once ``n`` units are recorded."""
    accepted = []

    def accept(tmp, stats, unit):
        if len(accepted) == n:
            raise RuntimeError("simulated crash mid-build")
        accepted.append(unit.index)
        return accept_unit(tmp, stats, unit)

    return accept


@pytest.mark.parametrize("change", ["edited", "added", "removed"])
def test_resume_after_the_raw_files_changed_equals_a_clean_build_of_them(
    tmp_path, monkeypatch, change
):
    raw = tmp_path / "raw"
    write_arc_dir(raw / "train", 12, seed=1, prefix="t")
    write_arc_dir(raw / "eval", 2, seed=2, prefix="x")
    pipeline = write_pipeline(tmp_path / "p.yaml", raw / "train", raw / "eval", rows=8)
    out, partial = tmp_path / "data", tmp_path / ".data.partial"

    with monkeypatch.context() as m:
        m.setattr(driver, "accept_unit", dying_after(FINISHED))
        with pytest.raises(RuntimeError, match="simulated crash"):
            driver.build(load_pipeline(pipeline), out, workers=1, progress=False)
    finished = [json.loads(r.read_text())["task_ids"] for r in unit_records(partial)]
    assert len(finished) == FINISHED and not out.exists()

    # Change a task that a finished unit holds (or add one beside it).
    target = next(ids[0] for ids in finished if ids[0].startswith("t"))
    folder = raw / "train"
    task = json.dumps(random_task(np.random.default_rng(99)))
    if change == "edited":  # same pair counts: the units pack exactly as before
        (folder / f"{target}.json").write_text(task)
    elif change == "added":
        (folder / f"{target}a.json").write_text(task)
    else:
        (folder / f"{target}.json").unlink()

    manifest = driver.build(load_pipeline(pipeline), out, workers=1, resume=True, progress=False)
    clean = tmp_path / "clean"
    driver.build(load_pipeline(pipeline), clean, workers=1, progress=False)
    assert_same_dataset(clean, out)
    assert manifest["totals"]["tasks"] == {"edited": 14, "added": 15, "removed": 13}[change]
    # Changed inputs can shift any unit's ids: nothing of the old inputs is reused.
    assert json.loads((out / "build.json").read_text())["resumed_units"] == 0
