"""The npy layout's shared pieces: structure, metadata, codecs, and what identifier names say."""

from __future__ import annotations

import re

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from arcdata.errors import DatasetError
from arcdata.formats.hrm.layout import (
    BLANK,
    IDENTITY_MAP,
    IdentifierInfo,
    codec_for,
    metadata,
    npy_structure,
)
from arcdata.tokens import get_codec

NAME_RE = re.compile(r"^(?P<task>.+)_t(?P<d>[0-7])_(?P<map>[0-9]{10})$")
PAIR_RE = re.compile(r"^(?P<base>.+)_(?:train|test)[0-9]+$")


def oracle(names: list[str]):
    """The grammar read one name at a time (as the importer once did)."""
    task, version, dihedral, cmap = [None] * len(names), [-1] * len(names), [0] * len(names), []
    bases: dict[str, dict[str, int]] = {}
    for i, name in enumerate(names):
        cmap.append(IDENTITY_MAP)
        if i == 0 or name == BLANK:
            continue
        pair = PAIR_RE.match(name)
        base = pair["base"] if pair else name
        m = NAME_RE.match(base)
        task[i] = m["task"] if m else base
        if m:
            dihedral[i], cmap[i] = int(m["d"]), m["map"]
        seen = bases.setdefault(task[i], {})
        version[i] = seen.setdefault(base, len(seen))
    return task, version, dihedral, cmap


task_ids = st.sampled_from(["007bbfb7", "a", "x_t9_1", "t_train", "00576224"])
version_names = st.builds(
    lambda t, d, m: f"{t}_t{d}_{''.join(map(str, m))}",
    task_ids,
    st.integers(0, 7),
    st.permutations(range(10)),
)
pair_suffix = st.sampled_from(["", "_train0", "_test1", "_train12"])
names_st = st.lists(
    st.one_of(
        st.just(BLANK),
        st.builds(str.__add__, task_ids, pair_suffix),
        st.builds(str.__add__, version_names, pair_suffix),
    ),
    max_size=40,
).map(lambda names: [BLANK, *names])


@settings(max_examples=200, deadline=None)
@given(names_st)
def test_identifier_names_parse_as_the_one_at_a_time_grammar(names):
    info = IdentifierInfo.parse(names)
    task, version, dihedral, cmap = oracle(names)
    assert [info.task(i) for i in range(len(names))] == task
    assert info.version.tolist() == version
    assert info.dihedral.tolist() == dihedral
    assert info.colour_map.to_pylist() == cmap
    assert info.pair_names == any(PAIR_RE.match(n) for n in names[1:])


def test_identifier_info_of_a_reference_name():
    info = IdentifierInfo.parse([BLANK, "00576224", "00576224_t6_0926183754", "<blank>"])
    assert [info.task(i) for i in range(4)] == [None, "00576224", "00576224", None]
    assert info.version.tolist() == [-1, 0, 1, -1]
    assert info.dihedral.tolist() == [0, 0, 6, 0]
    assert info.colour_map[2].as_py() == "0926183754"
    assert info.known.tolist() == [False, True, True, False]


def test_structure_puzzles_are_runs_and_groups_are_tasks():
    task = np.array([0, 0, 0, 1, 1, 2])
    version = np.array([0, 0, 1, 0, 0, 0])
    ids = np.array([5, 5, 6, 7, 8, 9])
    s = npy_structure(task, version, ids)
    assert s.puzzle_indices.tolist() == [0, 2, 3, 4, 5, 6]
    assert s.group_indices.tolist() == [0, 2, 4, 5]
    assert s.puzzle_identifiers.tolist() == [5, 6, 7, 8, 9]
    meta = metadata(get_codec("arc"), 10, s)
    assert meta["total_groups"] == 3 and meta["mean_puzzle_examples"] == 6 / 5
    assert list(meta)[:3] == ["pad_id", "ignore_label_id", "blank_identifier_id"]


def test_codec_for_known_and_sudoku_sizes():
    assert codec_for(12, 900).name == "arc"
    assert codec_for(11, 81).name == "sudoku"
    assert codec_for(6, 16).name == "sudoku4"
    with pytest.raises(DatasetError, match="no codec has vocab_size 7"):
        codec_for(7, 900)
