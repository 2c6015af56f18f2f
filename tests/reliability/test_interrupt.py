"""A build killed with SIGKILL (driver, scheduler and every worker at once) leaves no dataset,
or the previous one untouched; ``--resume`` reuses the checked shards and ends with the same
bytes as an uninterrupted build."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

from tests.reliability.helpers import (
    EXCLUDED,
    arcdata_cmd,
    assert_same_dataset,
    kill_group,
    poll,
    process_group,
    tree_digest,
    unit_records,
)

BUILD_TIMEOUT = 300


def _kill_after_units(cmd: list[str], partial: Path, log: Path, units: int = 2) -> list[Path]:
    """Run ``cmd``, SIGKILL its process group once ``units`` units are recorded; returns the
    unit records found after the kill."""
    with process_group(cmd, log) as proc:
        poll(
            lambda: len(unit_records(partial)) >= units or proc.poll() is not None,
            BUILD_TIMEOUT,
            f"{units} finished units in {partial}",
        )
        assert proc.poll() is None, f"build ended before it could be killed:\n{log.read_text()}"
        kill_group(proc)
    return unit_records(partial)


def test_sigkill_leaves_nothing_and_resume_is_byte_identical(tiny, tmp_path):
    out = tmp_path / "data"
    partial = tmp_path / ".data.partial"
    cmd = arcdata_cmd("build", str(tiny.pipeline), "--out", str(out), "--workers", "2", "--quiet")
    finished = _kill_after_units(cmd, partial, tmp_path / "killed.log")

    assert not out.exists(), "a killed build must not leave a dataset at the destination"
    assert 2 <= len(finished) < tiny.units, "the kill should land mid-build"
    # The shards of finished units keep their inode when published: proof of reuse.
    reusable = set()
    for record in finished:
        for s in json.loads(record.read_text())["splits"].values():
            reusable.add((partial / s["path"]).stat().st_ino)

    done = subprocess.run([*cmd, "--resume"], capture_output=True, text=True, timeout=BUILD_TIMEOUT)
    assert done.returncode == 0, done.stderr
    assert not partial.exists()
    assert_same_dataset(tiny.reference, out)
    info = json.loads((out / "build.json").read_text())
    assert info["resumed_units"] >= len(finished)
    published = {p.stat().st_ino for p in out.rglob("part-*.parquet")}
    assert reusable <= published, "resume rebuilt shards it could have reused"


def test_sigkill_during_overwrite_keeps_the_previous_dataset(tiny, tmp_path):
    out = tmp_path / "data"
    shutil.copytree(tiny.reference, out)
    before = tree_digest(out, exclude=set())
    assert any(k in before for k in EXCLUDED)
    cmd = arcdata_cmd(
        "build",
        str(tiny.pipeline),
        "--out",
        str(out),
        "--workers",
        "2",
        "--quiet",
        "--overwrite",
        "--set",
        "seed=8",
    )
    _kill_after_units(cmd, tmp_path / ".data.partial", tmp_path / "killed.log")
    assert tree_digest(out, exclude=set()) == before
    assert not (tmp_path / ".data.old").exists()
