"""Import a reference npy dataset into arcdata's Parquet form, in bounded memory.

The token arrays are read through memory-mapped windows of ``chunk_rows`` rows, each dropped
once decoded (a whole-file map would keep every page it touched resident: 6 GB for ARC-AGI-1 x
1000); Parquet shards of about ``shard_rows`` rows are cut at group boundaries and written one at
a time; the source files' sha256 (for the manifest) are computed on a second thread meanwhile.
"""

from __future__ import annotations

import json
import os
import re
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from arcdata.errors import DatasetError
from arcdata.formats.hrm.import_manifest import ImportStats, import_manifest
from arcdata.formats.hrm.layout import (
    ARRAYS,
    IdentifierInfo,
    array_file,
    codec_for,
)
from arcdata.formats.hrm.npy import NpyFile
from arcdata.schema import IDENTIFIER_SCHEMA, ROW_SCHEMA
from arcdata.storage.card import write_card
from arcdata.storage.hashing import file_sha256
from arcdata.storage.manifest import write_json
from arcdata.storage.parquet import binary_column, repeat_strings, write_parquet
from arcdata.storage.publish import staged
from arcdata.tokens import Canvas, Codec, Decoded, decode_rows

SHARD_ROWS = 131072
CHUNK_ROWS = 16384  # 14 MiB of ARC tokens mapped at a time
SHARDS = {"compression": "zstd", "row_group": 16384, "compression_level": 1}


def _locate(src: Path) -> tuple[Path, list[str]]:
    if (src / "identifiers.json").is_file():
        splits = sorted(p.name for p in src.iterdir() if (p / "dataset.json").is_file())
        if not splits:
            raise DatasetError(f"{src}: no <split>/dataset.json found")
        return src, splits
    if (src / "dataset.json").is_file() and (src.parent / "identifiers.json").is_file():
        return src.parent, [src.name]
    raise DatasetError(
        f"{src}: not an HRM npy dataset (no identifiers.json, or no <split>/dataset.json)"
    )


def _read_json(path: Path):
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError, UnicodeDecodeError) as e:
        raise DatasetError(f"{path}: unreadable JSON: {e}") from None


@dataclass
class _NpySet:
    """One set of a split: the token files (headers only) and the structure arrays."""

    name: str
    inputs: NpyFile
    labels: NpyFile
    puzzle_identifiers: np.ndarray  # int64 [P]
    puzzle_indices: np.ndarray  # int64 [P+1]
    group_indices: np.ndarray  # int64 [G+1]

    @property
    def num_rows(self) -> int:
        return len(self.inputs)


def _load_set(folder: Path, name: str, seq_len: int, num_ids: int) -> _NpySet:
    p = {k: folder / array_file(k, name) for k in ARRAYS}

    def small(key: str) -> np.ndarray:
        return NpyFile.open(p[key], np.int64, 1).load().astype(np.int64)

    s = _NpySet(
        name,
        NpyFile.open(p["inputs"], np.uint8, 2),
        NpyFile.open(p["labels"], np.uint8, 2),
        small("puzzle_identifiers"),
        small("puzzle_indices"),
        small("group_indices"),
    )
    n = s.num_rows
    if s.inputs.shape != (n, seq_len) or s.labels.shape != (n, seq_len):
        raise DatasetError(f"{p['inputs']}: inputs/labels must both be [N, {seq_len}]")

    def check(arr: np.ndarray, key: str, end: int) -> None:
        if len(arr) < 1 or arr[0] != 0 or arr[-1] != end or (np.diff(arr) < 0).any():
            raise DatasetError(f"{p[key]}: offsets must rise from 0 to {end}")

    check(s.puzzle_indices, "puzzle_indices", n)
    if len(s.puzzle_identifiers) != len(s.puzzle_indices) - 1:
        raise DatasetError(f"{p['puzzle_identifiers']}: one id per puzzle expected")
    check(s.group_indices, "group_indices", len(s.puzzle_identifiers))
    ids = s.puzzle_identifiers
    if len(ids) and (ids.min() < 0 or ids.max() >= num_ids):
        raise DatasetError(f"{p['puzzle_identifiers']}: ids outside 0..{num_ids - 1}")
    return s


