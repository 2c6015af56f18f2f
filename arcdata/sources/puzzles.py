"""Readers of Sudoku and maze sources: the Sudoku-Extreme / Maze-Hard CSVs, plain puzzle lists
and the seeded generators.

Every puzzle becomes a one-pair ``Task`` (input = puzzle or maze question, output = solution or
path): a demonstration pair for training sources, a test pair with ``evaluation=True`` for
sources marked ``evaluation: true``.

CSV files can hold millions of rows (Sudoku-Extreme's train.csv has 3.8 M), so they are read
with polars and every row is validated with vectorised numpy over fixed-width byte arrays, in
chunks to bound memory. Only the rows that survive the rating filter and the seeded subsample
are turned into Tasks.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from arcdata.errors import ConfigError, InputError
from arcdata.maze import board as maze_board
from arcdata.maze.generate import GenerationExhausted as MazeExhausted
from arcdata.maze.generate import generate_mazes
from arcdata.maze.paths import valid_shortest_paths
from arcdata.records import Pair, Task
from arcdata.sources.base import (
    Rejects,
    SourceResult,
    register,
    require_path,
    sha256_bytes,
    sha256_file,
)
from arcdata.sudoku import board as sudoku_board
from arcdata.sudoku.generate import DEFAULT_MIN_RATING
from arcdata.sudoku.generate import GenerationExhausted as SudokuExhausted
from arcdata.sudoku.generate import generate as generate_sudoku
from arcdata.sudoku.solver import solve

CHUNK_ROWS = 1 << 18


# ---------------------------------------------------------------------------------------------
# spec keys


def _int(spec: dict, key: str, default: int | None, minimum: int | None = 0) -> int | None:
    value = spec.get(key, default)
    if value is None:
        return None
    if type(value) is not int or (minimum is not None and value < minimum):
        bound = f" >= {minimum}" if minimum is not None else ""
        raise ConfigError(
            f"sources: {spec.get('type')} '{key}' must be an integer{bound}, got {value!r}"
        )
    return value


def _bool(spec: dict, key: str, default: bool) -> bool:
    value = spec.get(key, default)
    if not isinstance(value, bool):
        raise ConfigError(
            f"sources: {spec.get('type')} '{key}' must be true or false, got {value!r}"
        )
    return value


def _float(spec: dict, key: str, default: float) -> float:
    value = spec.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ConfigError(f"sources: {spec.get('type')} '{key}' must be a number, got {value!r}")
    return float(value)


def _sudoku_size(spec: dict) -> int:
    size = _int(spec, "size", 9)
    if size not in sudoku_board.SIZES:
        raise ConfigError(
            f"sources: {spec.get('type')} 'size' must be one of "
            f"{list(sudoku_board.SIZES)}, got {size}"
        )
    return size


def _task(
    task_id: str,
    question: np.ndarray,
    answer: np.ndarray,
    *,
    evaluation: bool,
    subset: str,
    origin: str,
    meta: dict,
) -> Task:
    pair = (Pair(question, answer),)
    train, test = ((), pair) if evaluation else (pair, ())
    return Task(
        task_id, train, test, subset=subset, evaluation=evaluation, origin=origin, meta=meta
    )


def _subsample(count: int, subsample: int | None, seed: int) -> np.ndarray:
    """Positions of the kept rows among ``count`` eligible ones, in file order."""
    if subsample is None or subsample >= count:
        return np.arange(count)
    rng = np.random.default_rng(seed)
    return np.sort(rng.choice(count, size=subsample, replace=False))


# ---------------------------------------------------------------------------------------------
# CSV (source,question,answer,rating)


def _load_csv(path: Path):
    import polars as pl

    try:
        frame = pl.read_csv(path, infer_schema=False)
    except Exception as e:  # polars raises several types for malformed files
        raise InputError(f"cannot read as CSV: {e}", file=str(path)) from None
    for key in ("question", "answer"):
        if key not in frame.columns:
            raise InputError(
                f"missing column {key!r} (header must be source,question,answer,"
                f"rating; found {','.join(frame.columns)})",
                file=str(path),
                line=1,
                field=key,
            )
    return frame


def _fixed_bytes(series, width: int) -> tuple[np.ndarray, np.ndarray]:
    """A string column as ``[N, width]`` uint8 (zero copy through Arrow) and which rows had
    exactly ``width`` bytes (other rows are zeros)."""
    import polars as pl
    import pyarrow as pa
    import pyarrow.compute as pc

    lengths = series.str.len_bytes().fill_null(-1).to_numpy()
    ok = lengths == width
    out = np.zeros((len(series), width), dtype=np.uint8)
    if ok.any():
        arr = pc.cast(series.filter(pl.Series(ok)).to_arrow(), pa.large_string())
        if isinstance(arr, pa.ChunkedArray):
            arr = arr.combine_chunks()
        offsets = np.frombuffer(arr.buffers()[1], dtype=np.int64)[arr.offset :]
        data = np.frombuffer(arr.buffers()[2], dtype=np.uint8)
        out[ok] = data[offsets[0] : offsets[0] + int(ok.sum()) * width].reshape(-1, width)
    return out, lengths


def _ratings(frame) -> tuple[np.ndarray, np.ndarray]:
    """The rating column as int64 and which rows hold a valid integer (absent column: 0)."""
    import polars as pl

    if "rating" not in frame.columns:
        return np.zeros(frame.height, np.int64), np.ones(frame.height, bool)
    parsed = frame["rating"].str.strip_chars().cast(pl.Int64, strict=False)
    ok = parsed.is_not_null().to_numpy()
    return parsed.fill_null(0).to_numpy().astype(np.int64), ok


class _Checks:
    """First failure per row: ``fail(mask, field, message_fn)`` records rows not failed yet."""

    def __init__(self, rows: int) -> None:
        self.field = np.full(rows, "", dtype=object)
        self.message = np.full(rows, "", dtype=object)
        self.bad = np.zeros(rows, dtype=bool)

    def fail(self, mask: np.ndarray, field: str, message) -> None:
        new = np.flatnonzero(mask & ~self.bad)
        for i in new.tolist():
            self.field[i] = field
            self.message[i] = message(i)
        self.bad[new] = True


def _cell(i: int, width: int) -> str:
    side = int(np.sqrt(width))
    return f"({i // side}, {i % side})"


def _check_lengths_and_chars(checks, lengths, codes, raw, field, width, top, allowed):
    checks.fail(
        lengths != width,
        field,
        lambda i: "missing" if lengths[i] < 0 else f"expected {width} characters, got {lengths[i]}",
    )
    wrong = codes > top
    checks.fail(
        wrong.any(axis=1),
        field,
        lambda i: (
            f"character {int(wrong[i].argmax()) + 1} is {chr(raw[i, wrong[i].argmax()])!r}; "
            f"allowed: {allowed}"
        ),
    )


def _check_sudoku_chunk(frame, n: int):
    width = n * n
    qraw, qlen = _fixed_bytes(frame["question"], width)
    araw, alen = _fixed_bytes(frame["answer"], width)
    q = sudoku_board.PUZZLE_BYTES[qraw]
    a = sudoku_board.SOLUTION_BYTES[araw]
    ratings, rating_ok = _ratings(frame)
    checks = _Checks(frame.height)
    _check_lengths_and_chars(checks, qlen, q, qraw, "question", width, n, f"'.', '0', '1'..'{n}'")
    _check_lengths_and_chars(checks, alen, a, araw, "answer", width, n, f"'1'..'{n}'")
    checks.fail(~rating_ok, "rating", lambda i: "rating is not an integer")
    q = np.where(checks.bad[:, None], 0, q).reshape(-1, n, n)
    a = np.where(checks.bad[:, None], 1, a).reshape(-1, n, n)
    changed = (q != 0) & (q != a)
    checks.fail(
        changed.any(axis=(1, 2)),
        "answer",
        lambda i: f"answer changes the given at cell {_cell(int(changed[i].argmax()), width)}",
    )
    checks.fail(
        ~sudoku_board.is_valid_solution(a),
        "answer",
        lambda i: (
            "answer is not a valid Sudoku solution (a digit repeats or is missing "
            "in a row, column or box)"
        ),
    )
    return checks, ratings


def _check_maze_chunk(frame, side: int, check_paths: bool):
    width = side * side
    qraw, qlen = _fixed_bytes(frame["question"], width)
    araw, alen = _fixed_bytes(frame["answer"], width)
    q = maze_board.BYTES[qraw]
    a = maze_board.BYTES[araw]
    ratings, rating_ok = _ratings(frame)
    checks = _Checks(frame.height)
    _check_lengths_and_chars(
        checks, qlen, q, qraw, "question", width, maze_board.GOAL, repr("# SG")
    )
    _check_lengths_and_chars(checks, alen, a, araw, "answer", width, maze_board.PATH, repr("# SGo"))
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
            f"answer differs from the question at cell {_cell(int(differs[i].argmax()), width)} "
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
    return checks, ratings


def _read_puzzle_csv(spec: dict, rejects: Rejects, family: str) -> SourceResult:
    path = require_path(spec)
    evaluation = _bool(spec, "evaluation", False)
    min_rating = _int(spec, "min_rating", 0, minimum=None)
    subsample = _int(spec, "subsample", None, minimum=1)
    seed = _int(spec, "seed", 0)
    if family == "sudoku":
        side = _sudoku_size(spec)
        check_paths = False
    else:
        side = _int(spec, "size", maze_board.SIDE, minimum=2)
        check_paths = _bool(spec, "check_paths", True)
    subset = str(spec.get("subset") or f"{path.resolve().parent.name}/{path.stem}")
    frame = _load_csv(path)
    stem = path.stem
    eligible, rejected = [], 0
    for start in range(0, max(frame.height, 1), CHUNK_ROWS):
        part = frame.slice(start, CHUNK_ROWS)
        if part.height == 0:
            break
        if family == "sudoku":
            checks, ratings = _check_sudoku_chunk(part, side)
        else:
            checks, ratings = _check_maze_chunk(part, side, check_paths)
        for i in np.flatnonzero(checks.bad).tolist():
            rejected += 1
            rejects.add(
                InputError(
                    checks.message[i],
                    file=str(path),
                    line=start + i + 2,
                    field=checks.field[i],
                    task=f"{stem}-{start + i}",
                )
            )
        eligible.append(start + np.flatnonzero(~checks.bad & (ratings >= min_rating)))
    rows = np.concatenate(eligible) if eligible else np.zeros(0, np.int64)
    rows = rows[_subsample(len(rows), subsample, seed)]
    tasks = _csv_tasks(frame, rows, path, family, side, evaluation, subset)
    return SourceResult(
        tasks,
        files=[{"path": str(path), "sha256": sha256_file(path)}],
        rejected=rejected,
        read=frame.height,
    )


def _csv_tasks(frame, rows, path, family, side, evaluation, subset) -> list[Task]:
    import polars as pl

    picked = frame[pl.Series(rows.astype(np.int64))] if len(rows) else frame.clear()
    width = side * side
    qraw, _ = _fixed_bytes(picked["question"], width)
    araw, _ = _fixed_bytes(picked["answer"], width)
    if family == "sudoku":
        q, a = sudoku_board.PUZZLE_BYTES[qraw], sudoku_board.SOLUTION_BYTES[araw]
    else:
        q, a = maze_board.BYTES[qraw], maze_board.BYTES[araw]
    q, a = q.reshape(-1, side, side), a.reshape(-1, side, side)
    ratings, _ = _ratings(picked)
    sources = picked["source"].to_list() if "source" in picked.columns else [""] * len(rows)
    stem = path.stem
    return [
        _task(
            f"{stem}-{row}",
            q[k],
            a[k],
            evaluation=evaluation,
            subset=subset,
            origin=f"{path}:{row + 2}",
            meta={"rating": int(ratings[k]), "source": sources[k] or ""},
        )
        for k, row in enumerate(rows.tolist())
    ]


@register("sudoku_csv")
def read_sudoku_csv(spec: dict, rejects: Rejects) -> SourceResult:
    """Sudoku-Extreme layout: ``source,question,answer,rating``; 81-character rows.

    Keys: path, evaluation (false), min_rating (0), subsample (all), seed (0), size (9), subset.
    """
    return _read_puzzle_csv(spec, rejects, "sudoku")


@register("maze_csv")
def read_maze_csv(spec: dict, rejects: Rejects) -> SourceResult:
    """Maze-Hard layout: ``source,question,answer,rating``; 900-character rows over ``# SGo``.

    Keys: path, evaluation (false), min_rating (0), subsample (all), seed (0), size (30),
    check_paths (true: every answer must be a shortest S-G path), subset.
    """
    return _read_puzzle_csv(spec, rejects, "maze")


# ---------------------------------------------------------------------------------------------
# plain Sudoku lists


@register("sudoku_list")
def read_sudoku_list(spec: dict, rejects: Rejects) -> SourceResult:
    """One puzzle a line (``.`` or ``0`` blank; ``#`` comment lines; text after the first
    whitespace ignored). Each puzzle is solved, proved unique and rated (solver guesses);
    a puzzle with no or several solutions is rejected with its line number.

    Keys: path, evaluation (false), min_rating (0), subsample (all), seed (0), size (9), subset.
    """
    path = require_path(spec)
    evaluation = _bool(spec, "evaluation", False)
    min_rating = _int(spec, "min_rating", 0, minimum=None)
    subsample = _int(spec, "subsample", None, minimum=1)
    seed = _int(spec, "seed", 0)
    n = _sudoku_size(spec)
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
        _task(
            task_id,
            puzzle,
            solution,
            evaluation=evaluation,
            subset=subset,
            origin=f"{path}:{line_no}",
            meta={"rating": rating, "clues": int((puzzle > 0).sum())},
        )
        for task_id, line_no, puzzle, solution, rating in (
            kept[i] for i in _subsample(len(kept), subsample, seed).tolist()
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


# ---------------------------------------------------------------------------------------------
# generators


def _generated_file(kind: str, params: dict) -> dict:
    """Generated sources have no file; the manifest records their parameters' digest."""
    blob = json.dumps({"type": kind, **params}, sort_keys=True).encode()
    return {"path": f"generated:{kind}", "sha256": sha256_bytes(blob)}


