"""Version planning: distinct by content, deterministic from (seed, task id), original kept."""

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from arcdata.augment import colour, d4
from arcdata.augment.plan import plan_dihedral_colour, task_grids
from arcdata.records import Pair, Task


def small(max_colour=3):
    return hnp.arrays(
        np.uint8,
        hnp.array_shapes(min_dims=2, max_dims=2, min_side=1, max_side=4),
        elements=st.integers(0, max_colour),
    )


@st.composite
def tasks(draw, max_colour=3):
    grid = small(max_colour)
    n = draw(st.integers(1, 3))
    pairs = tuple(Pair(draw(grid), draw(grid)) for _ in range(n))
    return Task(draw(st.text("abc", min_size=1, max_size=4)), pairs[:-1] or pairs, pairs[-1:])


def content(task, t, cmap):
    """A version's content: the multiset (sorted tuple) of its (input, output) pairs."""
    moved = [colour.apply(d4.apply(g, t), cmap) for g in task_grids(task)]
    pairs = [
        (a.shape, a.tobytes(), b.shape, b.tobytes())
        for a, b in zip(moved[::2], moved[1::2], strict=True)
    ]
    return tuple(sorted(pairs))


def plan(task, versions=20, seed=0, **kw):
    args = dict(
        versions=versions,
        dihedral=list(range(8)),
        permute_colours=True,
        fixed_colours=[0],
        seed=seed,
    )
    args.update(kw)
    return plan_dihedral_colour(task, **args)


@settings(max_examples=60, deadline=None)
@given(tasks(), st.integers(0, 40), st.integers(0, 3))
def test_versions_are_distinct_by_content_and_original_first(task, n, seed):
    v = plan(task, versions=n, seed=seed)
    assert v.dihedral[0] == 0 and (v.colour_maps[0] == np.arange(10)).all()
    seen = [content(task, int(t), m) for t, m in zip(v.dihedral, v.colour_maps, strict=True)]
    assert len(set(seen)) == len(seen)
    assert len(v) <= n + 1


@settings(max_examples=25, deadline=None)
@given(tasks(max_colour=2), st.integers(0, 3))
def test_short_task_keeps_what_exists(task, seed):
    """Exhaustive ground truth: with a generous budget the planner finds every distinct version."""
    everything = {
        content(task, t, np.array(p, np.uint8)) for t in range(8) for p in _maps_on_present(task)
    }
    v = plan(task, versions=len(everything) + 5, seed=seed, draws_factor=400)
    assert len(v) == len(everything)


def _maps_on_present(task):
    import itertools

    present = sorted(set(np.concatenate([g.ravel() for g in task_grids(task)]).tolist()) - {0})
    free = [c for c in range(1, 10)]
    for images in itertools.permutations(free, len(present)):
        m = list(range(10))
        for src, dst in zip(present, images, strict=True):
            m[src] = dst
        # complete to a permutation: send the displaced colours to the unused ones
        unused = [c for c in free if c not in images]
        rest = [c for c in free if c not in present]
        for src, dst in zip(rest, unused, strict=True):
            m[src] = dst
        yield m


def test_deterministic_and_independent_of_other_tasks():
    rng = np.random.default_rng(1)
    t = Task(
        "abc",
        (
            Pair(
                rng.integers(0, 9, (3, 4)).astype(np.uint8),
                rng.integers(0, 9, (4, 3)).astype(np.uint8),
            ),
        ),
        (Pair(np.ones((2, 2), np.uint8), np.ones((2, 2), np.uint8)),),
    )
    a, b = plan(t, 50), plan(t, 50)
    np.testing.assert_array_equal(a.colour_maps, b.colour_maps)
    c = plan(Task("abd", t.train, t.test), 50)
    assert not np.array_equal(a.colour_maps, c.colour_maps)
    assert not np.array_equal(plan(t, 50, seed=1).colour_maps, a.colour_maps)


def test_no_permutation_no_dihedral_gives_only_the_original():
    t = Task("x", (Pair(np.eye(3, dtype=np.uint8), np.eye(3, dtype=np.uint8)),), ())
    assert len(plan(t, 10, permute_colours=False, dihedral=[0])) == 1
    assert len(plan(t, 0)) == 1


def test_a_move_that_only_permutes_pairs_is_no_new_version():
    """fliplr swaps the two pairs of this task, so only |D4| / 2 = 4 versions exist (the
    ordered-list comparison kept 8)."""
    g = np.array([[1, 2, 3], [4, 5, 6]], np.uint8)
    flipped = d4.apply(g, 4)
    t = Task("sym", (Pair(g, g), Pair(flipped, flipped)), ())
    v = plan(t, 50, permute_colours=False, draws_factor=40)
    assert len(v) == 4
    assert np.isin([4], v.dihedral).sum() == 0  # fliplr gives the original back
    seen = {content(t, int(d), m) for d, m in zip(v.dihedral, v.colour_maps, strict=True)}
    assert len(seen) == 4
    everything = {content(t, d, colour.IDENTITY) for d in range(8)}
    assert len(everything) == 4


def test_demonstration_and_test_pairs_count_alike():
    """Roles do not matter: a move that swaps a demonstration with the test pair is a repeat."""
    g = np.array([[1, 2, 3], [4, 5, 6]], np.uint8)
    flipped = d4.apply(g, 5)
    t = Task("roles", (Pair(g, g),), (Pair(flipped, flipped),))
    assert len(plan(t, 50, permute_colours=False, draws_factor=40)) == 4


@settings(max_examples=30, deadline=None)
@given(
    hnp.arrays(
        np.int64, st.tuples(st.integers(1, 60), st.integers(1, 4)), elements=st.integers(0, 2)
    )
)
def test_first_of_each_is_exact_even_when_the_mix_collides(keys):
    from arcdata.augment import plan as planner

    expect = [i for i in range(len(keys)) if not any((keys[j] == keys[i]).all() for j in range(i))]
    assert planner.first_of_each(keys).tolist() == expect
    saved = planner._MIX
    try:
        planner._MIX = np.uint64(0)  # every row mixes to 0: only the exact path can be right
        assert planner.first_of_each(keys).tolist() == expect
    finally:
        planner._MIX = saved
