"""``arcdata export`` / ``arcdata import``: the commands round-trip the reference's bytes."""

from __future__ import annotations

from click.testing import CliRunner

from arcdata.formats.cli import export_cmd, import_cmd
from tests.formats.conftest import assert_same_bytes


def test_cli_commands(golden, tmp_path, monkeypatch, cache):
    monkeypatch.setenv("ARCDATA_STREAM_CACHE", str(cache))
    runner = CliRunner()
    r = runner.invoke(import_cmd, [str(golden), "--format", "hrm", "--out", str(tmp_path / "ds")])
    assert r.exit_code == 0, r.output
    assert "train: 39 examples, 9 puzzles, 3 groups" in r.output
    r = runner.invoke(export_cmd, [str(tmp_path / "ds"), "--out", str(tmp_path / "npy")])
    assert r.exit_code == 0, r.output
    assert_same_bytes(golden, tmp_path / "npy")