@register("sudoku_generated")
def read_sudoku_generated(spec: dict, rejects: Rejects) -> SourceResult:
    """Seeded hard puzzles with unique solutions; train and test never hold two puzzles that
    are equivalent under the validity-preserving moves.

    Keys: count (1000 train puzzles), test_count (0; evaluation tasks), size (9 or 4),
    min_rating (8 for 9x9, 0 for 4x4), seed (0), max_attempts (200 per puzzle), subset.
    """
    count = _int(spec, "count", 1000)
    test_count = _int(spec, "test_count", 0)
    n = _sudoku_size(spec)
    min_rating = _int(spec, "min_rating", DEFAULT_MIN_RATING.get(n, 0))
    seed = _int(spec, "seed", 0)
    max_attempts = _int(spec, "max_attempts", None, minimum=1)
    subset = str(spec.get("subset") or f"sudoku{n}-generated")
    try:
        made = generate_sudoku(
            count + test_count, seed=seed, size=n, min_rating=min_rating, max_attempts=max_attempts
        )
    except SudokuExhausted as e:
        raise ConfigError(
            f"sources: sudoku_generated: {e}; lower 'min_rating' or 'count', or "
            "raise 'max_attempts'"
        ) from None
    tasks = []
    for i, g in enumerate(made):
        evaluation = i >= count
        split, k = ("test", i - count) if evaluation else ("train", i)
        tasks.append(
            _task(
                f"{subset}-s{seed}-{split}-{k}",
                g.puzzle,
                g.solution,
                evaluation=evaluation,
                subset=subset,
                origin=f"generated:sudoku_generated seed={seed} #{i}",
                meta={
                    "rating": g.rating,
                    "clues": int((g.puzzle > 0).sum()),
                    "canonical": g.canonical,
                },
            )
        )
    params = {
        "count": count,
        "test_count": test_count,
        "size": n,
        "min_rating": min_rating,
        "seed": seed,
    }
    return SourceResult(
        tasks, files=[_generated_file("sudoku_generated", params)], rejected=0, read=len(tasks)
    )


