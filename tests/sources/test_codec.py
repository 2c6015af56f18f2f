"""Every source type maps to the codec its grids need; mismatches name the source and the fix."""

from __future__ import annotations

import pytest

from arcdata.sources import REGISTRY
from arcdata.sources.codec import codec_mismatches, required_codec


@pytest.mark.parametrize(
    ("spec", "codec"),
    [
        ({"type": "arc_dir"}, "arc"),
        ({"type": "kaggle"}, "arc"),
        ({"type": "maze_csv"}, "maze"),
        ({"type": "maze_generated", "size": 12}, "maze"),
        ({"type": "sudoku_csv"}, "sudoku"),
        ({"type": "sudoku_generated", "size": 4}, "sudoku4"),
        ({"type": "no_such_type"}, None),
    ],
)
def test_required_codec(spec, codec):
    assert required_codec(spec) == codec


def test_every_registered_type_needs_a_codec():
    assert all(required_codec({"type": kind}) for kind in REGISTRY)


def test_mismatches_name_the_source_and_the_fix():
    sources = {"a": {"type": "arc_dir"}, "b": {"type": "sudoku_list", "size": 9}}
    assert codec_mismatches("arc", {"a": sources["a"]}) == []
    assert codec_mismatches("sudoku9", {"b": sources["b"]}) == []
    assert codec_mismatches("maze", sources) == [
        "source 'a' (arc_dir) needs codec 'arc', but the codec is 'maze'; set codec: arc",
        "source 'b' (sudoku_list) needs codec 'sudoku', but the codec is 'maze'; set codec: sudoku",
    ]
