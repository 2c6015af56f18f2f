"""A writer killed at any step of publishing never leaves the destination without a dataset
(the previous one or the new one), and the next command recovers by itself.

Each case runs the publish in a subprocess whose step hook calls ``os._exit`` at step k, for
every k, with the atomic exchange and again as on a filesystem without one (where the instant
between the two renames is undone by the next command's recovery).
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from arcdata.storage.manifest import read_manifest
from arcdata.storage.publish import lock_path, old_path, staged, staging_path
from tests.reliability.helpers import tree_digest
from tests.storage.helpers import fake_dataset, marker_of

REPO = Path(__file__).resolve().parents[2]
KILLED = 9

PUBLISH = """
import json, os, sys
from pathlib import Path
from arcdata.storage import publish
from tests.storage.helpers import fake_dataset

out, kill_at, mode = Path(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
if mode == "fallback":
    publish._renameat2 = lambda: None
steps = []
def hook(name):
    steps.append(name)
    if len(steps) == kill_at:
        os._exit(9)
publish.STEP_HOOK = hook
with publish.staged(out, overwrite=True) as stage:
    fake_dataset(stage.path / "new", "new")
    for child in (stage.path / "new").iterdir():
        os.rename(child, stage.path / child.name)
    (stage.path / "new").rmdir()
print(json.dumps(steps))
"""

EXPORT = """
import os, sys
from arcdata.storage import publish
kill_at, steps = int(sys.argv[1]), []
def hook(name):
    steps.append(name)
    if len(steps) == kill_at:
        os._exit(9)
publish.STEP_HOOK = hook
from arcdata.formats.hrm import export_hrm
export_hrm(sys.argv[2], sys.argv[3], overwrite=True)
"""


def run(script: str, *args: object) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", script, *map(str, args)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
    )


def steps_of(tmp: Path, mode: str) -> list[str]:
    """The steps of one whole publish over a previous dataset (nothing killed)."""
    out = fake_dataset(tmp / "probe", "old")
    done = run(PUBLISH, out, 0, mode)
    assert done.returncode == 0, done.stderr
    shutil.rmtree(out)
    return json.loads(done.stdout)


def held(out: Path) -> str | None:
    """Which dataset is at ``out`` right now: 'old', 'new' or None."""
    try:
        return marker_of(out)
    except OSError:
        return None


@pytest.mark.parametrize("mode", ["exchange", "fallback"])
def test_a_kill_at_every_step_leaves_the_old_or_the_new_dataset(tmp_path, mode):
    steps = steps_of(tmp_path, mode)
    assert {"sync", "check", "sync-parent", "remove-previous"} <= set(steps)
    assert ("move-previous" in steps) == (mode == "fallback")
    for k in range(1, len(steps) + 1):
        out = fake_dataset(tmp_path / f"kill{k}" / "data", "old")
        killed = run(PUBLISH, out, k, mode)
        assert killed.returncode == KILLED, (steps[k - 1], killed.stderr)
        now = held(out)
        between_renames = steps[k - 1] == "rename" and mode == "fallback"
        if not between_renames:  # no instant without a dataset but the fallback's one gap
            assert now in ("old", "new"), f"killed before {steps[k - 1]!r}: {now}"
        # The next command (a reader here) recovers by itself.
        assert read_manifest(out)["marker"] in ("old", "new"), steps[k - 1]
        if now is not None:
            assert marker_of(out) == now, "recovery must not change a published dataset"
        assert not old_path(out).exists() or held(out) is not None
        # ... and the next writer publishes normally and leaves nothing behind.
        with staged(out, overwrite=True) as stage:
            fake_dataset(stage.path / "x", "next")
            for child in (stage.path / "x").iterdir():
                child.rename(stage.path / child.name)
            (stage.path / "x").rmdir()
        assert marker_of(out) == "next"
        leftovers = [staging_path(out), old_path(out), lock_path(out)]
        assert not any(p.exists() for p in leftovers), steps[k - 1]


def write_npy_layout(out: Path) -> None:
    """A previous export: the reference layout, one split, other tokens than any real build."""
    import numpy as np

    (out / "train").mkdir(parents=True)
    (out / "identifiers.json").write_text(json.dumps(["<blank>", "x"]))
    meta = {"seq_len": 900, "vocab_size": 12, "sets": ["all"]}
    (out / "train" / "dataset.json").write_text(json.dumps(meta))
    for name in ("inputs", "labels", "puzzle_identifiers", "puzzle_indices", "group_indices"):
        np.save(out / "train" / f"all__{name}.npy", np.zeros(3, np.int32))


def recorded_steps(monkeypatch) -> list[str]:
    from arcdata.storage import publish

    steps: list[str] = []
    monkeypatch.setattr(publish, "STEP_HOOK", steps.append)
    return steps


def test_build_export_and_import_all_publish_through_the_same_steps(tiny, tmp_path, monkeypatch):
    from arcdata.builder.driver import build
    from arcdata.formats.hrm import export_hrm, import_hrm

    whole = steps_of(tmp_path, "exchange")
    steps = recorded_steps(monkeypatch)
    shutil.copytree(tiny.reference, tmp_path / "data")
    build(tiny.config(), tmp_path / "data", workers=1, overwrite=True, progress=False)
    assert steps == whole, "build"
    steps.clear()
    write_npy_layout(tmp_path / "npy")
    export_hrm(tiny.reference, tmp_path / "npy", overwrite=True)
    assert steps == whole, "export"
    steps.clear()
    import_hrm(tmp_path / "npy", tmp_path / "data", overwrite=True)
    assert steps == whole, "import"


def test_export_killed_mid_publish_keeps_a_dataset_and_the_next_export_recovers(tiny, tmp_path):
    from arcdata.formats.hrm import export_hrm

    export_hrm(tiny.reference, tmp_path / "clean")
    new = tree_digest(tmp_path / "clean")
    out = tmp_path / "npy"
    write_npy_layout(out)
    old = tree_digest(out)
    whole = steps_of(tmp_path, "exchange")
    k = whole.index("remove-previous") + 1  # swapped in, previous not yet deleted
    killed = run(EXPORT, k, tiny.reference, out)
    assert killed.returncode == KILLED, killed.stderr
    assert tree_digest(out) in (old, new)
    export_hrm(tiny.reference, out, overwrite=True)
    assert tree_digest(out) == new
    assert sorted(p.name for p in out.parent.iterdir()) == ["clean", "npy"]
