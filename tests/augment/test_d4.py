import numpy as np
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from arcdata.augment import d4

grids = hnp.arrays(
    np.uint8,
    hnp.array_shapes(min_dims=2, max_dims=2, min_side=1, max_side=30),
    elements=st.integers(0, 9),
)
ids = st.integers(0, 7)

NUMPY_NAMED = [
    lambda g: g,
    lambda g: np.rot90(g, 1),
    lambda g: np.rot90(g, 2),
    lambda g: np.rot90(g, 3),
    np.fliplr,
    np.flipud,
    lambda g: g.T,
    lambda g: np.fliplr(np.rot90(g, 1)),
]


@given(grids, ids)
def test_invert_undoes_apply(grid, t):
    np.testing.assert_array_equal(d4.invert(d4.apply(grid, t), t), grid)


@given(grids, ids)
def test_apply_matches_the_numpy_operation_the_reference_names(grid, t):
    np.testing.assert_array_equal(d4.apply(grid, t), NUMPY_NAMED[t](grid))


@given(grids, ids, ids)
def test_composition_table(grid, a, b):
    np.testing.assert_array_equal(d4.apply(d4.apply(grid, b), a), d4.apply(grid, d4.compose(a, b)))


def test_inverse_ids_are_the_reference_list():
    assert d4.INVERSE == (0, 3, 2, 1, 4, 5, 6, 7)
    for t in range(8):
        assert d4.compose(t, d4.INVERSE[t]) == 0


@given(grids, ids)
def test_coordinates_follow_cells(grid, t):
    h, w = grid.shape
    r, c = np.meshgrid(np.arange(h), np.arange(w), indexing="ij")
    nr, nc = d4.apply_to_coords(t, r, c, h, w)
    moved = d4.apply(grid, t)
    np.testing.assert_array_equal(moved[nr, nc], grid)
    assert moved.shape == ((w, h) if d4.transposes_shape(t) else (h, w))


@given(st.lists(grids, min_size=1, max_size=5))
def test_cell_sources_gather_every_grid_like_apply(grid_list):
    values = np.concatenate([g.ravel() for g in grid_list])
    shapes = np.array([g.shape for g in grid_list])
    sources = d4.cell_sources(shapes)
    for t in range(8):
        expect = np.concatenate([d4.apply(g, t).ravel() for g in grid_list])
        np.testing.assert_array_equal(values[sources[t]], expect)