@dataclass
class Puzzles:
    """Per-puzzle facts of a set: its group's task id and its version number."""

    group_task: list[str]  # per group
    group: np.ndarray  # int64 [P]
    version: np.ndarray  # int64 [P]
    shared_ids: bool  # some group repeats an id across its puzzles (ids per task, or none)


def _puzzles(s: _NpySet, info: IdentifierInfo, split: str, used: set[str]) -> Puzzles:
    """Task of each group from its puzzles' names (else ``<set>-<split>-gNNNNNN``); version
    from the names when a group's ids are distinct, else the puzzle's position in the group.

    Per-group facts (one task named, ids distinct, every name versioned) are counted over all
    puzzles at once; only the naming (a few thousand groups) is a Python loop."""
    bounds = s.group_indices
    counts = np.diff(bounds)
    n_groups = len(counts)
    group = np.repeat(np.arange(n_groups, dtype=np.int64), counts)  # (P,)
    position = np.arange(len(group), dtype=np.int64) - bounds[group]
    ids = s.puzzle_identifiers
    codes = info.task_code[ids]  # (P,)
    first_code = np.full(n_groups, -1, np.int64)
    first_code[counts > 0] = codes[bounds[:-1][counts > 0]]
    mixed = np.bincount(group, weights=codes != first_code[group], minlength=n_groups)
    one_task = (counts > 0) & (first_code >= 0) & (mixed == 0)
    keys = np.sort((group << 32) | ids)  # ids < 2^31: (group, id) pairs in order
    repeats = keys[1:][keys[1:] == keys[:-1]] >> 32
    distinct = np.bincount(repeats, minlength=n_groups) == 0
    unversioned = np.bincount(group, weights=info.version[ids] < 0, minlength=n_groups)
    by_name = distinct & (unversioned == 0)
    tasks = []
    for g in range(n_groups):
        task = info.task_names[first_code[g]] if one_task[g] else None
        if task is None or task in used:
            task = f"{s.name}-{split}-g{g:06d}"
        used.add(task)
        tasks.append(task)
    version = np.where(by_name[group], info.version[ids], position)
    return Puzzles(tasks, group, version, not bool(distinct.all()))


def _decode(canvas: Canvas, tokens: np.ndarray, path: Path, row0: int) -> Decoded:
    if tokens.dtype != np.uint8 and len(tokens):  # e.g. the reference's int64 Sudoku arrays
        fits = (tokens.min(axis=1) >= 0) & (tokens.max(axis=1) < canvas.codec.vocab_size)
        if not fits.all():
            bad = int(np.flatnonzero(~fits)[0]) + row0
            raise DatasetError(f"{path}: row {bad} has tokens outside the vocabulary")
    dec, ok = decode_rows(canvas, tokens)
    if not ok.all():
        bad = int(np.flatnonzero(~ok)[0]) + row0
        raise DatasetError(f"{path}: row {bad} is not a well-formed encoded grid")
    return dec


def _decode_range(canvas: Canvas, f: NpyFile, lo: int, hi: int, chunk_rows: int) -> Decoded:
    """Rows lo..hi of a token file, decoded one mapped window at a time."""
    parts = []
    for a in range(lo, hi, chunk_rows):
        b = min(a + chunk_rows, hi)
        with f.rows(a, b) as tokens:
            parts.append(_decode(canvas, tokens, f.path, a))
        del tokens  # unmap the window now
    cat = {
        k: np.concatenate([getattr(d, k) for d in parts])
        for k in ("cells", "heights", "widths", "rows", "cols")
    }
    sizes = cat["heights"].astype(np.int64) * cat["widths"]
    return Decoded(starts=np.cumsum(sizes) - sizes, **cat)


