"""The seeded generator: unique, rated, pairwise non-equivalent, reproducible."""

from __future__ import annotations

import numpy as np
import pytest

from arcdata.sudoku import board
from arcdata.sudoku.canonical import canonical_form
from arcdata.sudoku.generate import (
    SUDOKU4_CLASSES,
    GenerationExhausted,
    distinct_puzzles,
    generate,
)
from arcdata.sudoku.solver import solve


@pytest.fixture(scope="module")
def nine():
    return generate(6, seed=3, size=9, min_rating=4)


def test_generated_9x9_are_unique_rated_and_distinct(nine):
    assert len(nine) == 6
    for g in nine:
        result = solve(g.puzzle)
        assert result.unique
        assert np.array_equal(result.solutions[0], g.solution)
        assert board.is_valid_solution(g.solution) and board.agrees(g.puzzle, g.solution)
        assert g.rating == result.guesses >= 4
        assert g.canonical == canonical_form(g.puzzle)
        # minimal: every clue is needed
        for cell in np.flatnonzero(g.puzzle.ravel())[:5]:
            fewer = g.puzzle.copy().ravel()
            fewer[cell] = 0
            assert len(solve(fewer.reshape(9, 9)).solutions) == 2
    assert len({g.canonical for g in nine}) == 6


def test_generation_is_reproducible_and_prefix_stable(nine):
    again = generate(3, seed=3, size=9, min_rating=4)
    assert [g.puzzle.tobytes() for g in again] == [g.puzzle.tobytes() for g in nine[:3]]
    other = generate(1, seed=4, size=9, min_rating=4)
    assert other[0].puzzle.tobytes() != nine[0].puzzle.tobytes()


def test_exclude_keeps_classes_apart(nine):
    taken = {g.canonical for g in nine[:3]}
    more = generate(3, seed=3, size=9, min_rating=4, exclude=taken)
    assert not {g.canonical for g in more} & {g.canonical for g in nine[:3]}
    assert len(taken) == 6  # updated in place


def test_4x4_generation_and_exhaustion():
    small = generate(5, seed=0, size=4)
    assert len({g.canonical for g in small}) == 5
    for g in small:
        assert g.puzzle.shape == (4, 4) and solve(g.puzzle).unique
    with pytest.raises(GenerationExhausted, match="rating >= 50"):
        generate(1, seed=0, size=4, min_rating=50, max_attempts=20)


def all_grids(n: int = 4) -> list[np.ndarray]:
    """Every full n x n grid, by plain backtracking (288 for 4x4)."""
    b = board.box_side(n)
    out, g = [], np.zeros((n, n), np.uint8)

    def fill(i: int) -> None:
        if i == n * n:
            out.append(g.copy())
            return
        r, c = divmod(i, n)
        box = g[r - r % b : r - r % b + b, c - c % b : c - c % b + b]
        for v in range(1, n + 1):
            if v not in g[r] and v not in g[:, c] and v not in box:
                g[r, c] = v
                fill(i + 1)
                g[r, c] = 0

    fill(0)
    return out


@pytest.mark.slow
def test_sudoku4_class_count_is_what_generation_can_reach():
    """Every minimal unique 4x4 puzzle, up to equivalence: one per class of the two classes
    of full grids, all subsets of its cells kept if unique and minimal."""
    grids = {canonical_form(g): g for g in all_grids()}
    assert len(grids) == 2
    classes = set()
    for grid in grids.values():
        flat = grid.ravel()
        masks = np.array([[(m >> i) & 1 for i in range(16)] for m in range(1 << 16)], bool)
        unique = {
            m
            for m in range(1 << 16)
            if masks[m].sum() >= 4
            and solve(np.where(masks[m], flat, 0).reshape(4, 4), limit=2).unique
        }
        for m in unique:
            if all(m & ~(1 << i) not in unique for i in range(16) if (m >> i) & 1):
                puzzle = np.where(masks[m], flat, 0).astype(np.uint8).reshape(4, 4)
                assert solve(puzzle, limit=2).guesses == 0  # singles alone solve it
                classes.add(canonical_form(puzzle))
    assert len(classes) == SUDOKU4_CLASSES
    assert distinct_puzzles(4, 0) == SUDOKU4_CLASSES and distinct_puzzles(4, 1) == 0
    assert distinct_puzzles(9, 8) is None
