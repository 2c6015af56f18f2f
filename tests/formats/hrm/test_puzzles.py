"""Per-group facts of an import, counted over all puzzles at once, against a plain loop."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from arcdata.formats.hrm.import_manifest import sorted_unique
from arcdata.formats.hrm.importer import _NpySet, _puzzles
from arcdata.formats.hrm.layout import IdentifierInfo
from arcdata.formats.hrm.npy import NpyFile

NAMES = ["<blank>", "aa", "aa_t1_0123456789", "bb", "bb_t2_0123456789", "x_train0", "cc"]


def loop_puzzles(s, info, split, used):
    """The definition, one group at a time."""
    bounds = s.group_indices
    tasks, shared, versions = [], False, []
    for g in range(len(bounds) - 1):
        gids = s.puzzle_identifiers[bounds[g] : bounds[g + 1]]
        codes = info.task_code[gids]
        one = len(codes) > 0 and codes[0] >= 0 and bool((codes == codes[0]).all())
        task = info.task_names[codes[0]] if one else None
        if task is None or task in used:
            task = f"{s.name}-{split}-g{g:06d}"
        used.add(task)
        tasks.append(task)
        distinct = len(set(gids.tolist())) == len(gids)
        shared |= not distinct
        by_name = distinct and info.version[gids].min(initial=0) >= 0
        versions += list(info.version[gids] if by_name else range(len(gids)))
    return tasks, np.array(versions, np.int64), shared


@settings(max_examples=200, deadline=None)
@given(
    groups=st.lists(st.lists(st.integers(0, len(NAMES) - 1), max_size=6), max_size=8),
    taken=st.sets(st.sampled_from(["aa", "bb", "cc"])),
)
def test_puzzles_match_a_loop_over_groups(groups, taken):
    ids = np.array([i for g in groups for i in g], np.int64)
    bounds = np.r_[0, np.cumsum([len(g) for g in groups])].astype(np.int64)
    header = NpyFile(Path("x.npy"), np.dtype(np.uint8), (0, 900), 0)
    s = _NpySet("all", header, header, ids, np.arange(len(ids) + 1), bounds)
    info = IdentifierInfo.parse(NAMES)
    got = _puzzles(s, info, "train", set(taken))
    tasks, versions, shared = loop_puzzles(s, info, "train", set(taken))
    assert got.group_task == tasks
    np.testing.assert_array_equal(got.version, versions)
    assert got.shared_ids == shared
    np.testing.assert_array_equal(got.group, np.repeat(np.arange(len(groups)), np.diff(bounds)))


@given(st.lists(st.integers(-(2**40), 2**40), max_size=50))
def test_sorted_unique_is_numpys_unique(values):
    a = np.array(values, np.int64)
    got, counts = sorted_unique(a)
    want, want_counts = np.unique(a, return_counts=True)
    np.testing.assert_array_equal(got, want)
    np.testing.assert_array_equal(counts, want_counts)
