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


def _independent_arc_prize_score(submission: dict, answers: dict) -> float:
    """Written from the ARC Prize rule, apart from arcdata: a test input is right when either
    attempt equals it cell for cell; a task scores its share of right test inputs."""
    total = 0.0
    for task, tests in answers.items():
        right = 0
        for i, answer in enumerate(tests):
            attempts = submission[task][i]
            right += any(attempts[a] == answer for a in ("attempt_1", "attempt_2"))
        total += right / len(tests)
    return total / len(answers)


def test_right_grid_under_every_version_wins_and_submission_scores():
    from arcdata.hrm.report import score_submission
    from arcdata.vote import ks_for, submission, voter_curve

    rng = np.random.default_rng(3)
    right = rng.integers(0, 10, (2, 3)).astype(np.uint8)
    other = rng.integers(0, 10, (3, 3)).astype(np.uint8)
    rows = []  # every version predicts the right grid under its own transform
    for v in range(8):
        cmap = colour.random_map(rng)
        rows.append(("t1", 0, v, v, colour.to_string(cmap), predicted(right, v, cmap), -1.0))
    # t1 pair 1 and t2: versions 0..3 say "other", 4..7 disagree among themselves
    for v in range(8):
        grid = other if v < 4 else (other + v) % 10
        rows.append(("t1", 1, v, 0, "0123456789", predicted(grid, 0, colour.IDENTITY), 0.0))
        rows.append(("t2", 0, v, 0, "0123456789", predicted(grid, 0, colour.IDENTITY), 0.0))
    cols = list(zip(*rows, strict=True))
    ballots = collect(cols[0], cols[1], cols[3], cols[4], np.stack(cols[5]), np.array(cols[6]))
    top = ballots[("t1", 0)].ranked()[0]
    assert top.votes == 8 and np.array_equal(top.grid, right)
    # truth: t1 = (right, (other+5)%10: only one vote, at rank >= 2), t2 = other
    late = (other + 5) % 10
    truth = {("t1", 0): right, ("t1", 1): late, ("t2", 0): other}
    assert ks_for(8) == (1, 2) and ks_for(1000) == (1, 2, 10, 100, 1000)
    scores = pass_at_k(ballots, truth, (1, 2, 10))
    # by hand: t1 pair 0 right at rank 1; t1 pair 1 "late" is one of 4 single votes behind
    # "other" (4 votes): within the top 10 but not the top 2; t2 right at rank 1.
    assert scores["pass@1"] == 0.5 and scores["pass@2"] == 0.5 and scores["pass@10"] == 1.0
    assert scores["pass@1_fractional"] == (0.5 + 1) / 2
    assert scores["pass@1_per_test_input"] == 2 / 3
    sub = submission(ballots, {"t1": 2, "t2": 1})
    assert set(sub) == {"t1", "t2"} and len(sub["t1"]) == 2
    assert sub["t1"][0]["attempt_1"] == right.tolist()
    answers = {"t1": [right.tolist(), late.tolist()], "t2": [other.tolist()]}
    independent = _independent_arc_prize_score(sub, answers)
    assert independent == score_submission(sub, truth) == scores["pass@2_fractional"]
    grids = [undo(t, d, c) for t, d, c in zip(cols[5], cols[3], cols[4], strict=True)]
    curve = voter_curve(cols[2], cols[0], cols[1], grids, [0.5] * len(grids), truth)
    assert [r["versions"] for r in curve] == [1, 2, 4, 8]
    assert all(r["pass@2"] == 0.5 for r in curve)
