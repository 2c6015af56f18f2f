"""Sudoku grids encode to the reference's token table: PAD 0, blank 1, digit d -> d + 1."""

from __future__ import annotations

import numpy as np
import pytest

from arcdata.sudoku import board
from arcdata.tokens import SUDOKU, decode, encode, sudoku_codec
from tests.conftest import SHARED_DATA

DATA = SHARED_DATA / "sudoku"
REFERENCE = {".": 1, "0": 1, **{str(d): d + 1 for d in range(1, 10)}}


def reference_tokens(text: str) -> np.ndarray:
    return np.array([REFERENCE[ch] for ch in text], dtype=np.uint8)


def test_vocabulary():
    assert SUDOKU.vocab_size == 11 and SUDOKU.seq_len == 81


def test_tokens_match_reference_table_on_real_puzzles():
    path = DATA / "magictour_top1465.txt"
    if not path.exists():
        pytest.skip(f"real data not present: {path}")
    lines = [ln for ln in path.read_text().splitlines() if ln.strip() and not ln.startswith("#")]
    for text in lines[:200]:
        tokens = encode(SUDOKU, board.parse(text))
        assert tokens.dtype == np.uint8 and tokens.shape == (81,)
        assert np.array_equal(tokens, reference_tokens(text))
        grid, offset = decode(SUDOKU, tokens)
        assert offset == (0, 0) and np.array_equal(grid, board.parse(text))


def test_every_value_maps_as_the_reference():
    grid = np.array([[0, 1, 2, 3, 4, 5, 6, 7, 8]] * 8 + [[9, 0, 0, 0, 0, 0, 0, 0, 0]], np.uint8)
    tokens = encode(SUDOKU, grid).reshape(9, 9)
    assert tokens[0].tolist() == [1, 2, 3, 4, 5, 6, 7, 8, 9]
    assert tokens[8, 0] == 10
    assert tokens.max() < SUDOKU.vocab_size and tokens.min() >= 1  # PAD never used in a 9x9


def test_4x4_codec():
    codec = sudoku_codec(4)
    grid = board.parse("1.3..4..2..1.3..", 4)
    assert encode(codec, grid).tolist() == reference_tokens("1.3..4..2..1.3..").tolist()
    assert codec.vocab_size == 6
