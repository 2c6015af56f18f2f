"""Pipelines that say what is wrong: every mistake below ends ``arcdata build`` with exit code 2
and one line starting ``error:`` that names the key (and the closest known key for a typo),
before any work starts."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from arcdata.cli import main
from arcdata.config import resolve
from arcdata.sources import Rejects, read_source
from arcdata.sources import sudoku_generated as sudoku_generated_source
from tests.reliability.helpers import write_arc_dir


def build_error(tmp_path: Path, pipeline: dict, *overrides: str) -> str:
    """The one line ``arcdata build`` prints for a bad pipeline (asserting it is one line)."""
    path = tmp_path / "p.yaml"
    path.write_text(yaml.safe_dump(pipeline))
    args = ["build", str(path), "--out", str(tmp_path / "out"), "--quiet", "--workers", "1"]
    for text in overrides:
        args += ["--set", text]
    result = CliRunner().invoke(main, args)
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert result.exit_code == 2, result.output
    assert len(lines) == 1 and lines[0].startswith("error: "), result.output
    assert not (tmp_path / "out").exists()
    return lines[0]


@pytest.fixture
def arc(tmp_path) -> dict:
    write_arc_dir(tmp_path / "tasks", 2, seed=0)
    return {
        "name": "t",
        "sources": {"a": {"type": "arc_dir", "path": str(tmp_path / "tasks")}},
        "augment": {"versions": 2},
    }


def sudoku4(**source) -> dict:
    return {
        "name": "s",
        "codec": "sudoku4",
        "sources": {"gen": {"type": "sudoku_generated", "size": 4, "count": 3, **source}},
        "augment": {"versions": 0},
    }


# ------------------------------------------------------------------ unknown keys, did you mean


@pytest.mark.parametrize(
    ("where", "typo", "meant"),
    [
        (("sources", "a"), "evalution", "evaluation"),
        (("sources", "a"), "subsett", "subset"),
        (("augment",), "versoins", "versions"),
        (("augment", "colours"), "permut", "permute"),
        (("shards",), "row_groups", "row_group"),
        ((), "augmnet", "augment"),
    ],
)
def test_unknown_key_names_the_closest_known_one(tmp_path, arc, where, typo, meant):
    node = arc
    for key in where:
        node = node.setdefault(key, {})
    node[typo] = True
    line = build_error(tmp_path, arc)
    key = ".".join((*where, typo))
    assert f": {key}: unknown key; did you mean {meant!r}?" in line


def test_unknown_key_inside_a_puzzle_source(tmp_path):
    pipeline = {
        "name": "s",
        "codec": "sudoku",
        "sources": {"train": {"type": "sudoku_csv", "path": "x.csv", "subsampel": 10}},
    }
    line = build_error(tmp_path, pipeline)
    assert "sources.train.subsampel: unknown key; did you mean 'subsample'?" in line


def test_a_key_of_another_source_type_is_unknown(tmp_path, arc):
    arc["sources"]["a"]["check_paths"] = True  # a maze_csv key
    assert "sources.a.check_paths: unknown key; known keys: " in build_error(tmp_path, arc)


def test_unknown_source_type_names_the_closest(tmp_path, arc):
    arc["sources"]["a"]["type"] = "arc_dri"
    line = build_error(tmp_path, arc)
    assert "sources.a.type: unknown type 'arc_dri'; did you mean 'arc_dir'?" in line


# ------------------------------------------------------------------------- counts and sizes


@pytest.mark.parametrize(
    ("override", "key", "reason"),
    [
        ("sources.gen.count=3.0", "sources.gen.count", "must be integer, got 3.0"),
        ("sources.gen.test_count=true", "sources.gen.test_count", "must be integer, got True"),
        ("sources.gen.seed=1.5", "sources.gen.seed", "must be integer, got 1.5"),
        ("augment.versions=2.0", "augment.versions", "must be integer, got 2.0"),
        ("augment.versions=1e9", "augment.versions", "must be integer, got '1e9'"),
        ("augment.versions=1.0e+9", "augment.versions", "must be integer, got 1000000000.0"),
        ("augment.versions=1000000000", "augment.versions", "more than the maximum 1,000,000"),
        ("sources.gen.count=100000000000", "sources.gen.count", "more than the maximum"),
        ("augment.dihedral=[]", "augment.dihedral", "non-empty"),
    ],
)
def test_counts_are_integers_and_sizes_fit(tmp_path, override, key, reason):
    line = build_error(tmp_path, sudoku4(), override)
    assert f": {key}: " in line and reason in line


def test_a_task_with_more_pairs_than_the_rows_can_number(tmp_path):
    folder = tmp_path / "tasks"
    folder.mkdir()
    pair = {"input": [[1]], "output": [[2]]}
    (folder / "huge.json").write_text(json.dumps({"train": [pair] * 32769, "test": [pair]}))
    pipeline = {"name": "t", "sources": {"a": {"type": "arc_dir", "path": str(folder)}}}
    line = build_error(tmp_path, pipeline)
    assert "task huge" in line and "32,769 train pairs" in line
    assert "at most 32,768 per role" in line
    ok = read_source({"type": "arc_dir", "path": str(folder)}, Rejects("skip"))
    assert ok.tasks == [] and ok.rejected == 1


# -------------------------------------------------------------------------------- codecs


@pytest.mark.parametrize(("codec", "need"), [("maze", "arc"), ("sudoku", "arc"), ("arc", "arc")])
def test_arc_sources_need_the_arc_codec(tmp_path, arc, codec, need):
    arc["codec"] = codec
    if codec == need:
        assert resolve(arc)["codec"] == "arc"  # the right codec resolves
        return
    line = build_error(tmp_path, arc)
    assert f"source 'a' (arc_dir) needs codec 'arc', but the codec is {codec!r}" in line


def test_sudoku_and_maze_sources_need_their_codec(tmp_path):
    line = build_error(tmp_path, {**sudoku4(), "codec": "sudoku"})
    assert "(sudoku_generated) needs codec 'sudoku4'" in line
    maze = {"name": "m", "codec": "arc", "sources": {"m": {"type": "maze_generated", "size": 8}}}
    assert "(maze_generated) needs codec 'maze'" in build_error(tmp_path, maze)
    big = {"name": "m", "codec": "maze", "sources": {"m": {"type": "maze_generated", "size": 40}}}
    assert "sources.m.size: 40 is more than the maximum 30" in build_error(tmp_path, big)


# ------------------------------------------------------------------ sudoku_generated limits


def test_more_sudoku4_puzzles_than_exist_is_refused_at_once(tmp_path):
    line = build_error(tmp_path, sudoku4(count=30, test_count=7))
    assert "sources.gen: sudoku_generated: count + test_count = 37" in line
    assert "only 36 non-equivalent 4x4 puzzles exist; ask for at most 36" in line
    line = build_error(tmp_path, sudoku4(min_rating=1))
    assert "no 4x4 puzzle has rating >= 1" in line and "'min_rating: 0'" in line


def test_sudoku_generated_shows_progress_on_a_terminal(monkeypatch, capsys):
    spec = {"type": "sudoku_generated", "name": "gen", "size": 4, "count": 2}
    read_source(spec, Rejects())
    assert "generating" not in capsys.readouterr().err  # not a terminal: silent
    monkeypatch.setattr(sudoku_generated_source, "_on_terminal", lambda: True)
    read_source(spec, Rejects())
    err = capsys.readouterr().err
    assert "sources.gen: generating 4x4 Sudoku" in err and "/2 " in err
