"""The command line as a user meets it: help, build, inspect, show, and one-line errors."""

from __future__ import annotations

import json

import yaml
from click.testing import CliRunner

from arcdata.cli import main


def write_pipeline(tmp_path, arc_dirs, **extra) -> str:
    train, evaluation = arc_dirs
    spec = {
        "name": "tiny",
        "sources": {
            "train": {"type": "arc_dir", "path": str(train)},
            "eval": {"type": "arc_dir", "path": str(evaluation), "evaluation": True},
        },
        "augment": {"versions": 4},
        **extra,
    }
    path = tmp_path / "tiny.yaml"
    path.write_text(yaml.safe_dump(spec))
    return str(path)


def test_help_teaches_the_tool():
    runner = CliRunner()
    res = runner.invoke(main, ["--help"])
    assert res.exit_code == 0 and "arcdata build pipelines/arc-agi-1.yaml" in res.output
    res = runner.invoke(main, ["build", "--help"])
    assert "--set" in res.output and "--scheduler" in res.output and "--on-error" in res.output


def test_build_inspect_show(tmp_path, arc_dirs):
    runner = CliRunner()
    pipeline = write_pipeline(tmp_path, arc_dirs)
    out = tmp_path / "ds"
    res = runner.invoke(
        main,
        [
            "build",
            pipeline,
            "--out",
            str(out),
            "--workers",
            "1",
            "--quiet",
            "--set",
            "augment.versions=2",
        ],
    )
    assert res.exit_code == 0, res.output
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["config"]["augment"]["versions"] == 2
    res = runner.invoke(main, ["inspect", str(out)])
    assert res.exit_code == 0 and "tasks 7" in res.output and "split train" in res.output
    png = tmp_path / "t.png"
    res = runner.invoke(
        main,
        ["show", str(out), "007bbfb7", "--version", "1", "--png", str(png), "--colour"],
        color=True,
    )
    assert res.exit_code == 0, res.output
    assert "007bbfb7 version 1" in res.output and "\x1b[48;2;" in res.output
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    # from the pipeline file directly, no build: the same transform as the built version
    res2 = runner.invoke(
        main, ["show", pipeline, "007bbfb7", "--version", "1", "--set", "augment.versions=2"]
    )
    assert res2.exit_code == 0, res2.output
    assert res2.output.splitlines()[0] == res.output.splitlines()[0]
    assert "0 0 0" in res2.output  # no colour terminal: plain digits


def test_errors_are_one_line(tmp_path, arc_dirs):
    runner = CliRunner()
    pipeline = write_pipeline(tmp_path, arc_dirs)
    res = runner.invoke(main, ["build", pipeline, "--set", "augment.versoins=2"])
    assert res.exit_code == 2 and "augment" in res.output and "Traceback" not in res.output
    res = runner.invoke(main, ["show", pipeline, "nope"])
    assert res.exit_code == 2 and "no task 'nope'" in res.output
