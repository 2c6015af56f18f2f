"""Read-side helpers for a built dataset: its manifest, a summary, one task's rows as grids.

The public helpers for a row read by any Parquet reader (polars, pyarrow, Hugging Face
``datasets``): :func:`decode_row` gives its grids, :func:`undo_augmentation` maps them back to
the original task, :func:`row_tokens` gives the model's input and label tokens.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import polars as pl

from arcdata.errors import DatasetError
from arcdata.storage.manifest import read_manifest
from arcdata.storage.paths import safe_member


@dataclass
class Example:
    """One stored row, grids as 2-D arrays (transformed, at their own size)."""

    split: str
    task_id: str
    version: int
    role: str
    pair_index: int
    dihedral: int
    colour_map: str
    row_map: str | None
    col_map: str | None
    embedding_id: int
    offset: tuple[int, int]
    input: np.ndarray
    output: np.ndarray


@dataclass
class Grids:
    """A row's pair as 2-D uint8 arrays (cell values, not tokens)."""

    input: np.ndarray
    output: np.ndarray


def decode_row(row: Mapping) -> Grids:
    """The grids of one stored row (a dict of its columns), as stored: augmented, own size."""
    return Grids(
        _grid(row["input"], row["input_h"], row["input_w"]),
        _grid(row["output"], row["output_h"], row["output_w"]),
    )


def undo_augmentation(row: Mapping) -> Grids:
    """The row's pair in the original task: its transform (dihedral move, colour map, Sudoku
    row/column maps) undone. Version 0 rows come back unchanged."""
    from arcdata.augment.transform import Transform

    inverse = Transform.from_row(row).inverse()
    grids = decode_row(row)
    return Grids(*(_one(inverse, g) for g in (grids.input, grids.output)))


def row_tokens(row: Mapping, codec: str) -> tuple[np.ndarray, np.ndarray]:
    """(inputs, labels) int64 [seq_len] token rows as the stream feeds the model: the grids on
    the codec's canvas at the row's offset; labels ignore padding (-100). ``codec`` is the
    manifest's (``arc``, ``sudoku``, ``sudoku4``, ``maze``...)."""
    from arcdata.tokens import IGNORE_LABEL, PAD, encode, get_codec

    c = get_codec(codec)
    grids = decode_row(row)
    offset = (int(row["offset_r"]), int(row["offset_c"]))
    inputs = encode(c, grids.input, offset).astype(np.int64)
    labels = encode(c, grids.output, offset).astype(np.int64)
    labels[labels == PAD] = IGNORE_LABEL
    return inputs, labels


def _grid(data: bytes, h: int, w: int) -> np.ndarray:
    return np.frombuffer(data, np.uint8).reshape(int(h), int(w))


def _one(transform, grid: np.ndarray) -> np.ndarray:
    """``transform`` (of one version) applied to one grid, whatever its shape."""
    return transform.apply(grid[None])[0]


def shard_paths(root: str | Path, manifest: dict, split: str | None = None) -> list[Path]:
    splits = [split] if split else sorted(manifest["splits"])
    out = []
    for s in splits:
        if s not in manifest["splits"]:
            raise DatasetError(f"{root}: no split {s!r}; has {sorted(manifest['splits'])}")
        out += [
            safe_member(root, e["path"], f"split {s} shard path")
            for e in manifest["splits"][s]["shards"]
        ]
    return out


def task_examples(root: str | Path, task_id: str, version: int | None = None) -> list[Example]:
    """All rows of one task (optionally one version), reading only the shards' matching rows."""
    manifest = read_manifest(root)
    frame = pl.scan_parquet([str(p) for p in shard_paths(root, manifest)])
    frame = frame.filter(pl.col("task_id") == task_id)
    if version is not None:
        frame = frame.filter(pl.col("version") == version)
    rows = frame.collect().to_dicts()
    out = []
    for r in rows:
        out.append(
            Example(
                r["split"],
                r["task_id"],
                r["version"],
                r["role"],
                r["pair_index"],
                r["dihedral"],
                r["colour_map"],
                r["row_map"],
                r["col_map"],
                r["embedding_id"],
                (r["offset_r"], r["offset_c"]),
                np.frombuffer(r["input"], np.uint8).reshape(r["input_h"], r["input_w"]),
                np.frombuffer(r["output"], np.uint8).reshape(r["output_h"], r["output_w"]),
            )
        )
    return out


def summary(root: str | Path) -> str:
    """A human summary: what was built from what, how big, how it is split and identified."""
    m = read_manifest(root)
    lines = [
        f"{m['name']}  ({m['format']}, codec {m['codec']}, seq_len {m['seq_len']}, "
        f"vocab {m['vocab_size']})",
        f"config {m['config_hash'][:16]}  built by arcdata {m['code_version']}",
    ]
    for s in m["sources"]:
        state = (
            "skipped (no path)"
            if s["skipped"]
            else f"{s['built']} tasks" + (f", {s['rejected']} rejected" if s["rejected"] else "")
        )
        lines.append(f"  source {s['name']:<18} {s['type']:<16} {state}")
    t = m["totals"]
    lines.append(f"tasks {t['tasks']}  versions {t['versions']:,}  examples {t['examples']:,}")
    for name, s in m["splits"].items():
        size = sum(e["bytes"] for e in s["shards"])
        lines.append(
            f"  split {name:<10} rows {s['rows']:>10,}  groups {s['groups']:>6,}  "
            f"puzzles {s['puzzles']:>9,}  shards {len(s['shards']):>3}  "
            f"{size / 2**20:,.1f} MiB"
        )
    ids = m["embedding_ids"]
    lines.append(f"embedding ids: {ids['granularity']}, {ids['count']:,} (0 = blank)")
    short = m["short_tasks"]
    if short["count"]:
        lines.append(
            f"{short['count']} tasks have fewer than {short['requested_versions']} "
            "distinct versions (too few colours or symmetric)"
        )
    if m["rejects"]:
        lines.append(f"{len(m['rejects'])} inputs rejected (see manifest 'rejects')")
    if "leakage" in m:
        from arcdata.leakage import describe

        lines.append(describe(m["leakage"]))
    return "\n".join(lines)
