"""Maze-Hard CSVs: ``source,question,answer,rating`` with side*side-character rows over ``# SGo``."""

from __future__ import annotations

import numpy as np

from arcdata.maze import board as maze_board
from arcdata.maze.paths import valid_shortest_paths
from arcdata.sources.base import Rejects, SourceResult, register
from arcdata.sources.puzzle_common import spec_bool, spec_int
from arcdata.sources.puzzle_csv import (
    Checks,
    CsvLayout,
    cell_name,
    check_lengths_and_chars,
    fixed_bytes,
    ratings,
    read_puzzle_csv,
)


@register("maze_csv", family="maze")
def read_maze_csv(spec: dict, rejects: Rejects) -> SourceResult:
    """Maze-Hard layout: ``source,question,answer,rating``; 900-character rows over ``# SGo``.

    Keys: path, evaluation (false), min_rating (0), subsample (all), seed (0), size (30),
    check_paths (true: every answer must be a shortest S-G path), subset.
    """
    side = spec_int(spec, "size", maze_board.SIDE, minimum=2)
    check_paths = spec_bool(spec, "check_paths", True)
    layout = CsvLayout(
        side=side, check=lambda frame: _check_chunk(frame, side, check_paths), decode=_decode
    )
    return read_puzzle_csv(spec, rejects, layout)


def _decode(qraw: np.ndarray, araw: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    return maze_board.BYTES[qraw], maze_board.BYTES[araw]


def _check_chunk(frame, side: int, check_paths: bool) -> tuple[Checks, np.ndarray]:
    width = side * side
    qraw, qlen = fixed_bytes(frame["question"], width)
    araw, alen = fixed_bytes(frame["answer"], width)
    q, a = _decode(qraw, araw)
    rated, rating_ok = ratings(frame)
    checks = Checks(frame.height)
    check_lengths_and_chars(checks, qlen, q, qraw, "question", width, maze_board.GOAL, repr("# SG"))
    check_lengths_and_chars(checks, alen, a, araw, "answer", width, maze_board.PATH, repr("# SGo"))
    checks.fail(~rating_ok, "rating", lambda i: "rating is not an integer")
    q = np.where(checks.bad[:, None], maze_board.OPEN, q)
    a = np.where(checks.bad[:, None], maze_board.OPEN, a)
    starts = (q == maze_board.START).sum(axis=1)
    goals = (q == maze_board.GOAL).sum(axis=1)
    checks.fail(
        (starts != 1) | (goals != 1),
        "question",
        lambda i: f"question must have exactly one S and one G (has {starts[i]} S, {goals[i]} G)",
    )
    differs = (a != q) & ~((a == maze_board.PATH) & (q == maze_board.OPEN))
    checks.fail(
        differs.any(axis=1),
        "answer",
        lambda i: (
            f"answer differs from the question at cell {cell_name(int(differs[i].argmax()), width)} "
            "(only open cells may become path 'o')"
        ),
    )
    if check_paths:
        todo = np.flatnonzero(~checks.bad)
        valid = np.ones(frame.height, dtype=bool)
        if todo.size:
            valid[todo] = valid_shortest_paths(
                q[todo].reshape(-1, side, side), a[todo].reshape(-1, side, side)
            )
        checks.fail(~valid, "answer", lambda i: "answer is not a shortest path from S to G")
    return checks, rated
