"""Epoch plans: the reference's sampling semantics, determinism, padding."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from arcdata.stream.plan import (
    epoch_rng,
    eval_plan,
    examples_plan,
    hrm_plan,
    worker_batches,
)


@st.composite
def structures(draw):
    """Random group -> puzzle -> example structure: puzzle row offsets and group puzzle offsets."""
    n_groups = draw(st.integers(1, 12))
    puzzles_per_group = draw(st.lists(st.integers(1, 5), min_size=n_groups, max_size=n_groups))
    n_puzzles = sum(puzzles_per_group)
    sizes = draw(st.lists(st.integers(1, 7), min_size=n_puzzles, max_size=n_puzzles))
    puzzle_starts = np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64)
    group_puzzles = np.concatenate([[0], np.cumsum(puzzles_per_group)]).astype(np.int64)
    return puzzle_starts, group_puzzles


@settings(max_examples=200, deadline=None)
@given(structures(), st.integers(1, 16), st.integers(0, 3), st.integers(0, 3))
def test_hrm_plan_semantics(structure, batch_size, seed, epoch):
    puzzle_starts, group_puzzles = structure
    plan = hrm_plan(puzzle_starts, group_puzzles, batch_size, epoch_rng(seed, epoch, "hrm"))
    order = plan.order
    assert len(order) % batch_size == 0 and len(set(order.tolist())) == len(order)
    # Each row's puzzle and group; chosen puzzles appear as contiguous blocks, one per group.
    puzzle = np.searchsorted(puzzle_starts, order, side="right") - 1
    group = np.searchsorted(group_puzzles, puzzle, side="right") - 1
    blocks = np.flatnonzero(np.diff(puzzle) != 0) + 1
    block_puzzles = puzzle[np.concatenate([[0], blocks])] if len(order) else puzzle
    assert len(set(block_puzzles.tolist())) == len(block_puzzles)  # a puzzle never reappears
    assert len(set(group.tolist())) == len(set(puzzle.tolist()))  # one puzzle per group
    # Every chosen puzzle is complete, except possibly the one cut by the dropped tail.
    total = sum(int(puzzle_starts[p + 1] - puzzle_starts[p]) for p in set(block_puzzles.tolist()))
    assert 0 <= total - len(order) < max(1, int(np.diff(puzzle_starts).max()))
    # Deterministic from (seed, epoch).
    again = hrm_plan(puzzle_starts, group_puzzles, batch_size, epoch_rng(seed, epoch, "hrm"))
    np.testing.assert_array_equal(again.order, order)


def test_hrm_plan_uses_every_group_once_and_varies_by_epoch():
    puzzle_starts = np.arange(0, 301, 3, dtype=np.int64)  # 100 puzzles of 3 examples
    group_puzzles = np.arange(0, 101, 10, dtype=np.int64)  # 10 groups of 10 versions
    plans = [hrm_plan(puzzle_starts, group_puzzles, 30, epoch_rng(0, e, "hrm")) for e in range(4)]
    for p in plans:
        assert p.num_batches == 1
        groups = np.sort(p.order // 30)
        np.testing.assert_array_equal(groups, np.repeat(np.arange(10), 3))
    assert len({p.order.tobytes() for p in plans}) == 4
    versions = {tuple(np.sort(p.order)[::3] // 3 % 10) for p in plans}
    assert len(versions) > 1  # a random version per group


@given(st.integers(0, 200), st.integers(1, 32))
def test_examples_and_eval_plans(n, batch_size):
    ex = examples_plan(n, batch_size, epoch_rng(1, 2, "examples"))
    assert ex.num_batches == -(-n // batch_size)  # every example, last batch padded
    real = ex.order[ex.order >= 0]
    assert sorted(real.tolist()) == list(range(n))
    assert (ex.order[n:] == -1).all()
    ev = eval_plan(n, batch_size)
    assert ev.num_batches == -(-n // batch_size)
    np.testing.assert_array_equal(ev.order[:n], np.arange(n))
    assert (ev.order[n:] == -1).all()


@given(st.integers(0, 50), st.integers(0, 60), st.integers(1, 5))
def test_worker_batches_partition_the_rest_of_the_epoch(start, n, workers):
    seen = sorted(b for w in range(workers) for b in worker_batches(start, n, w, workers))
    assert seen == list(range(start, n))
