"""The transform record: apply then invert is the identity; batched equals one grid at a time."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from arcdata.augment import colour, d4
from arcdata.augment import sudoku as aug
from arcdata.augment.transform import Transform

seeds = st.integers(0, 2**32 - 1)


def grids(min_side=1, max_side=6):
    return hnp.arrays(
        np.uint8,
        hnp.array_shapes(min_dims=2, max_dims=2, min_side=min_side, max_side=max_side),
        elements=st.integers(0, 9),
    )


@st.composite
def arc_transforms(draw, count=None):
    n = draw(st.integers(1, 8)) if count is None else count
    dih = draw(hnp.arrays(np.int8, n, elements=st.integers(0, 7)))
    rng = np.random.default_rng(draw(seeds))
    return Transform(dih, colour.random_maps(rng, n, fixed=[]))


@st.composite
def sudoku_transforms(draw):
    rng = np.random.default_rng(draw(seeds))
    return aug.random_moves(rng, draw(st.integers(1, 8)), draw(st.sampled_from([4, 9])))


def one_by_one(t: Transform, grid: np.ndarray, v: int) -> np.ndarray:
    """Reference: entry v applied step by step with the primitives, as documented."""
    g = d4.apply(grid, int(t.dihedral[v]))
    if t.row_maps is not None:
        g = g[t.row_maps[v].astype(int)][:, t.col_maps[v].astype(int)]
    return t.colour_maps[v][g]


@settings(max_examples=80, deadline=None)
@given(arc_transforms(), grids())
def test_arc_apply_then_invert_is_identity(t, grid):
    for v in range(len(t)):
        one = t.take(v)
        moved = one.apply(grid)
        assert np.array_equal(one.invert(moved)[0], grid)
        assert np.array_equal(one.inverse().apply(moved)[0], grid)
        assert np.array_equal(moved[0], one_by_one(t, grid, v))


@settings(max_examples=60, deadline=None)
@given(arc_transforms(), st.integers(1, 6))
def test_batched_apply_equals_per_grid_apply_on_square_stacks(t, side):
    rng = np.random.default_rng(side)
    stack = rng.integers(0, 10, (len(t), side, side)).astype(np.uint8)
    moved = t.apply(stack)
    for v in range(len(t)):
        assert np.array_equal(moved[v], one_by_one(t, stack[v], v))
    assert np.array_equal(t.invert(moved), stack)


@settings(max_examples=60, deadline=None)
@given(sudoku_transforms(), seeds)
def test_sudoku_apply_then_invert_and_batched_equals_one_by_one(t, seed):
    n = t.row_maps.shape[1]
    stack = np.random.default_rng(seed).integers(0, n + 1, (len(t), n, n)).astype(np.uint8)
    moved = t.apply(stack)
    for v in range(len(t)):
        assert np.array_equal(moved[v], one_by_one(t, stack[v], v))
    assert np.array_equal(t.invert(moved), stack)
    assert np.array_equal(t.inverse().inverse().apply(stack), moved)


@settings(max_examples=60, deadline=None)
@given(st.one_of(arc_transforms(), sudoku_transforms()), st.lists(grids(), min_size=1, max_size=4))
def test_apply_cells_equals_each_grid_moved_back_to_back(t, task):
    if t.row_maps is not None:  # Sudoku moves need n x n grids
        n = t.row_maps.shape[1]
        task = [np.resize(g, (n, n)) for g in task]
    values = np.concatenate([g.ravel() for g in task])
    shapes = np.array([g.shape for g in task])
    cells = t.apply_cells(values, shapes)
    out_shapes = t.output_shapes(shapes)
    for v in range(len(t)):
        expect = np.concatenate([one_by_one(t, g, v).ravel() for g in task])
        assert np.array_equal(cells[v], expect)
        assert [tuple(s) for s in out_shapes[v]] == [one_by_one(t, g, v).shape for g in task]
    idx = np.arange(0, values.size, 3)
    assert np.array_equal(t.apply_cells(values, shapes, idx), cells[:, idx])


@settings(max_examples=40, deadline=None)
@given(st.one_of(arc_transforms(), sudoku_transforms()))
def test_stored_strings_round_trip(t):
    rows = [t.to_strings(v) for v in range(len(t))]
    back = Transform.from_columns(
        [int(r["dihedral"]) for r in rows],
        [r["colour_map"] for r in rows],
        None if t.row_maps is None else [r["row_map"] for r in rows],
        None if t.col_maps is None else [r["col_map"] for r in rows],
    )
    assert back.equals(t)
    assert all(Transform.from_row(r).equals(t.take(v)) for v, r in enumerate(rows))


def test_identity_and_concat():
    ident = Transform.identity(3)
    grid = np.arange(6, dtype=np.uint8).reshape(2, 3)
    assert np.array_equal(ident.apply(grid), np.stack([grid] * 3))
    both = Transform.concat([ident, Transform([1], colour.IDENTITY[None])])
    assert len(both) == 4 and both.dihedral.tolist() == [0, 0, 0, 1]
    assert both.describe(3) == "dihedral 1, colour map 0123456789"


def test_bad_records_are_refused():
    with pytest.raises(ValueError, match="0..7"):
        Transform([8], colour.IDENTITY[None])
    with pytest.raises(ValueError, match="dihedral 0 or 6"):
        Transform([1], colour.IDENTITY[None], [[0, 1]], [[0, 1]])
    with pytest.raises(ValueError, match="permutation of the 10 digits"):
        Transform.from_columns([0], ["0123456788"])
    with pytest.raises(ValueError, match="digits"):
        Transform.from_columns([0], ["012345678"])
    with pytest.raises(ValueError, match="row_map must be a permutation"):
        Transform.from_columns([0], ["0123456789"], ["0012"], ["0123"])
    mixed = Transform([0, 1], np.tile(colour.IDENTITY, (2, 1)))
    with pytest.raises(ValueError, match="different shapes"):
        mixed.apply(np.zeros((2, 3), np.uint8))
