"""The npy layout's shared pieces: structure, metadata, codecs, and what identifier names say."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from arcdata.errors import DatasetError
from arcdata.formats.hrm.layout import (
    IDENTITY_MAP,
    IdentifierInfo,
    codec_for,
    metadata,
    npy_structure,
)
from arcdata.ids import BLANK, PAIR_RE, parse_name
from arcdata.tokens import get_codec


def oracle(names: list[str]):
    """Each name read by the grammar's own reader; versions numbered in id order per task."""
    fields = {k: [None] * len(names) for k in ("task", "colour_map", "row_map", "col_map")}
    fields["colour_map"] = [IDENTITY_MAP] * len(names)
    version, dihedral = [-1] * len(names), [0] * len(names)
    bases: dict[str, dict[str, int]] = {}
    for i, name in enumerate(names):
        if i == 0 or name == BLANK:
            continue
        parsed = parse_name(name)
        fields["task"][i] = parsed.task
        if parsed.transform is not None:
            strings = parsed.transform.to_strings(0)
            dihedral[i] = int(strings["dihedral"])
            for key in ("colour_map", "row_map", "col_map"):
                fields[key][i] = strings[key]
        pair = PAIR_RE.match(name)
        base = pair["base"] if pair else name
        seen = bases.setdefault(parsed.task, {})
        version[i] = seen.setdefault(base, len(seen))
    return fields, version, dihedral


task_ids = st.sampled_from(["007bbfb7", "a", "x_t9_1", "t_train", "00576224"])
digits = st.permutations(range(10)).map(lambda m: "".join(map(str, m)))
moves = st.sampled_from(["_r012345678_c876543210", "_r0123_c1032"])
arc_versions = st.builds(lambda t, d, m: f"{t}_t{d}_{m}", task_ids, st.integers(0, 7), digits)
sudoku_versions = st.builds(  # Sudoku moves combine with dihedral 0 or 6 only
    lambda t, d, m, rc: f"{t}_t{d}_{m}{rc}", task_ids, st.sampled_from([0, 6]), digits, moves
)
version_names = st.one_of(arc_versions, sudoku_versions)
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
def test_identifier_names_parse_as_the_grammar_reads_each_name(names):
    info = IdentifierInfo.parse(names)
    fields, version, dihedral = oracle(names)
    assert [info.task(i) for i in range(len(names))] == fields["task"]
    assert info.version.tolist() == version
    assert info.dihedral.tolist() == dihedral
    for key in ("colour_map", "row_map", "col_map"):
        assert getattr(info, key).to_pylist() == fields[key], key
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
