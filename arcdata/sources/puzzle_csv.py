"""The shared reader of ``source,question,answer,rating`` CSVs (Sudoku-Extreme, Maze-Hard).

CSV files can hold millions of rows (Sudoku-Extreme's train.csv has 3.8 M), so they are read
with polars and every row is validated with vectorised numpy over fixed-width byte arrays, in
chunks to bound memory. Only the rows that survive the rating filter and the seeded subsample
are turned into Tasks. What differs between families (the alphabet, the row checks) comes in
a :class:`CsvLayout`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from arcdata.errors import InputError
from arcdata.records import Task
from arcdata.sources.base import Rejects, SourceResult, require_path
from arcdata.sources.puzzle_common import (
    one_pair_task,
    spec_bool,
    spec_int,
    subsample,
)
from arcdata.storage.hashing import file_sha256 as sha256_file

CHUNK_ROWS = 1 << 18


@dataclass(frozen=True)
class CsvLayout:
    """One family's rows: ``check(frame)`` -> (Checks, ratings) for a chunk, and ``decode`` from
    the raw question/answer bytes to cell values."""

    side: int
    check: Callable[[object], tuple[Checks, np.ndarray]]
    decode: Callable[[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]


class Checks:
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


def load_csv(path: Path):
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


def fixed_bytes(series, width: int) -> tuple[np.ndarray, np.ndarray]:
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


def ratings(frame) -> tuple[np.ndarray, np.ndarray]:
    """The rating column as int64 and which rows hold a valid integer (absent column: 0)."""
    import polars as pl

    if "rating" not in frame.columns:
        return np.zeros(frame.height, np.int64), np.ones(frame.height, bool)
    parsed = frame["rating"].str.strip_chars().cast(pl.Int64, strict=False)
    ok = parsed.is_not_null().to_numpy()
    return parsed.fill_null(0).to_numpy().astype(np.int64), ok


def cell_name(i: int, width: int) -> str:
    side = int(np.sqrt(width))
    return f"({i // side}, {i % side})"


def check_lengths_and_chars(checks, lengths, codes, raw, field, width, top, allowed) -> None:
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


def read_puzzle_csv(spec: dict, rejects: Rejects, layout: CsvLayout) -> SourceResult:
    """Validate every row (rejects name file, line and field), then keep the rows at or above
    ``min_rating`` and the seeded ``subsample`` of them, in file order."""
    path = require_path(spec)
    evaluation = spec_bool(spec, "evaluation", False)
    min_rating = spec_int(spec, "min_rating", 0, minimum=None)
    keep = spec_int(spec, "subsample", None, minimum=1)
    seed = spec_int(spec, "seed", 0)
    subset = str(spec.get("subset") or f"{path.resolve().parent.name}/{path.stem}")
    frame = load_csv(path)
    stem = path.stem
    eligible, rejected = [], 0
    for start in range(0, max(frame.height, 1), CHUNK_ROWS):
        part = frame.slice(start, CHUNK_ROWS)
        if part.height == 0:
            break
        checks, rated = layout.check(part)
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
        eligible.append(start + np.flatnonzero(~checks.bad & (rated >= min_rating)))
    rows = np.concatenate(eligible) if eligible else np.zeros(0, np.int64)
    rows = rows[subsample(len(rows), keep, seed)]
    tasks = _tasks(frame, rows, path, layout, evaluation, subset)
    return SourceResult(
        tasks,
        files=[{"path": str(path), "sha256": sha256_file(path)}],
        rejected=rejected,
        read=frame.height,
    )


def _tasks(frame, rows, path, layout, evaluation, subset) -> list[Task]:
    import polars as pl

    picked = frame[pl.Series(rows.astype(np.int64))] if len(rows) else frame.clear()
    side = layout.side
    qraw, _ = fixed_bytes(picked["question"], side * side)
    araw, _ = fixed_bytes(picked["answer"], side * side)
    q, a = layout.decode(qraw, araw)
    q, a = q.reshape(-1, side, side), a.reshape(-1, side, side)
    rated, _ = ratings(picked)
    sources = picked["source"].to_list() if "source" in picked.columns else [""] * len(rows)
    stem = path.stem
    return [
        one_pair_task(
            f"{stem}-{row}",
            q[k],
            a[k],
            evaluation=evaluation,
            subset=subset,
            origin=f"{path}:{row + 2}",
            meta={"rating": int(rated[k]), "source": sources[k] or ""},
        )
        for k, row in enumerate(rows.tolist())
    ]