@register("maze_generated")
def read_maze_generated(spec: dict, rejects: Rejects) -> SourceResult:
    """Seeded Maze-Hard-style mazes (random walls, shortest path longer than ``min_path``).

    Keys: count (1000 train mazes), test_count (0; evaluation tasks), size (30), min_path
    (110 steps), wall_min (0.3), wall_max (0.5), seed (0), subset.
    """
    count = _int(spec, "count", 1000)
    test_count = _int(spec, "test_count", 0)
    side = _int(spec, "size", maze_board.SIDE, minimum=2)
    min_path = _int(spec, "min_path", 110)
    walls = (_float(spec, "wall_min", 0.3), _float(spec, "wall_max", 0.5))
    seed = _int(spec, "seed", 0)
    subset = str(spec.get("subset") or f"maze{side}-generated")
    try:
        questions, answers, lengths = generate_mazes(
            count + test_count, seed=seed, side=side, min_path=min_path, walls=walls
        )
    except MazeExhausted as e:
        raise ConfigError(
            f"sources: maze_generated: {e}; lower 'min_path' or change the wall range"
        ) from None
    except ValueError as e:
        raise ConfigError(f"sources: maze_generated: {e}") from None
    tasks = []
    for i in range(len(questions)):
        evaluation = i >= count
        split, k = ("test", i - count) if evaluation else ("train", i)
        tasks.append(
            _task(
                f"{subset}-s{seed}-{split}-{k}",
                questions[i],
                answers[i],
                evaluation=evaluation,
                subset=subset,
                origin=f"generated:maze_generated seed={seed} #{i}",
                meta={"rating": int(lengths[i]) - 1, "path_length": int(lengths[i])},
            )
        )
    params = {
        "count": count,
        "test_count": test_count,
        "size": side,
        "min_path": min_path,
        "wall_min": walls[0],
        "wall_max": walls[1],
        "seed": seed,
    }
    return SourceResult(
        tasks, files=[_generated_file("maze_generated", params)], rejected=0, read=len(tasks)
    )
