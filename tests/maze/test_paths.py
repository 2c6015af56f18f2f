"""Maze parsing, the batched BFS and the shortest-path validator, against a plain BFS."""

from __future__ import annotations

import csv
from collections import deque

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from arcdata.maze import board
from arcdata.maze.board import GOAL, OPEN, PATH, START, WALL
from arcdata.maze.paths import (
    distances,
    is_valid_shortest_path,
    pack,
    path_lengths,
    shortest_path_cells,
    solve_many,
    solve_maze,
    unpack,
    valid_shortest_paths,
)
from tests.conftest import SHARED_DATA

DATA = SHARED_DATA / "maze-30x30-hard-1k"


def load(split: str) -> tuple[np.ndarray, np.ndarray]:
    path = DATA / f"{split}.csv"
    if not path.exists():
        pytest.skip(f"real data not present: {path}")
    with open(path, newline="") as f:
        rows = list(csv.DictReader(f))
    return (
        board.parse_many([r["question"] for r in rows], 30),
        board.parse_many([r["answer"] for r in rows], 30),
    )


@pytest.fixture(scope="module")
def real():
    q1, a1 = load("train")
    q2, a2 = load("test")
    return np.concatenate([q1, q2]), np.concatenate([a1, a2])


def plain_bfs(grid: np.ndarray, source: tuple[int, int]) -> np.ndarray:
    h, w = grid.shape
    dist = np.full((h, w), -1)
    dist[source] = 0
    todo = deque([source])
    while todo:
        r, c = todo.popleft()
        for dr, dc in ((1, 0), (-1, 0), (0, 1), (0, -1)):
            rr, cc = r + dr, c + dc
            if 0 <= rr < h and 0 <= cc < w and grid[rr, cc] != WALL and dist[rr, cc] < 0:
                dist[rr, cc] = dist[r, c] + 1
                todo.append((rr, cc))
    return dist


@st.composite
def small_mazes(draw):
    h = draw(st.integers(2, 12))
    w = draw(st.integers(2, 12))
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    grid = np.where(rng.random((h, w)) < draw(st.floats(0.0, 0.6)), WALL, OPEN).astype(np.uint8)
    cells = rng.permutation(h * w)[:2]
    grid.flat[cells[0]] = START
    grid.flat[cells[1]] = GOAL
    return grid


def test_parse_and_to_string():
    text = "#S G" + "  ##" + "#  #" + "    "
    grid = board.parse(text)
    assert grid.tolist()[0] == [WALL, START, OPEN, GOAL]
    assert board.to_string(grid) == text
    with pytest.raises(ValueError, match="character 2 is 'o'"):
        board.parse("#o  " + "    " * 3, path_allowed=False)
    with pytest.raises(ValueError, match="character 1 is 'x'"):
        board.parse("x" * 16)


def test_pack_round_trip():
    rng = np.random.default_rng(0)
    mask = rng.random((3, 7, 30)) < 0.5
    assert np.array_equal(unpack(pack(mask), 30), mask)
    wide = rng.random((2, 64)) < 0.5
    assert np.array_equal(unpack(pack(wide), 64), wide)
    with pytest.raises(ValueError, match="wider than 64"):
        pack(np.zeros((2, 65), bool))


@settings(max_examples=80, deadline=None)
@given(grid=small_mazes())
def test_bfs_matches_plain_bfs(grid):
    start = tuple(int(v) for v in np.argwhere(grid == START)[0])
    goal = tuple(int(v) for v in np.argwhere(grid == GOAL)[0])
    expect = plain_bfs(grid, start)
    assert np.array_equal(distances(grid != WALL, grid == START), expect)
    assert path_lengths(grid) == expect[goal]
    answer = solve_maze(grid)
    if expect[goal] < 0:
        assert np.array_equal(answer, grid)
        assert not is_valid_shortest_path(grid, answer)
    else:
        assert (answer == PATH).sum() == expect[goal] - 1
        assert is_valid_shortest_path(grid, answer)
        # every shortest-path cell satisfies d(S, x) + d(x, G) = d(S, G)
        from_goal = plain_bfs(grid, goal)
        cells, narrow, lengths = shortest_path_cells(grid[None])
        on = unpack(cells, grid.shape[1])[0]
        want = (expect >= 0) & (expect + from_goal == expect[goal]) & (grid == OPEN)
        assert np.array_equal(on, want)
        assert (unpack(narrow, grid.shape[1])[0] <= on).all()
        assert (answer == PATH)[~on].sum() == 0


def test_validator_accepts_all_2000_published_answers(real):
    questions, answers = real
    assert len(questions) == 2000
    assert valid_shortest_paths(questions, answers).all()
    lengths = path_lengths(questions)
    assert np.array_equal(lengths, (answers == PATH).sum(axis=(1, 2)) + 1)


def test_own_labels_are_valid_and_as_long_as_published(real):
    questions, answers = real
    ours, lengths = solve_many(questions[:300])
    assert valid_shortest_paths(questions[:300], ours).all()
    assert np.array_equal(lengths, (answers[:300] == PATH).sum(axis=(1, 2)) + 1)


def test_validator_rejects_wrong_answers(real):
    questions, answers = real
    q, a = questions[0], answers[0]
    path_cells = np.argwhere(a == PATH)
    assert is_valid_shortest_path(q, a)
    # a path cell missing: broken path
    broken = a.copy()
    broken[tuple(path_cells[len(path_cells) // 2])] = OPEN
    assert not is_valid_shortest_path(q, broken)
    # an extra path cell: not a simple shortest path any more
    extra = a.copy()
    spare = np.argwhere((q == OPEN) & (a != PATH))[0]
    extra[tuple(spare)] = PATH
    assert not is_valid_shortest_path(q, extra)
    # the bare question (no path) and a path over a wall
    assert not is_valid_shortest_path(q, q)
    over_wall = a.copy()
    over_wall[tuple(np.argwhere(q == WALL)[0])] = PATH
    assert not is_valid_shortest_path(q, over_wall)
    # moving S or erasing G
    moved = a.copy()
    moved[moved == START] = OPEN
    assert not is_valid_shortest_path(q, moved)
    # shape mismatch
    assert not is_valid_shortest_path(q, a[:-1])
    # a batch mixes verdicts
    verdicts = valid_shortest_paths(np.stack([q, q]), np.stack([a, broken]))
    assert verdicts.tolist() == [True, False]


def test_longer_detour_is_rejected():
    grid = board.parse("S    ##     G   ")
    best = board.parse("S   o## o   G   ")
    detour = board.parse("Sooo ##o oooGo  ")
    assert path_lengths(grid) == 3
    assert is_valid_shortest_path(grid, best)
    assert not is_valid_shortest_path(grid, detour)
    assert np.array_equal(solve_maze(grid), best)
