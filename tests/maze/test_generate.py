"""The Maze-Hard-style generator: wall share, long shortest paths, valid labels, seeds."""

from __future__ import annotations

import numpy as np
import pytest

from arcdata.augment import d4
from arcdata.maze.board import GOAL, OPEN, PATH, START, WALL
from arcdata.maze.generate import (
    GenerationExhausted,
    dihedral_key,
    draw_candidates,
    generate_mazes,
)
from arcdata.maze.paths import path_lengths, valid_shortest_paths


@pytest.fixture(scope="module")
def made():
    return generate_mazes(6, seed=11, batch=48)


def test_generated_mazes_are_maze_hard_style(made):
    questions, answers, lengths = made
    assert questions.shape == answers.shape == (6, 30, 30)
    assert questions.dtype == np.uint8
    assert (lengths > 110).all()
    assert np.array_equal(path_lengths(questions), lengths)
    assert valid_shortest_paths(questions, answers).all()
    walls = (questions == WALL).mean(axis=(1, 2))
    assert ((walls >= 0.3) & (walls <= 0.5)).all()
    assert ((questions == START).sum(axis=(1, 2)) == 1).all()
    assert ((questions == GOAL).sum(axis=(1, 2)) == 1).all()
    assert not (questions == PATH).any()
    assert len({dihedral_key(q) for q in questions}) == 6


def test_reproducible_and_prefix_stable(made):
    again = generate_mazes(3, seed=11, batch=48)
    for x, y in zip(again, made, strict=True):
        assert np.array_equal(x, y[:3])
    other = generate_mazes(1, seed=12, batch=48)
    assert not np.array_equal(other[0][0], made[0][0])


def test_small_sides_and_thresholds():
    q, a, lengths = generate_mazes(4, seed=0, side=8, min_path=12, batch=32)
    assert q.shape == (4, 8, 8) and (lengths > 12).all()
    assert valid_shortest_paths(q, a).all()


def test_candidates_have_exact_wall_share_and_open_start_goal():
    q = draw_candidates(np.random.default_rng(0), 64, 30, (0.3, 0.5))
    walls = (q == WALL).sum(axis=(1, 2))
    assert ((walls >= 270) & (walls <= 450)).all()
    assert ((q == START).sum(axis=(1, 2)) == 1).all() and ((q == GOAL).sum(axis=(1, 2)) == 1).all()
    assert set(np.unique(q).tolist()) <= {WALL, OPEN, START, GOAL}


def test_dihedral_key_identifies_rotations(made):
    q = made[0][0]
    assert all(dihedral_key(d4.apply(q, t)) == dihedral_key(q) for t in range(8))
    assert dihedral_key(made[0][1]) != dihedral_key(q)


def test_impossible_requests_fail_clearly():
    with pytest.raises(GenerationExhausted, match="paths > 200"):
        generate_mazes(1, seed=0, side=8, min_path=200, batch=16, max_candidates=32)
    with pytest.raises(ValueError, match="wall range"):
        generate_mazes(1, walls=(0.5, 0.3))
