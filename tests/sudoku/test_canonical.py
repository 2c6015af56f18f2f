"""Canonical forms: invariant under every validity-preserving move, and separating the rest."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from arcdata.augment import sudoku as aug
from arcdata.augment.transform import Transform
from arcdata.sudoku import board
from arcdata.sudoku.canonical import band_maps, canonical_form, equivalent
from arcdata.sudoku.solver import solve
from tests.conftest import SHARED_DATA

DATA = SHARED_DATA / "sudoku"
PUZZLE = "53..7....6..195....98....6.8...6...34..8.3..17...2...6.6....28....419..5....8..79"


def random_puzzle(rng: np.random.Generator, n: int, clues: int) -> np.ndarray:
    full = solve(np.zeros((n, n), np.uint8), limit=1, rng=rng).solutions[0]
    flat = full.ravel().copy()
    flat[rng.permutation(n * n)[clues:]] = 0
    return flat.reshape(n, n)


def whole_group_4x4() -> Transform:
    """Every move of a 4x4 Sudoku, enumerated independently of canonical_form."""
    maps = [tuple(int(v) for v in m) for m in band_maps(4)]
    dih, rows, cols, digits = [], [], [], []
    for dihedral, r, c, perm in itertools.product(
        (0, 6), maps, maps, itertools.permutations(range(1, 5))
    ):
        d = np.arange(10, dtype=np.uint8)
        d[1:5] = perm
        dih.append(dihedral)
        rows.append(r)
        cols.append(c)
        digits.append(d)
    return Transform(np.array(dih), np.stack(digits), np.array(rows), np.array(cols))


def test_band_maps_are_the_band_preserving_permutations():
    maps = band_maps(9)
    assert maps.shape == (1296, 9)
    assert len({m.tobytes() for m in maps}) == 1296
    for m in maps[::37]:
        assert sorted(m.tolist()) == list(range(9))
        assert all(len({v // 3 for v in m[k : k + 3]}) == 1 for k in (0, 3, 6))
    assert band_maps(4).shape == (8, 4)


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), clues=st.integers(17, 81))
def test_invariant_under_random_moves_9x9(seed, clues):
    rng = np.random.default_rng(seed)
    grid = random_puzzle(rng, 9, clues)
    moved = aug.random_moves(rng, 1, 9).apply(grid)[0]
    assert canonical_form(moved) == canonical_form(grid)
    assert equivalent(grid, moved)


def test_canonical_form_is_a_member_of_the_class():
    """The form is a reading of the grid itself (digits renamed), not just a hash."""
    grid = board.parse(PUZZLE)
    form = canonical_form(grid)
    assert len(form) == 81 and set(form) <= set("0123456789")
    assert form.count("0") == PUZZLE.count(".")
    canon = board.parse(form.replace("0", "."))
    assert canonical_form(canon) == form


def test_partition_of_4x4_grids_matches_orbits():
    """Classes by canonical form == orbits under the enumerated group (3072 moves)."""
    group = whole_group_4x4()
    rng = np.random.default_rng(1)
    grids = [random_puzzle(rng, 4, int(rng.integers(3, 17))) for _ in range(60)]
    grids += list(solve(np.zeros((4, 4), np.uint8), limit=300).solutions)
    forms = [canonical_form(g) for g in grids]
    stacked = np.stack(grids)
    for i, g in enumerate(grids[:40]):
        orbit = {h.tobytes() for h in group.apply(g)}
        same_orbit = np.array([h.tobytes() in orbit for h in stacked])
        same_form = np.array([f == forms[i] for f in forms])
        assert np.array_equal(same_orbit, same_form)
    # the 288 full 4x4 grids fall into 2 classes
    assert len({canonical_form(s) for s in grids[60:]}) == 2


def test_different_puzzles_differ():
    grid = board.parse(PUZZLE)
    other = grid.copy()
    other[0, 0] = 0  # one clue fewer: never equivalent
    assert canonical_form(other) != canonical_form(grid)
    assert not equivalent(grid, other)


def test_published_hard_puzzles_are_pairwise_distinct_classes():
    path = DATA / "magictour_top1465.txt"
    if not path.exists():
        pytest.skip(f"real data not present: {path}")
    lines = [ln for ln in path.read_text().splitlines() if ln.strip() and not ln.startswith("#")]
    forms = [canonical_form(board.parse(line)) for line in lines[:150]]
    assert len(set(forms)) == len(forms)
