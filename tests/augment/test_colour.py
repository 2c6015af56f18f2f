import numpy as np
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from arcdata.augment import colour

grids = hnp.arrays(
    np.uint8,
    hnp.array_shapes(min_dims=2, max_dims=2, min_side=1, max_side=30),
    elements=st.integers(0, 9),
)
fixed_sets = st.sets(st.integers(0, 9), max_size=10)


@given(grids, st.integers(0, 2**32 - 1), fixed_sets)
def test_colour_map_invertible_and_fixed(grid, seed, fixed):
    cmap = colour.random_map(np.random.default_rng(seed), fixed)
    assert sorted(cmap.tolist()) == list(range(10))
    for f in fixed:
        assert cmap[f] == f
    np.testing.assert_array_equal(colour.apply(colour.apply(grid, cmap), colour.invert(cmap)), grid)


@given(st.integers(0, 2**32 - 1), fixed_sets, st.integers(1, 50))
def test_batched_maps_are_permutations_fixing_colours(seed, fixed, n):
    maps = colour.random_maps(np.random.default_rng(seed), n, fixed)
    assert maps.shape == (n, 10)
    np.testing.assert_array_equal(np.sort(maps, axis=1), np.tile(np.arange(10), (n, 1)))
    for f in fixed:
        assert (maps[:, f] == f).all()


@given(st.permutations(list(range(10))))
def test_string_round_trip(perm):
    cmap = np.array(perm, dtype=np.uint8)
    np.testing.assert_array_equal(colour.from_string(colour.to_string(cmap)), cmap)


def test_default_zero_fixed_permutes_the_rest():
    maps = colour.random_maps(np.random.default_rng(0), 2000)
    assert (maps[:, 0] == 0).all()
    assert len({tuple(m) for m in maps.tolist()}) > 1900
