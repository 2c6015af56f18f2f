"""ARC voting: predictions made on augmented versions vote in the raw frame; pass@k."""

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from arcdata.augment import colour
from arcdata.augment.transform import Transform
from arcdata.tokens import ARC, encode
from arcdata.vote import collect, pass_at_k, undo

grids = hnp.arrays(
    np.uint8,
    hnp.array_shapes(min_dims=2, max_dims=2, min_side=1, max_side=12),
    elements=st.integers(0, 9),
)


def predicted(raw, t, cmap, offset=(0, 0)):
    return encode(ARC, Transform([t], cmap[None]).apply(raw)[0], offset)


@settings(max_examples=50, deadline=None)
@given(grids, st.integers(0, 7), st.permutations(list(range(1, 10))), st.integers(0, 10))
def test_undo_recovers_the_raw_grid(raw, t, perm, r):
    cmap = np.array([0, *perm], np.uint8)
    tokens = predicted(raw, t, cmap, (r, r))
    np.testing.assert_array_equal(undo(tokens, t, colour.to_string(cmap), (r, r)), raw)


def test_votes_rank_by_count_then_confidence_and_pass_at_k():
    rng = np.random.default_rng(0)
    right = rng.integers(0, 10, (3, 4)).astype(np.uint8)
    wrong = (right + 1) % 10
    rows = []  # (task, pair, dihedral, cmap, tokens, q_halt)
    for v in range(5):
        t = v % 8
        cmap = colour.random_map(rng)
        grid = right if v < 3 else wrong
        rows.append(("a", 0, t, colour.to_string(cmap), predicted(grid, t, cmap), 0.0))
    # task b: 2 wrong votes with low confidence, 2 right with high; tie on count -> confidence
    for v, (grid, q) in enumerate([(wrong, -3.0), (wrong, -3.0), (right, 3.0), (right, 3.0)]):
        cmap = colour.random_map(rng)
        rows.append(("b", 0, v, colour.to_string(cmap), predicted(grid, v, cmap), q))
    # task c: right answer only as the runner-up (pass@2 but not pass@1)
    for grid in [wrong, wrong, right]:
        rows.append(("c", 0, 0, "0123456789", predicted(grid, 0, colour.IDENTITY), 0.0))
    # task d: a garbage prediction (no grid) and nothing else
    rows.append(("d", 0, 0, "0123456789", np.zeros(900, np.uint8), 0.0))
    cols = list(zip(*rows, strict=True))
    ballots = collect(cols[0], cols[1], cols[2], cols[3], np.stack(cols[4]), np.array(cols[5]))
    assert ballots[("a", 0)].ranked()[0].votes == 3
    np.testing.assert_array_equal(ballots[("b", 0)].ranked()[0].grid, right)
    truth = {(k, 0): right for k in "abcd"}
    scores = pass_at_k(ballots, truth)
    assert scores["pass@1"] == 0.5 and scores["pass@2"] == 0.75 and scores["tasks"] == 4
