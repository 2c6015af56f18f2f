"""``build --dry-run``: the resolved config and the planned work, and nothing on disk."""

from __future__ import annotations

from click.testing import CliRunner

from arcdata.cli import main

PIPELINE = """\
name: tiny
codec: sudoku4
ids: none
sources:
  gen: {type: sudoku_generated, size: 4, count: 20, test_count: 4}
augment: {versions: 5, sudoku: true, translate: false, evaluation: false}
shards: {rows: 40}
"""


def test_dry_run_reports_the_work_and_writes_nothing(tmp_path):
    pipeline = tmp_path / "tiny.yaml"
    pipeline.write_text(PIPELINE)
    out = tmp_path / "data" / "tiny"
    result = CliRunner().invoke(main, ["build", str(pipeline), "--out", str(out), "--dry-run"])
    assert result.exit_code == 0, result.output
    text = result.output
    assert "# resolved pipeline config" in text and "versions: 5" in text
    assert "gen" in text and "sudoku_generated" in text and "24 tasks" in text
    assert "tasks: 24 (20 training, 4 evaluation, not augmented)" in text
    assert "rows: at most 124" in text  # 20 x (5 + 1) + 4
    assert "units: 4 of about 40 rows" in text and "nothing was written" in text
    assert sorted(p.name for p in tmp_path.iterdir()) == ["tiny.yaml"]


def test_dry_run_still_refuses_bad_input(tmp_path):
    pipeline = tmp_path / "bad.yaml"
    pipeline.write_text(PIPELINE.replace("count: 20", "count: 40"))
    result = CliRunner().invoke(main, ["build", str(pipeline), "--dry-run"])
    assert result.exit_code == 2 and "only 36 non-equivalent 4x4 puzzles" in result.output
