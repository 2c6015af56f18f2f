"""Every user error is one ``error:`` line with exit status 2, in every command; Ctrl-C is one
line and no traceback; JSON output is strict; ``evaluate --max-examples N`` scores exactly N."""

from __future__ import annotations

import errno
import json
import math
import os
import shutil
import signal
import subprocess
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from arcdata import jsonio
from arcdata.cli import main
from arcdata.errors import describe_os_error, one_line
from tests.conftest import small_config
from tests.reliability.helpers import (
    arcdata_cmd,
    assert_same_dataset,
    group_alive,
    poll,
    start_group,
    unit_records,
)

TINY_MODEL = [
    f"--set={kv}"
    for kv in (
        "max_steps=2",
        "global_batch_size=8",
        "eval_interval=-1",
        "model.hidden_size=32",
        "model.num_heads=2",
        "model.h_layers=1",
        "model.l_layers=1",
        "model.puzzle_emb_ndim=32",
        "model.halt_max_steps=2",
        "progress=false",
        "device=cpu",
    )
]


def run(*args: str):
    return CliRunner().invoke(main, [str(a) for a in args])


def assert_one_error_line(result, *fragments: str) -> str:
    """Exit status 2, nothing printed but one line starting ``error:`` that names the problem."""
    lines = result.output.strip().splitlines()
    assert result.exit_code == 2, result.output
    assert len(lines) == 1 and lines[0].startswith("error: "), result.output
    assert "Traceback" not in result.output
    for fragment in fragments:
        assert fragment in lines[0], lines[0]
    return lines[0]


@pytest.fixture(scope="module")
def hrm_dataset(arc_dirs, tmp_path_factory) -> Path:
    from arcdata.builder.driver import build

    out = tmp_path_factory.mktemp("errors") / "ds"
    build(small_config(arc_dirs, versions=3), out, workers=1, progress=False)
    return out


@pytest.fixture(scope="module")
def trained(hrm_dataset, tmp_path_factory) -> Path:
    """A two-step run of a tiny HRM (its predictions are all wrong: calibration is NaN)."""
    out = tmp_path_factory.mktemp("errors") / "run"
    result = run("train", hrm_dataset, "--out", out, *TINY_MODEL)
    assert result.exit_code == 0, result.output
    return out


def user_errors(tiny: Path, dataset: Path, scratch: Path) -> dict[str, tuple[list, str]]:
    empty = scratch / "empty"
    return {
        "build: missing pipeline": (["build", scratch / "nope.yaml"], "nope.yaml"),
        "build: bad --set": (["build", tiny, "--set", "augment.versions=abc"], "augment.versions"),
        "build: unknown option": (["build", tiny, "--wrokers", "2"], "--wrokers"),
        "inspect: not a dataset": (["inspect", empty], "no manifest.json"),
        "show: unknown task": (["show", dataset, "nosuchtask"], "nosuchtask"),
        "verify: no folder": (["verify", scratch / "missing"], "missing"),
        "export: onto a dataset": (
            ["export", dataset, "--format", "hrm", "--out", dataset],
            "exists",
        ),
        "import: not npy": (["import", empty, "--format", "hrm", "--out", scratch / "x"], "empty"),
        "train: device=gpu": (["train", dataset, "--set", "device=gpu"], "'gpu'"),
        "train: num_heads=5": (["train", dataset, "--set", "model.num_heads=5"], "num_heads 5"),
        "train: unknown key": (["train", dataset, "--set", "lr_warmup_step=3"], "lr_warmup_step"),
        "evaluate: not a run": (["evaluate", empty, dataset], "config.yaml"),
        "evaluate: --max-examples 0": (["evaluate", empty, dataset, "--max-examples", "0"], "0"),
        "unknown command": (["trian"], "trian"),
    }


CASES = sorted(user_errors(Path("t"), Path("d"), Path("s")))


@pytest.mark.parametrize("case", CASES)
def test_user_errors_are_one_line_with_status_2(case, tiny, tmp_path, hrm_dataset):
    (tmp_path / "empty").mkdir()
    args, fragment = user_errors(tiny.pipeline, hrm_dataset, tmp_path)[case]
    assert_one_error_line(run(*args), fragment)


def test_multi_line_messages_become_one_line():
    text = "x.pt does not fit the model:\n  missing (2): a, b\n  unexpected (1): c\n"
    assert one_line(text) == "x.pt does not fit the model: missing (2): a, b; unexpected (1): c"


def _disk_full(self, *args, **kwargs):
    raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(self))


def test_disk_full_during_a_build_is_one_line(tiny, tmp_path, monkeypatch):
    monkeypatch.setattr(Path, "write_text", _disk_full)
    result = run("build", tiny.pipeline, "--out", tmp_path / "out", "--workers", "1", "--quiet")
    assert_one_error_line(result, "no space left on the device", str(tmp_path))


def test_disk_full_during_training_is_one_line(hrm_dataset, tmp_path, monkeypatch):
    monkeypatch.setattr(Path, "write_text", _disk_full)
    result = run("train", hrm_dataset, "--out", tmp_path / "run", *TINY_MODEL)
    assert_one_error_line(result, "no space left on the device", "config.yaml")


