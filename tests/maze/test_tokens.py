"""Maze grids encode to the reference's token table: PAD 0, '#' 1, ' ' 2, 'S' 3, 'G' 4, 'o' 5."""

from __future__ import annotations

import csv

import numpy as np
import pytest

from arcdata.maze import board
from arcdata.tokens import MAZE, decode, encode
from tests.conftest import SHARED_DATA

DATA = SHARED_DATA / "maze-30x30-hard-1k"
REFERENCE = {"#": 1, " ": 2, "S": 3, "G": 4, "o": 5}


def test_vocabulary():
    assert MAZE.vocab_size == 6 and MAZE.seq_len == 900


def test_tokens_match_reference_table_on_real_mazes():
    path = DATA / "test.csv"
    if not path.exists():
        pytest.skip(f"real data not present: {path}")
    with open(path, newline="") as f:
        rows = list(csv.DictReader(f))[:100]
    for row in rows:
        for text in (row["question"], row["answer"]):
            grid = board.parse(text)
            tokens = encode(MAZE, grid)
            expect = np.array([REFERENCE[ch] for ch in text], dtype=np.uint8)
            assert tokens.dtype == np.uint8 and np.array_equal(tokens, expect)
            back, offset = decode(MAZE, tokens)
            assert offset == (0, 0) and np.array_equal(back, grid)


def test_every_value_maps_as_the_reference():
    grid = board.parse("# SGo" + " " * 20)
    assert encode(MAZE, grid)[:5].tolist() == [1, 2, 3, 4, 5]
