"""Sudoku and Maze build through the same stages as ARC: exact inverses, validity, tokens."""

from __future__ import annotations

import json

import numpy as np
import polars as pl
import pytest

from arcdata.augment import sudoku as aug
from arcdata.augment.transform import Transform
from arcdata.builder.driver import build, read_tasks
from arcdata.config import load_pipeline
from arcdata.errors import ConfigError
from arcdata.maze.paths import is_valid_shortest_path
from arcdata.sudoku.board import is_valid_solution
from arcdata.tokens import encode, get_codec
from tests.conftest import REPO, shared_data


def rows_of(root):
    m = json.loads((root / "manifest.json").read_text())
    return m, pl.concat(
        [pl.read_parquet(root / e["path"]) for s in m["splits"].values() for e in s["shards"]]
    )


def grid(r, kind):
    return np.frombuffer(r[kind], np.uint8).reshape(r[f"{kind}_h"], r[f"{kind}_w"])


def undo_sudoku(stored, r):
    return aug.check(Transform.from_row(r)).invert(stored)[0]


@pytest.fixture(scope="module")
def sudoku(tmp_path_factory):
    config = load_pipeline(
        REPO / "pipelines" / "sudoku-generated.yaml",
        [
            "sources.generated.count=12",
            "sources.generated.test_count=3",
            "sources.generated.min_rating=0",
            "augment.versions=6",
        ],
    )
    out = tmp_path_factory.mktemp("sudoku") / "ds"
    build(config, out, workers=1, progress=False)
    return config, out


def test_sudoku_versions_invert_and_stay_valid(sudoku):
    config, out = sudoku
    m, frame = rows_of(out)
    assert m["codec"] == "sudoku" and m["seq_len"] == 81 and m["vocab_size"] == 11
    assert m["splits"]["train"]["rows"] == 12 * 7 and m["splits"]["test"]["rows"] == 3
    tasks = {t.id: t for t in read_tasks(config).tasks}
    for r in frame.iter_rows(named=True):
        raw = tasks[r["task_id"]].pairs()[0][2]
        puzzle, solution = grid(r, "input"), grid(r, "output")
        np.testing.assert_array_equal(undo_sudoku(puzzle, r), raw.input)
        np.testing.assert_array_equal(undo_sudoku(solution, r), raw.output)
        assert is_valid_solution(solution[None])[0]
        given = puzzle > 0
        np.testing.assert_array_equal(puzzle[given], solution[given])
        np.testing.assert_array_equal(encode(get_codec("sudoku"), puzzle), puzzle.ravel() + 1)
    contents = frame.group_by("task_id").agg(pl.col("input").n_unique().alias("n"), pl.len())
    assert (contents["n"] == contents["len"]).all()  # versions distinct by content
    assert set(frame.filter(pl.col("split") == "test")["version"]) == {0}


def test_maze_dihedral_versions_keep_shortest_paths(tmp_path):
    train = shared_data("maze-30x30-hard-1k", "train.csv")
    small, small_test = tmp_path / "train.csv", tmp_path / "test.csv"
    lines = train.read_text().splitlines(keepends=True)
    small.write_text("".join(lines[:6]))
    small_test.write_text("".join(lines[:1] + lines[6:8]))
    config = load_pipeline(
        REPO / "pipelines" / "maze-hard-1k.yaml",
        [f"sources.train.path={small}", f"sources.test.path={small_test}", "augment.versions=7"],
    )
    build(config, tmp_path / "ds", workers=1, progress=False)
    m, frame = rows_of(tmp_path / "ds")
    assert m["codec"] == "maze" and m["vocab_size"] == 6
    train_rows = frame.filter(pl.col("split") == "train")
    assert train_rows.height == 5 * 8 and set(train_rows["dihedral"]) == set(range(8))
    for r in frame.iter_rows(named=True):
        q, a = grid(r, "input"), grid(r, "output")
        assert is_valid_shortest_path(q, a)
        tokens = encode(get_codec("maze"), a)
        assert set(np.unique(tokens)) <= {1, 2, 3, 4, 5}


def test_missing_csv_says_where_to_get_it():
    config = load_pipeline(REPO / "pipelines" / "sudoku-extreme-1k.yaml")
    with pytest.raises(ConfigError, match="sapientinc/sudoku-extreme.*sudoku-generated"):
        read_tasks(config)


def test_show_renders_sudoku(sudoku, tmp_path):
    from arcdata.show import show_task

    _, out = sudoku
    _, frame = rows_of(out)
    task = frame.filter(pl.col("split") == "train")["task_id"][0]
    text = show_task(out, task, 1, png=tmp_path / "s.png", colour=False)
    assert ", rows " in text and "->" in text and (tmp_path / "s.png").exists()