def test_os_errors_name_their_files():
    e = OSError(errno.EACCES, "Permission denied", "/a", None, "/b")
    assert describe_os_error(e) == "/a -> /b: permission denied"


def test_empty_checkpoint_file_is_one_line(trained, hrm_dataset, tmp_path):
    empty = tmp_path / "empty.pt"
    empty.write_bytes(b"")
    result = run("evaluate", trained, hrm_dataset, "--checkpoint", empty, "--out", tmp_path / "r")
    assert_one_error_line(result, "empty.pt", "empty checkpoint file")


def test_resume_from_an_empty_checkpoint_is_one_line(trained, hrm_dataset, tmp_path):
    copy = tmp_path / "run"
    shutil.copytree(trained, copy)
    latest = (copy / "checkpoints" / "latest").read_text().strip()
    (copy / "checkpoints" / latest / "state.pt").write_bytes(b"")
    result = run("train", hrm_dataset, "--resume", copy, "--set", "max_steps=3")
    assert_one_error_line(result, "state.pt", "empty checkpoint file")


def strict_loads(text: str):
    def refuse(name):
        raise AssertionError(f"non-standard JSON constant {name}")

    return json.loads(text, parse_constant=refuse)


def test_evaluate_scores_exactly_max_examples_and_writes_strict_json(
    trained, hrm_dataset, tmp_path
):
    import polars as pl

    out = tmp_path / "rep"
    result = run("evaluate", trained, hrm_dataset, "--max-examples", "3", "--batch-size", "8",
                 "--out", out, "--device", "cpu")  # fmt: skip
    assert result.exit_code == 0, result.output
    metrics = strict_loads((out / "metrics.json").read_text())
    assert metrics["examples"] == 3
    assert pl.read_parquet(out / "predictions.parquet").height == 3
    assert metrics["calibration"]["pearson_r"] is None  # NaN: every prediction is wrong
    for line in (trained / "metrics.jsonl").read_text().splitlines():
        strict_loads(line)


def test_json_helper_turns_non_finite_numbers_into_null():
    value = {"a": math.nan, "b": [np.float32("inf"), 1.5, (np.float64(-math.inf), 2)], "c": "NaN"}
    assert jsonio.dumps(value) == '{"a": null, "b": [null, 1.5, [null, 2]], "c": "NaN"}'
    assert jsonio.dumps({"n": np.int64(3), "x": np.float32(0.5)}) == '{"n": 3, "x": 0.5}'


def test_verify_json_is_strict(tiny):
    result = run("verify", tiny.reference, "--json", "--quiet")
    assert result.exit_code == 0 and strict_loads(result.output)["ok"]


def test_ctrl_c_in_any_command_is_one_line(tiny, monkeypatch):
    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr("arcdata.verify.verify_dataset", interrupted)
    result = run("verify", tiny.reference)
    assert result.exit_code == 130 and result.output == "interrupted\n"


def test_ctrl_c_during_a_build_is_one_line_and_resume_finishes(tiny, tmp_path):
    """SIGINT to the whole process group, as a terminal's Ctrl-C sends it: the driver prints one
    line with the --resume hint, no worker prints a traceback, every process ends."""
    out, partial = tmp_path / "data", tmp_path / ".data.partial"
    cmd = arcdata_cmd("build", str(tiny.pipeline), "--out", str(out), "--workers", "2", "--quiet")
    log = tmp_path / "build.log"
    proc = start_group(cmd, log)
    try:
        poll(
            lambda: len(unit_records(partial)) >= 2 or proc.poll() is not None,
            300,
            "two finished units",
        )
        assert proc.poll() is None, f"build ended before Ctrl-C:\n{log.read_text()}"
        os.killpg(proc.pid, signal.SIGINT)
        assert proc.wait(timeout=120) == 130, log.read_text()
        poll(lambda: not group_alive(proc.pid), 60, "every build process to end", interval=0.1)
    finally:
        if proc.poll() is None or group_alive(proc.pid):
            os.killpg(proc.pid, signal.SIGKILL)
    assert log.read_text().splitlines() == [
        "interrupted: finished units are kept; rerun the same command with --resume to continue"
    ]
    assert not out.exists()
    done = subprocess.run([*cmd, "--resume"], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert_same_dataset(tiny.reference, out)


def test_every_json_writer_uses_the_strict_helper():
    """``json.dump(s)`` outside arcdata/jsonio.py is only for hashing (followed by .encode),
    so no writer can bring bare NaN back."""
    package = Path(__file__).resolve().parents[2] / "arcdata"
    offenders = []
    for path in sorted(package.rglob("*.py")):
        if path.name == "jsonio.py":
            continue
        lines = path.read_text().splitlines()
        for i, line in enumerate(lines):
            if "json.dump(" in line or (
                "json.dumps(" in line and ".encode(" not in " ".join(lines[i : i + 4])
            ):
                offenders.append(f"{path.relative_to(package.parent)}:{i + 1}")
    assert not offenders, f"write JSON with arcdata.jsonio.dumps: {offenders}"
