"""Plain Sudoku lists: one puzzle a line, solved, proved unique and rated on reading."""

from __future__ import annotations

import numpy as np

from arcdata.errors import InputError
from arcdata.sources.base import Rejects, SourceResult, register, require_path
from arcdata.sources.puzzle_common import (
    one_pair_task,
    spec_bool,
    spec_int,
    subsample,
    sudoku_size,
)
from arcdata.storage.hashing import file_sha256 as sha256_file
from arcdata.sudoku import board as sudoku_board
from arcdata.sudoku.solver import solve


@register("sudoku_list", family="sudoku")
def read_sudoku_list(spec: dict, rejects: Rejects) -> SourceResult:
    """One puzzle a line (``.`` or ``0`` blank; ``#`` comment lines; text after the first
    whitespace ignored). Each puzzle is solved, proved unique and rated (solver guesses);
    a puzzle with no or several solutions is rejected with its line number.

    Keys: path, evaluation (false), min_rating (0), subsample (all), seed (0), size (9), subset.
    """
    path = require_path(spec)
    evaluation = spec_bool(spec, "evaluation", False)
    min_rating = spec_int(spec, "min_rating", 0, minimum=None)
    keep = spec_int(spec, "subsample", None, minimum=1)
    seed = spec_int(spec, "seed", 0)
    n = sudoku_size(spec)
    subset = str(spec.get("subset") or path.stem)
    try:
        text = path.read_bytes().decode("utf-8")
    except UnicodeDecodeError as e:
        raise InputError(f"not UTF-8 text (byte {e.start})", file=str(path)) from None
    kept, read, rejected = [], 0, 0
    for line_no, line in enumerate(text.splitlines(), start=1):
        token = line.strip().split(maxsplit=1)[0] if line.strip() else ""
        if not token or token.startswith("#"):
            continue
        read += 1
        task_id = f"{path.stem}-{line_no}"
        try:
            puzzle = _parse_puzzle(token, n)
            result = solve(puzzle, limit=2)
            if not result.solutions:
                raise ValueError("puzzle has no solution")
            if len(result.solutions) > 1:
                raise ValueError("puzzle has several solutions")
        except ValueError as e:
            rejected += 1
            rejects.add(
                InputError(str(e), file=str(path), line=line_no, task=task_id, field="puzzle")
            )
            continue
        if result.guesses >= min_rating:
            kept.append((task_id, line_no, puzzle, result.solutions[0], result.guesses))
    tasks = [
        one_pair_task(
            task_id,
            puzzle,
            solution,
            evaluation=evaluation,
            subset=subset,
            origin=f"{path}:{line_no}",
            meta={"rating": rating, "clues": int((puzzle > 0).sum())},
        )
        for task_id, line_no, puzzle, solution, rating in (
            kept[i] for i in subsample(len(kept), keep, seed).tolist()
        )
    ]
    return SourceResult(
        tasks,
        files=[{"path": str(path), "sha256": sha256_file(path)}],
        rejected=rejected,
        read=read,
    )


def _parse_puzzle(token: str, n: int) -> np.ndarray:
    puzzle = sudoku_board.parse(token, n)
    if sudoku_board.has_conflict(puzzle):
        raise ValueError("puzzle has no solution (a given repeats in a row, column or box)")
    return puzzle
