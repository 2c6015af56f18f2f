"""Sudoku augmentation: every move is invertible, keeps solutions valid and pairs consistent."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from arcdata.augment import d4
from arcdata.augment import sudoku as aug
from arcdata.augment.transform import Transform
from arcdata.records import Pair, Task
from arcdata.sudoku import board
from arcdata.sudoku.solver import solve

PUZZLE = "53..7....6..195....98....6.8...6...34..8.3..17...2...6.6....28....419..5....8..79"
SOLUTION = "534678912672195348198342567859761423426853791713924856961537284287419635345286179"

sizes = st.sampled_from([4, 9])
seeds = st.integers(0, 2**32 - 1)


def random_pair(rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray]:
    """A random full grid and a puzzle of it (any clue pattern)."""
    full = solve(np.zeros((n, n), np.uint8), limit=1, rng=rng).solutions[0]
    puzzle = np.where(rng.random((n, n)) < 0.4, full, 0).astype(np.uint8)
    return puzzle, full


@settings(max_examples=60, deadline=None)
@given(n=sizes, seed=seeds)
def test_invert_undoes_apply(n, seed):
    rng = np.random.default_rng(seed)
    puzzle, full = random_pair(rng, n)
    t = aug.random_moves(rng, 1, n)
    for grid in (puzzle, full):
        moved = t.apply(grid)[0]
        assert moved.shape == grid.shape and moved.dtype == np.uint8
        assert np.array_equal(t.invert(moved)[0], grid)
        assert np.array_equal(t.inverse().apply(moved)[0], grid)
        assert np.array_equal(t.apply(t.invert(grid)[0])[0], grid)


@settings(max_examples=60, deadline=None)
@given(n=sizes, seed=seeds)
def test_valid_solutions_stay_valid_and_pairs_consistent(n, seed):
    rng = np.random.default_rng(seed)
    puzzle, full = random_pair(rng, n)
    t = aug.random_moves(rng, 1, n)
    new_puzzle, new_full = t.apply(puzzle)[0], t.apply(full)[0]
    assert board.is_valid_solution(new_full)
    assert board.agrees(new_puzzle, new_full)
    assert np.array_equal(new_puzzle == 0, t.apply(puzzle)[0] == 0)
    assert (new_puzzle == 0).sum() == (puzzle == 0).sum()  # blanks stay blanks


@settings(max_examples=20, deadline=None)
@given(seed=seeds)
def test_solving_commutes_with_moves(seed):
    rng = np.random.default_rng(seed)
    puzzle, solution = board.parse(PUZZLE), board.parse(SOLUTION)
    t = aug.random_moves(rng, 1, 9)
    result = solve(t.apply(puzzle)[0])
    assert result.unique
    assert np.array_equal(result.solutions[0], t.apply(solution)[0])


@settings(max_examples=40, deadline=None)
@given(n=sizes, seed=seeds)
def test_random_transforms_are_well_formed(n, seed):
    t = aug.random_moves(np.random.default_rng(seed), 1, n)
    assert t.dihedral[0] in (0, 6)
    digits = t.colour_maps[0]
    assert digits[0] == 0
    assert sorted(digits[1 : n + 1].tolist()) == list(range(1, n + 1))
    assert digits[n + 1 :].tolist() == list(range(n + 1, 10))
    back = aug.from_strings(t.to_strings())  # validates band structure too
    assert back.equals(t) and back.to_strings() == t.to_strings()
    assert aug.check(t) is t


def test_apply_order_is_dihedral_rows_columns_digits():
    grid = np.arange(81, dtype=np.uint8).reshape(9, 9) % 10
    rows = (3, 4, 5, 0, 1, 2, 8, 7, 6)
    cols = (2, 1, 0, 6, 7, 8, 3, 4, 5)
    digits = np.array([0, 2, 3, 4, 5, 6, 7, 8, 9, 1], dtype=np.uint8)
    t = Transform([6], digits[None], [rows], [cols])
    expect = digits[d4.apply(grid, 6)[list(rows)][:, list(cols)]]
    assert np.array_equal(t.apply(grid)[0], expect)
    assert t.to_strings() == {
        "dihedral": "6",
        "colour_map": "0234567891",
        "row_map": "345012876",
        "col_map": "210678345",
    }


@settings(max_examples=30, deadline=None)
@given(n=sizes, seed=seeds, count=st.integers(1, 12))
def test_apply_many_matches_apply(n, seed, count):
    rng = np.random.default_rng(seed)
    grids = np.stack([random_pair(rng, n)[1] for _ in range(count)])
    ts = aug.random_moves(rng, count, n)
    many = ts.apply(grids)
    for i, (g, m) in enumerate(zip(grids, many, strict=True)):
        assert np.array_equal(ts.take(i).apply(g)[0], m)
    assert np.array_equal(ts.invert(many), grids)
    cells = ts.apply_cells(grids[0].ravel(), [(n, n)])
    assert np.array_equal(cells, ts.apply(grids[0]).reshape(count, -1))


def test_from_strings_rejects_moves_that_break_sudoku():
    good = Transform.identity(1, 9).to_strings()
    with pytest.raises(ValueError, match="splits a band"):
        aug.from_strings({**good, "row_map": "012346578"})
    with pytest.raises(ValueError, match="splits a band"):
        aug.from_strings({**good, "col_map": "301245678"})
    with pytest.raises(ValueError, match="permutation"):
        aug.from_strings({**good, "row_map": "012345677"})
    with pytest.raises(ValueError, match="dihedral"):
        aug.from_strings({**good, "dihedral": "1"})
    with pytest.raises(ValueError, match="fix 0"):
        aug.from_strings({**good, "colour_map": "1023456789"})
    four = Transform.identity(1, 4).to_strings()
    with pytest.raises(ValueError, match="permute 1..4"):
        aug.from_strings({**four, "colour_map": "0123546789"})


def puzzle_task(puzzle: np.ndarray, solution: np.ndarray, task_id: str) -> Task:
    return Task(task_id, (Pair(puzzle, solution),), ())


def contents_of(task: Task, versions: Transform) -> list[bytes]:
    pair = task.train[0]
    return [
        np.stack(g).tobytes()
        for g in zip(versions.apply(pair.input), versions.apply(pair.output), strict=True)
    ]


def test_plan_sudoku_distinct_deterministic_identity_first():
    """The one Sudoku planner: same (seed, puzzle id), same versions, wherever it is called."""
    puzzle, solution = board.parse(PUZZLE), board.parse(SOLUTION)
    task = puzzle_task(puzzle, solution, "p-1")
    versions = aug.plan_sudoku(task, versions=49, seed=7)
    assert len(versions) == 50
    assert versions.take(0).equals(Transform.identity(1, 9))
    assert len(set(contents_of(task, versions))) == 50  # the original counts as taken
    again = aug.plan_sudoku(task, versions=49, seed=7)
    assert again.equals(versions)
    other = aug.plan_sudoku(puzzle_task(puzzle, solution, "p-2"), versions=49, seed=7)
    assert not other.take(np.arange(1, 50)).equals(versions.take(np.arange(1, 50)))
    assert aug.plan_sudoku(task, versions=0, seed=7).equals(versions.take(0))
    assert aug.plan_sudoku(task, versions=9, seed=7).equals(versions.take(np.arange(10)))


def test_plan_sudoku_stops_short_when_few_versions_exist():
    """A 4x4 grid has at most 2 * 8 * 8 * 24 = 3072 images; a tiny budget cannot find 5000."""
    full = board.parse("1234341221434321", 4)
    task = puzzle_task(full, full, "x")
    versions = aug.plan_sudoku(task, versions=4999, seed=0, draws_factor=1)
    contents = set(contents_of(task, versions))
    assert len(contents) == len(versions) < 5000
    assert versions.take(0).equals(Transform.identity(1, 4))


def test_random_moves_shapes():
    ts = Transform.concat(
        [Transform.identity(1, 9), aug.random_moves(np.random.default_rng(0), 1, 9)]
    )
    assert ts.dihedral.dtype == np.int8 and ts.dihedral.shape == (2,)
    assert ts.row_maps.shape == ts.col_maps.shape == (2, 9) and ts.row_maps.dtype == np.uint8
    assert ts.colour_maps.shape == (2, 10) and ts.colour_maps.dtype == np.uint8