def _rows_table(
    s: _NpySet,
    split: str,
    canvas: Canvas,
    info: IdentifierInfo,
    puzzles: Puzzles,
    lo: int,
    hi: int,
    chunk_rows: int,
) -> pa.Table:
    """ROW_SCHEMA rows lo..hi of a set, grids decoded from the tokens."""
    n = hi - lo
    rows = np.arange(lo, hi)
    puzzle = np.searchsorted(s.puzzle_indices, rows, side="right") - 1
    group = puzzles.group[puzzle]
    ids = s.puzzle_identifiers[puzzle]
    version = puzzles.version[puzzle]
    pair = rows - s.puzzle_indices[puzzle]
    inp = _decode_range(canvas, s.inputs, lo, hi, chunk_rows)
    out = _decode_range(canvas, s.labels, lo, hi, chunk_rows)
    moved = (inp.rows != out.rows) | (inp.cols != out.cols)
    if moved.any():
        bad = int(np.flatnonzero(moved)[0]) + lo
        raise DatasetError(
            f"{s.inputs.path.parent}: row {bad}: input and label grids sit at different offsets"
        )
    ids_arrow = pa.array(ids)
    n_u = np.array([n])
    columns = {
        "task_id": pa.array(puzzles.group_task, pa.string()).take(pa.array(group)),
        "subset": repeat_strings([s.name], n_u),
        "split": repeat_strings([split], n_u),
        "version": pa.array(version.astype(np.int32)),
        "dihedral": pa.array(info.dihedral[ids]),
        "colour_map": info.colour_map.take(ids_arrow),
        "row_map": info.row_map.take(ids_arrow),
        "col_map": info.col_map.take(ids_arrow),
        "role": repeat_strings(["test" if split == "test" else "train"], n_u),
        "pair_index": pa.array(pair.astype(np.int16)),
        "embedding_id": pa.array(ids.astype(np.int32)),
        "input_h": pa.array(inp.heights),
        "input_w": pa.array(inp.widths),
        "output_h": pa.array(out.heights),
        "output_w": pa.array(out.widths),
        "offset_r": pa.array(inp.rows),
        "offset_c": pa.array(inp.cols),
        "input": binary_column(inp.cells, inp.heights.astype(np.int64) * inp.widths),
        "output": binary_column(out.cells, out.heights.astype(np.int64) * out.widths),
    }
    return pa.Table.from_arrays([columns[f.name] for f in ROW_SCHEMA], schema=ROW_SCHEMA)


def _shard_bounds(s: _NpySet, shard_rows: int) -> list[tuple[int, int]]:
    """Row ranges of at least ``shard_rows`` rows (except the last), cut at group boundaries."""
    group_rows = s.puzzle_indices[s.group_indices]
    n = int(group_rows[-1])
    bounds, lo = [], 0
    while lo < n:
        k = int(np.searchsorted(group_rows, lo + shard_rows, side="left"))
        hi = n if k >= len(group_rows) else int(group_rows[k])
        bounds.append((lo, hi))
        lo = hi
    return bounds


def _identifier_table(names: list[str], info: IdentifierInfo) -> pa.Table:
    n = len(names)
    known = info.known
    codes = pa.array(np.where(known, info.task_code, 0))
    task_names = pa.array(info.task_names or [""], pa.string()).take(codes)
    return pa.Table.from_arrays(
        [
            pa.array(np.arange(n, dtype=np.int32)),
            pa.array(names, pa.string()),
            pc.if_else(pa.array(known), task_names, ""),
            pa.array(np.where(known, info.version, 0).astype(np.int32), mask=~known),
            pa.nulls(n, pa.string()),
            pa.nulls(n, pa.int16()),
            pa.array(info.dihedral, mask=~known),
            pc.if_else(pa.array(known), info.colour_map, pa.scalar(None, pa.string())),
        ],
        schema=IDENTIFIER_SCHEMA,
    )


def _read_names(path: Path) -> list[str]:
    names = _read_json(path)
    if not isinstance(names, list) or not names:
        raise DatasetError(f"{path}: expected a list of names")
    try:  # one vectorised type check (a Python loop over ~700k names takes a second)
        nulls = pa.array(names, pa.string()).null_count
    except (pa.ArrowTypeError, pa.ArrowInvalid):
        nulls = 1
    if nulls:
        raise DatasetError(f"{path}: expected a list of names (strings only)")
    return names


