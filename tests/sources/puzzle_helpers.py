"""Shared fixtures of the Sudoku and maze source tests: a known puzzle, file writers, real data."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import SHARED_DATA

DATA = SHARED_DATA
PUZZLE = "53..7....6..195....98....6.8...6...34..8.3..17...2...6.6....28....419..5....8..79"
SOLUTION = "534678912672195348198342567859761423426853791713924856961537284287419635345286179"
HEADER = "source,question,answer,rating\n"


def data(*parts: str) -> Path:
    path = DATA.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"real data not present: {path}")
    return path


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def swap_blanks(puzzle: str, solution: str) -> str:
    """The solution with two cells that are blank in the puzzle swapped: consistent, invalid."""
    blanks = [i for i, ch in enumerate(puzzle) if ch == "."]
    i, j = next((i, j) for i in blanks for j in blanks if solution[i] != solution[j])
    chars = list(solution)
    chars[i], chars[j] = chars[j], chars[i]
    return "".join(chars)
