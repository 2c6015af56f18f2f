"""Sudoku-Extreme CSVs: ``source,question,answer,rating`` with n*n-character rows."""

from __future__ import annotations

import numpy as np

from arcdata.sources.base import Rejects, SourceResult, register
from arcdata.sources.puzzle_common import sudoku_size
from arcdata.sources.puzzle_csv import (
    Checks,
    CsvLayout,
    cell_name,
    check_lengths_and_chars,
    fixed_bytes,
    ratings,
    read_puzzle_csv,
)
from arcdata.sudoku import board as sudoku_board


@register("sudoku_csv", family="sudoku")
def read_sudoku_csv(spec: dict, rejects: Rejects) -> SourceResult:
    """Sudoku-Extreme layout: ``source,question,answer,rating``; 81-character rows.

    Keys: path, evaluation (false), min_rating (0), subsample (all), seed (0), size (9), subset.
    """
    n = sudoku_size(spec)
    layout = CsvLayout(side=n, check=lambda frame: _check_chunk(frame, n), decode=_decode)
    return read_puzzle_csv(spec, rejects, layout)


def _decode(qraw: np.ndarray, araw: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    return sudoku_board.PUZZLE_BYTES[qraw], sudoku_board.SOLUTION_BYTES[araw]


def _check_chunk(frame, n: int) -> tuple[Checks, np.ndarray]:
    width = n * n
    qraw, qlen = fixed_bytes(frame["question"], width)
    araw, alen = fixed_bytes(frame["answer"], width)
    q, a = _decode(qraw, araw)
    rated, rating_ok = ratings(frame)
    checks = Checks(frame.height)
    check_lengths_and_chars(checks, qlen, q, qraw, "question", width, n, f"'.', '0', '1'..'{n}'")
    check_lengths_and_chars(checks, alen, a, araw, "answer", width, n, f"'1'..'{n}'")
    checks.fail(~rating_ok, "rating", lambda i: "rating is not an integer")
    q = np.where(checks.bad[:, None], 0, q).reshape(-1, n, n)
    a = np.where(checks.bad[:, None], 1, a).reshape(-1, n, n)
    changed = (q != 0) & (q != a)
    checks.fail(
        changed.any(axis=(1, 2)),
        "answer",
        lambda i: f"answer changes the given at cell {cell_name(int(changed[i].argmax()), width)}",
    )
    checks.fail(
        ~sudoku_board.is_valid_solution(a),
        "answer",
        lambda i: (
            "answer is not a valid Sudoku solution (a digit repeats or is missing "
            "in a row, column or box)"
        ),
    )
    return checks, rated
