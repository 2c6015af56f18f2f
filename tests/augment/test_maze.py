"""Maze augmentation is the D4 group: invertible, and shortest paths stay shortest paths."""

from __future__ import annotations

import csv

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from arcdata.augment import d4
from arcdata.maze import board
from arcdata.maze.board import GOAL, OPEN, START, WALL
from arcdata.maze.paths import is_valid_shortest_path, path_lengths, solve_maze
from tests.conftest import SHARED_DATA

DATA = SHARED_DATA / "maze-30x30-hard-1k"


@pytest.fixture(scope="module")
def real():
    path = DATA / "train.csv"
    if not path.exists():
        pytest.skip(f"real data not present: {path}")
    with open(path, newline="") as f:
        rows = list(csv.DictReader(f))[:64]
    return (
        board.parse_many([r["question"] for r in rows], 30),
        board.parse_many([r["answer"] for r in rows], 30),
    )


@st.composite
def mazes(draw):
    """Small random rectangular mazes with a reachable goal, and their label."""
    h, w = draw(st.integers(2, 10)), draw(st.integers(2, 10))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    grid = np.where(rng.random((h, w)) < 0.3, WALL, OPEN).astype(np.uint8)
    s, g = rng.permutation(h * w)[:2]
    grid.flat[s], grid.flat[g] = START, GOAL
    return grid


@settings(max_examples=60, deadline=None)
@given(grid=mazes(), t=st.integers(0, 7))
def test_invert_apply_is_identity(grid, t):
    moved = d4.apply(grid, t)
    assert np.array_equal(d4.invert(moved, t), grid)
    assert moved.shape == (grid.shape[::-1] if d4.transposes_shape(t) else grid.shape)


@settings(max_examples=60, deadline=None)
@given(grid=mazes(), t=st.integers(0, 7))
def test_shortest_paths_stay_shortest_on_random_mazes(grid, t):
    answer = solve_maze(grid)
    moved_q, moved_a = d4.apply(grid, t), d4.apply(answer, t)
    assert path_lengths(moved_q) == path_lengths(grid)
    assert is_valid_shortest_path(moved_q, moved_a) == is_valid_shortest_path(grid, answer)


@settings(max_examples=40, deadline=None)
@given(i=st.integers(0, 63), t=st.integers(0, 7))
def test_published_answers_stay_shortest_under_every_transform(real, i, t):
    q, a = real[0][i], real[1][i]
    moved_q, moved_a = d4.apply(q, t), d4.apply(a, t)
    assert is_valid_shortest_path(moved_q, moved_a)
    assert np.array_equal(d4.invert(moved_a, t), a)
    # and a wrong answer stays wrong
    broken = moved_a.copy()
    broken[moved_a == START] = OPEN
    assert not is_valid_shortest_path(moved_q, broken)