def _split_codec(folder: Path, codec: Codec | None) -> tuple[Codec, list[str]]:
    meta = _read_json(folder / "dataset.json")
    try:
        split_codec = codec_for(int(meta["vocab_size"]), int(meta["seq_len"]))
        sets = list(meta["sets"])
    except (KeyError, TypeError, ValueError) as e:
        raise DatasetError(f"{folder / 'dataset.json'}: bad metadata: {e}") from None
    if codec is not None and split_codec != codec:
        raise DatasetError(f"{folder / 'dataset.json'}: codec differs from other splits")
    return split_codec, sets


def _import_split(
    root: Path,
    split: str,
    tmp: Path,
    info: IdentifierInfo,
    codec: Codec,
    sets: list[str],
    stats: ImportStats,
    shard_rows: int,
    chunk_rows: int,
) -> dict:
    folder = root / split
    canvas = Canvas.of(codec)
    entries, groups, n_puzzles, rows, used = [], 0, 0, 0, set()
    for set_name in sets:
        s = _load_set(folder, set_name, codec.seq_len, len(info.task_code))
        stats.hash_files([folder / array_file(k, set_name) for k in ARRAYS])
        puzzles = _puzzles(s, info, split, used)
        stats.add(s.puzzle_identifiers, puzzles)
        for lo, hi in _shard_bounds(s, shard_rows):
            table = _rows_table(s, split, canvas, info, puzzles, lo, hi, chunk_rows)
            rel = f"{split}/part-{len(entries):05d}.parquet"
            entries.append({"path": rel, **write_parquet(table, tmp / rel, SHARDS)})
            del table
        groups += len(s.group_indices) - 1
        n_puzzles += len(s.puzzle_identifiers)
        rows += s.num_rows
    return {"rows": rows, "groups": groups, "puzzles": n_puzzles, "shards": entries}


def import_hrm(
    src: str | os.PathLike,
    out: str | os.PathLike,
    *,
    name: str | None = None,
    overwrite: bool = False,
    shard_rows: int = SHARD_ROWS,
    chunk_rows: int = CHUNK_ROWS,
) -> dict:
    """Read a reference npy dataset into arcdata's Parquet form; returns the manifest.

    Grids, shapes and offsets come back from the tokens (every row is checked to re-encode
    exactly). Task ids, dihedral ids and colour maps come from identifier names
    ``<task>_t<d>_<map>`` where they parse; otherwise dihedral 0 and the identity map. Roles are
    not in the npy layout: rows of a ``test`` split get role ``test``, all others ``train``;
    ``pair_index`` is the example's position in its puzzle. Several sets are concatenated
    (``subset`` keeps the set name); export writes them back as one set ``all``.
    """
    src, out = Path(src), Path(out)
    root, splits = _locate(src)
    names = _read_names(root / "identifiers.json")
    info = IdentifierInfo.parse(names)
    name = name or re.sub(r"[^A-Za-z0-9._-]", "_", out.name)
    with staged(out, overwrite=overwrite, empty_ok=False) as stage:
        return _import_into(
            stage.path, src, root, splits, names, info, name, shard_rows, chunk_rows
        )


def _import_into(tmp, src, root, splits, names, info, name, shard_rows, chunk_rows) -> dict:
    codec: Codec | None = None
    split_entries: dict[str, dict] = {}
    with ThreadPoolExecutor(max_workers=1) as hasher:
        stats = ImportStats(root, hasher)
        stats.hash_files([root / "identifiers.json"])
        for split in splits:
            codec, sets = _split_codec(root / split, codec)
            stats.hash_files([root / split / "dataset.json"])
            split_entries[split] = _import_split(
                root, split, tmp, info, codec, sets, stats, shard_rows, chunk_rows
            )
        files = stats.files()
    assert codec is not None
    ident_path = tmp / "identifiers.parquet"
    pq.write_table(_identifier_table(names, info), ident_path, compression="zstd")
    manifest = import_manifest(
        src, name, codec, split_entries, info, stats, files, file_sha256(ident_path)
    )
    write_json(tmp / "manifest.json", manifest)
    write_card(tmp, manifest)
    return manifest
