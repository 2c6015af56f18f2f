"""Canonical pair keys: equal exactly when pairs agree up to D4 and a permutation of the free
colours (fixed colours stay fixed); the report lists leaked evaluation test pairs."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from arcdata.augment import colour, d4
from arcdata.leakage import canonical_keys, describe, leakage_report
from arcdata.records import Pair, Task

grids = st.tuples(st.integers(1, 6), st.integers(1, 6)).flatmap(
    lambda hw: arrays(np.uint8, hw, elements=st.integers(0, 9))
)


def moved(pair: Pair, t: int, cmap: np.ndarray) -> Pair:
    return Pair(cmap[d4.apply(pair.input, t)], cmap[d4.apply(pair.output, t)])


@settings(max_examples=200, deadline=None)
@given(grids, grids, st.integers(0, 7), st.integers(0, 2**32 - 1))
def test_key_is_invariant_under_d4_and_free_colours(a, b, t, seed):
    pair = Pair(a, b)
    cmap = colour.random_map(np.random.default_rng(seed), fixed=[0])
    keys = canonical_keys([pair, moved(pair, t, cmap)], fixed_colours=[0])
    assert keys[0] == keys[1]


@settings(max_examples=200, deadline=None)
@given(grids, grids, st.integers(0, 7))
def test_moving_a_fixed_colour_changes_the_key(a, b, t):
    pair = Pair(a, b)
    swap = np.arange(10, dtype=np.uint8)
    swap[[0, 1]] = [1, 0]
    cells = np.concatenate([a.ravel(), b.ravel()])
    other = moved(pair, t, swap)
    keys = canonical_keys([pair, other], fixed_colours=[0])
    if (cells == 0).any() != (cells == 1).any():  # 0 and 1 not both there or both absent
        assert keys[0] != keys[1]
    assert len(set(canonical_keys([pair, other], fixed_colours=[]))) == 1  # nothing fixed


def test_different_pairs_get_different_keys():
    def pair(grid, out):
        return Pair(np.array(grid, np.uint8), np.array([[out]], np.uint8))

    a = pair([[1, 1], [2, 3]], 1)
    b = pair([[1, 2], [1, 3]], 1)  # a transposed
    c = pair([[1, 1], [2, 3]], 2)  # the output names a single cell's colour, not the pair's
    d = pair([[1, 1], [2, 2]], 1)
    keys = canonical_keys([a, b, c, d], fixed_colours=[0])
    assert keys[0] == keys[1] and len({keys[0], keys[2], keys[3]}) == 3


def _task(task_id, train, test, evaluation=False) -> Task:
    return Task(task_id, tuple(train), tuple(test), evaluation=evaluation)


def test_report_lists_exact_and_transformed_copies():
    rng = np.random.default_rng(0)
    pairs = [Pair(rng.integers(0, 10, (3, 4), dtype=np.uint8), rng.integers(0, 10, (2, 2),
             dtype=np.uint8)) for _ in range(4)]  # fmt: skip
    cmap = colour.random_map(np.random.default_rng(1), fixed=[0])
    tasks = [
        _task("a", pairs[:2], pairs[2:3]),
        _task("e1", [pairs[3]], [moved(pairs[1], 3, cmap)], evaluation=True),
        _task("e2", [pairs[3]], [pairs[2]], evaluation=True),
        _task("e3", [pairs[3]], [moved(pairs[3], 0, np.arange(10, dtype=np.uint8)[::-1])], True),
    ]
    report = leakage_report(tasks, {"augment": {"colours": {"fixed": [0]}}, "split": "hrm"})
    assert report["evaluation_test_pairs"] == 3 and report["train_pairs"] == 6
    assert [(p["task"], p["exact"], p["matches"]) for p in report["pairs"]] == [
        ("e1", False, [{"task": "a", "role": "train", "pair": 1}]),
        ("e2", True, [{"task": "a", "role": "test", "pair": 0}]),
    ]  # e3 reverses the colours, moving the fixed 0: not reachable
    assert report["leaked"] == 2 and report["exact"] == 1
    assert describe(report).startswith("leakage: 2 of 3 evaluation test pairs")
