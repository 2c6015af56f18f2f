"""Sudoku augmentation: every move is invertible, keeps solutions valid and pairs consistent."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from arcdata.augment import d4
from arcdata.augment import sudoku as aug
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
    t = aug.random(rng, n)
    for grid in (puzzle, full):
        moved = aug.apply(grid, t)
        assert moved.shape == grid.shape and moved.dtype == np.uint8
        assert np.array_equal(aug.invert(moved, t), grid)
        assert np.array_equal(aug.apply(moved, aug.inverse(t)), grid)
        assert np.array_equal(aug.apply(aug.invert(grid, t), t), grid)


@settings(max_examples=60, deadline=None)
@given(n=sizes, seed=seeds)
def test_valid_solutions_stay_valid_and_pairs_consistent(n, seed):
    rng = np.random.default_rng(seed)
    puzzle, full = random_pair(rng, n)
    t = aug.random(rng, n)
    new_puzzle, new_full = aug.apply(puzzle, t), aug.apply(full, t)
    assert board.is_valid_solution(new_full)
    assert board.agrees(new_puzzle, new_full)
    assert np.array_equal(new_puzzle == 0, aug.apply(puzzle, t) == 0)
    assert (new_puzzle == 0).sum() == (puzzle == 0).sum()  # blanks stay blanks


@settings(max_examples=20, deadline=None)
@given(seed=seeds)
def test_solving_commutes_with_moves(seed):
    rng = np.random.default_rng(seed)
    puzzle, solution = board.parse(PUZZLE), board.parse(SOLUTION)
    t = aug.random(rng, 9)
    result = solve(aug.apply(puzzle, t))
    assert result.unique
    assert np.array_equal(result.solutions[0], aug.apply(solution, t))


@settings(max_examples=40, deadline=None)
@given(n=sizes, seed=seeds)
def test_random_transforms_are_well_formed(n, seed):
    t = aug.random(np.random.default_rng(seed), n)
    assert t.dihedral in (0, 6)
    assert t.digit_map[0] == 0
    assert sorted(t.digit_map[1 : n + 1].tolist()) == list(range(1, n + 1))
    assert t.digit_map[n + 1 :].tolist() == list(range(n + 1, 10))
    back = aug.from_strings(aug.to_strings(t))  # validates band structure too
    assert back == t and hash(back) == hash(t)


def test_apply_order_is_dihedral_rows_columns_digits():
    grid = np.arange(81, dtype=np.uint8).reshape(9, 9) % 10
    rows = (3, 4, 5, 0, 1, 2, 8, 7, 6)
    cols = (2, 1, 0, 6, 7, 8, 3, 4, 5)
    digits = np.array([0, 2, 3, 4, 5, 6, 7, 8, 9, 1], dtype=np.uint8)
    t = aug.SudokuTransform(6, rows, cols, digits)
    expect = digits[d4.apply(grid, 6)[list(rows)][:, list(cols)]]
    assert np.array_equal(aug.apply(grid, t), expect)
    assert aug.to_strings(t) == {
        "dihedral": "6",
        "row_map": "345012876",
        "col_map": "210678345",
        "digit_map": "0234567891",
    }


@settings(max_examples=30, deadline=None)
@given(n=sizes, seed=seeds, count=st.integers(1, 12))
def test_apply_many_matches_apply(n, seed, count):
    rng = np.random.default_rng(seed)
    grids = np.stack([random_pair(rng, n)[1] for _ in range(count)])
    ts = [aug.random(rng, n) for _ in range(count)]
    many = aug.apply_many(grids, ts)
    for g, t, m in zip(grids, ts, many, strict=True):
        assert np.array_equal(aug.apply(g, t), m)


def test_from_strings_rejects_moves_that_break_sudoku():
    good = aug.to_strings(aug.identity(9))
    with pytest.raises(ValueError, match="splits a band"):
        aug.from_strings({**good, "row_map": "012346578"})
    with pytest.raises(ValueError, match="splits a band"):
        aug.from_strings({**good, "col_map": "301245678"})
    with pytest.raises(ValueError, match="permutation"):
        aug.from_strings({**good, "row_map": "012345677"})
    with pytest.raises(ValueError, match="dihedral"):
        aug.from_strings({**good, "dihedral": "1"})
    with pytest.raises(ValueError, match="fix 0"):
        aug.from_strings({**good, "digit_map": "1023456789"})
    four = aug.to_strings(aug.identity(4))
    with pytest.raises(ValueError, match="permute 1..4"):
        aug.from_strings({**four, "digit_map": "0123546789"})


def test_pick_versions_distinct_deterministic_identity_first():
    puzzle, solution = board.parse(PUZZLE), board.parse(SOLUTION)
    versions = aug.pick_versions(puzzle, solution, 50, seed=7, puzzle_id="p-1")
    assert len(versions) == 50
    assert versions[0] == aug.identity(9)
    contents = {
        np.stack([aug.apply(puzzle, t), aug.apply(solution, t)]).tobytes() for t in versions
    }
    assert len(contents) == 50  # the original counts as taken
    again = aug.pick_versions(puzzle, solution, 50, seed=7, puzzle_id="p-1")
    assert again == versions
    other = aug.pick_versions(puzzle, solution, 50, seed=7, puzzle_id="p-2")
    assert other[1:] != versions[1:]
    assert aug.pick_versions(puzzle, solution, 1, seed=7, puzzle_id="p-1") == versions[:1]
    assert aug.pick_versions(puzzle, solution, 0, seed=7, puzzle_id="p-1") == []
    assert aug.pick_versions(puzzle, solution, 10, seed=7, puzzle_id="p-1") == versions[:10]


def test_pick_versions_stops_short_when_few_versions_exist():
    """A 4x4 grid has at most 2 * 8 * 8 * 24 = 3072 images; a tiny budget cannot find 5000."""
    full = board.parse("1234341221434321", 4)
    versions = aug.pick_versions(full, full, 5000, seed=0, puzzle_id="x", draws_factor=1)
    contents = {aug.apply(full, t).tobytes() for t in versions}
    assert len(contents) == len(versions) < 5000
    assert versions[0] == aug.identity(4)


def test_to_arrays_shapes():
    ts = [aug.identity(9), aug.random(np.random.default_rng(0), 9)]
    dih, rows, cols, digits = aug.to_arrays(ts)
    assert dih.dtype == np.int8 and dih.shape == (2,)
    assert rows.shape == cols.shape == (2, 9) and rows.dtype == np.uint8
    assert digits.shape == (2, 10) and digits.dtype == np.uint8
