"""One split of a built dataset as flat numpy arrays: what the stream and the exporters read.

Parquet is the archival form; a loader needs O(1) random access to any example with no Python
object per row. A split is read (only the needed columns; the binary grid columns go through
``np.frombuffer`` over Arrow's value buffers, never through Python bytes) into one of two forms:

* :class:`SplitArrays`, the grids as stored: every grid's cells packed end to end with a zero
  margin (see :mod:`arcdata.tokens`) plus per-row shapes, offsets, ids and cell positions. What
  exporters encode shard by shard (:func:`read_split`).
* :class:`TokenArrays`, what the stream serves: every row already encoded, ``inputs`` and
  label bytes ``labels`` as uint8 ``[N, seq_len]``, and the per-row fields a batch carries as
  one int32 ``[N, 4]`` record. A batch is then one row gather per array and nothing else: the
  encoding is paid once, when the cache is written, instead of every epoch. The price is disk
  and page cache: ``2 * seq_len + 16`` bytes per example (5 GB for ARC-AGI-1 x 1000, as the
  reference's int32 arrays would be 20 GB).

The token arrays are cached as raw files keyed by the manifest's sha256 and mapped read-only
(page tables filled at open), so a second process (a DataLoader worker, another rank on the
host, the next run) maps the same pages instead of decoding Parquet again, and memory stays
flat. Where the cache lives and how it is checked, published and repaired is
:mod:`arcdata.stream.cache`.
"""

from __future__ import annotations

import mmap
import os
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from arcdata.errors import DatasetError
from arcdata.storage.hashing import bytes_sha256, file_sha256
from arcdata.storage.manifest import read_manifest
from arcdata.storage.paths import safe_member
from arcdata.stream import cache as stream_cache
from arcdata.tokens import IGNORE_LABEL, MARGIN, Canvas, Codec, get_codec

READ_COLUMNS = (
    "task_id",
    "version",
    "pair_index",
    "embedding_id",
    "input_h",
    "input_w",
    "output_h",
    "output_w",
    "offset_r",
    "offset_c",
    "input",
    "output",
)
ROW_ARRAYS = {
    "task_index": np.int32,
    "version": np.int32,
    "pair_index": np.int16,
    "embedding_id": np.int32,
    "input_h": np.uint8,
    "input_w": np.uint8,
    "output_h": np.uint8,
    "output_w": np.uint8,
    "offset_r": np.uint8,
    "offset_c": np.uint8,
    "input_start": np.int64,
    "output_start": np.int64,
}


@dataclass
class Dataset:
    """A built dataset's root, manifest and fingerprint (sha256 of manifest.json)."""

    root: Path
    manifest: dict
    fingerprint: str

    @classmethod
    def open(cls, root: str | os.PathLike) -> Dataset:
        root = Path(root)
        manifest = read_manifest(root)
        for key in ("codec", "seq_len", "vocab_size", "splits", "embedding_ids"):
            if key not in manifest:
                raise DatasetError(f"{root / 'manifest.json'}: missing key {key!r}")
        digest = bytes_sha256((root / "manifest.json").read_bytes())
        return cls(root, manifest, digest)

    @property
    def codec(self) -> Codec:
        try:
            return get_codec(self.manifest["codec"])
        except KeyError as e:
            raise DatasetError(f"{self.root / 'manifest.json'}: {e.args[0]}") from None

    def split_entry(self, split: str) -> dict:
        splits = self.manifest["splits"]
        if split not in splits:
            raise DatasetError(f"{self.root}: no split {split!r}; it has {sorted(splits)}")
        return splits[split]


@dataclass
class SplitArrays:
    """A split's rows as stored: packed grids and per-row arrays, in dataset order."""

    task_ids: list[str]  # one per group, in row order
    task_index: np.ndarray
    version: np.ndarray
    pair_index: np.ndarray
    embedding_id: np.ndarray
    input_h: np.ndarray
    input_w: np.ndarray
    output_h: np.ndarray
    output_w: np.ndarray
    offset_r: np.ndarray
    offset_c: np.ndarray
    input_start: np.ndarray  # into input_cells (margin included)
    output_start: np.ndarray
    input_cells: np.ndarray  # uint8, MARGIN zeros at both ends
    output_cells: np.ndarray

    @property
    def num_rows(self) -> int:
        return len(self.task_index)

    def encode(
        self, kind: str, canvas: Canvas, windows: np.ndarray, rows: slice, out: np.ndarray
    ) -> None:
        """Encode rows ``rows`` of the ``kind`` ("input" or "output") grids into ``out``, with
        ``windows = canvas.windows(self.<kind>_cells)`` made once per split: the one place the
        stream's cache and the exporter turn stored rows into token rows."""
        canvas.encode(
            windows,
            getattr(self, f"{kind}_start")[rows],
            getattr(self, f"{kind}_h")[rows],
            getattr(self, f"{kind}_w")[rows],
            self.offset_r[rows],
            self.offset_c[rows],
            out,
        )


FIELDS = ("embedding_id", "task_index", "version", "pair_index")
"""The per-row fields a batch carries, the columns of :attr:`TokenArrays.fields`."""
PAD_FIELDS = (0, -1, -1, -1)
"""What a padding row carries in each field: the blank embedding id, no task, no version."""
LABEL_PAD = IGNORE_LABEL % 256
"""The label byte of an ignored cell (-100 read as int8)."""


@dataclass
class TokenArrays:
    """A split as the stream serves it (see the module docstring); rows keep the dataset order.

    ``labels`` holds label bytes: read as int8 they are the labels, IGNORE_LABEL included.
    """

    task_ids: list[str]  # one per group, in row order
    inputs: np.ndarray  # uint8 [N, seq_len]
    labels: np.ndarray  # uint8 [N, seq_len]
    fields: np.ndarray  # int32 [N, 4]: FIELDS

    @property
    def num_rows(self) -> int:
        return len(self.fields)

    def field(self, name: str) -> np.ndarray:
        """int32 [N] (a strided view of :attr:`fields`)."""
        return self.fields[:, FIELDS.index(name)]

    @property
    def task_index(self) -> np.ndarray:
        return self.field("task_index")

    @property
    def version(self) -> np.ndarray:
        return self.field("version")

    @property
    def pair_index(self) -> np.ndarray:
        return self.field("pair_index")

    @property
    def embedding_id(self) -> np.ndarray:
        return self.field("embedding_id")

    @property
    def group_starts(self) -> np.ndarray:
        """int64 [G+1]: row offsets of groups (one group per task)."""
        return run_starts(self.task_index)

    @property
    def puzzle_starts(self) -> np.ndarray:
        """int64 [P+1]: row offsets of puzzles, i.e. runs of one (task, version)."""
        return run_starts(self.task_index, self.version)

    def group_puzzles(self, puzzle_starts: np.ndarray | None = None) -> np.ndarray:
        """int64 [G+1]: offsets of each group's puzzles in ``puzzle_starts``."""
        ps = self.puzzle_starts if puzzle_starts is None else puzzle_starts
        return np.searchsorted(ps, self.group_starts).astype(np.int64)


def run_starts(*keys: np.ndarray) -> np.ndarray:
    """Offsets where any of the keys changes, with 0 and n at the ends."""
    n = len(keys[0])
    change = np.zeros(n, dtype=bool)
    if n:
        change[0] = True
        for k in keys:
            change[1:] |= k[1:] != k[:-1]
    return np.append(np.flatnonzero(change), n).astype(np.int64)


def open_split(
    dataset: Dataset,
    split: str,
    *,
    cache_dir: str | os.PathLike | None = None,
    cache: bool = True,
    verify: bool = True,
) -> TokenArrays:
    """The split's token arrays: memory-mapped from the cache, or encoded from Parquet (and
    cached). Without a cache they are held in memory (``2 * seq_len`` bytes per example).

    ``verify`` checks each shard's sha256 against the manifest when Parquet is read (once per
    dataset and cache); damaged or missing shards raise a DatasetError naming the file. A cache
    folder another user could write is refused (:class:`arcdata.stream.cache.UnsafeCacheError`).
    """
    entry = dataset.split_entry(split)
    if not cache:
        return encode_split(read_split(dataset, split, entry, verify=verify), dataset.codec)
    key = stream_cache.EntryKey(dataset.fingerprint, split, str(dataset.root))
    try:
        root = stream_cache.private_root(cache_dir)
        return stream_cache.open_entry(
            root,
            key,
            write=lambda tmp: _write_cache(dataset, split, entry, tmp, verify),
            load=_load_cache,
            expect=CACHE_FILES,
        )
    except OSError as e:
        # No writable cache (read-only disk, full temp dir): keep the arrays in memory.
        warnings.warn(
            f"stream cache unavailable ({e}); reading {dataset.root} split {split!r} into memory",
            stream_cache.CacheWarning,
            stacklevel=2,
        )
        return encode_split(read_split(dataset, split, entry, verify=verify), dataset.codec)


# ----------------------------------------------------------------------------- reading Parquet


@dataclass
class _Chunk:
    rows: dict[str, np.ndarray]
    task_names: list[str]
    input_cells: list[np.ndarray]
    output_cells: list[np.ndarray]


def _shard_path(dataset: Dataset, shard: dict) -> Path:
    """The shard's file, refusing manifest paths that leave the dataset folder."""
    return safe_member(dataset.root, shard.get("path"), "shard path")


def _read_shard(dataset: Dataset, shard: dict, codec: Codec, verify: bool) -> pa.Table:
    path = _shard_path(dataset, shard)
    if not path.is_file():
        raise DatasetError(f"{path}: shard listed in manifest.json is missing")
    size = path.stat().st_size
    if "bytes" in shard and size != shard["bytes"]:
        raise DatasetError(
            f"{path}: shard is {size} bytes, manifest.json says {shard['bytes']} "
            "(truncated or replaced)"
        )
    if verify and "sha256" in shard and file_sha256(path) != shard["sha256"]:
        raise DatasetError(f"{path}: shard sha256 does not match manifest.json (damaged)")
    try:
        table = pq.read_table(path, columns=list(READ_COLUMNS))
    except (pa.ArrowException, OSError, ValueError) as e:
        raise DatasetError(f"{path}: unreadable shard: {e}") from None
    if "rows" in shard and table.num_rows != shard["rows"]:
        raise DatasetError(f"{path}: {table.num_rows} rows, manifest.json says {shard['rows']}")
    _check_shapes(table, codec, path)
    return table


def _check_shapes(table: pa.Table, codec: Codec, path: Path) -> None:
    """Shapes, offsets and cell counts in range, so the encoder can trust them."""
    col = {
        k: table.column(k).to_numpy().astype(np.int64)
        for k in ("input_h", "input_w", "output_h", "output_w", "offset_r", "offset_c")
    }
    side = codec.side
    bad = (
        (np.minimum.reduce([col[k] for k in ("input_h", "input_w", "output_h", "output_w")]) < 1)
        | (col["offset_r"] + np.maximum(col["input_h"], col["output_h"]) > side)
        | (col["offset_c"] + np.maximum(col["input_w"], col["output_w"]) > side)
    )
    for kind in ("input", "output"):
        lengths = pc.binary_length(table.column(kind)).to_numpy(zero_copy_only=False)
        bad |= lengths != col[f"{kind}_h"] * col[f"{kind}_w"]
    if bad.any():
        row = int(np.flatnonzero(bad)[0])
        raise DatasetError(
            f"{path}: row {row} has a grid shape, offset or cell count that does "
            f"not fit the {side}x{side} {codec.name} canvas"
        )


def _binary_values(column: pa.ChunkedArray) -> tuple[list[np.ndarray], np.ndarray]:
    """A binary column's value bytes (zero-copy views, one per chunk) and per-row starts."""
    parts, starts, base = [], [], 0
    for chunk in column.chunks:
        buffers = chunk.buffers()
        dtype = np.int64 if pa.types.is_large_binary(chunk.type) else np.int32
        offsets = np.frombuffer(buffers[1], dtype=dtype)[
            chunk.offset : chunk.offset + len(chunk) + 1
        ].astype(np.int64)
        if buffers[2] is None:
            values = np.zeros(0, dtype=np.uint8)
        else:
            values = np.frombuffer(buffers[2], dtype=np.uint8)[offsets[0] : offsets[-1]]
        parts.append(values)
        starts.append(offsets[:-1] - offsets[0] + base)
        base += int(offsets[-1] - offsets[0])
    return parts, np.concatenate(starts) if starts else np.zeros(0, np.int64)


def _table_chunk(table: pa.Table) -> _Chunk:
    encoded = table.column("task_id").combine_chunks().dictionary_encode()
    rows = {
        "task_index": encoded.indices.to_numpy().astype(np.int32),
        **{
            k: table.column(k).to_numpy().astype(ROW_ARRAYS[k])
            for k in READ_COLUMNS
            if k in ROW_ARRAYS  # the per-row numeric columns
        },
    }
    in_parts, rows["input_start"] = _binary_values(table.column("input"))
    out_parts, rows["output_start"] = _binary_values(table.column("output"))
    return _Chunk(rows, encoded.dictionary.to_pylist(), in_parts, out_parts)


class _Assembler:
    """Concatenates shard chunks: task indices become split-wide, cell starts get offsets."""

    def __init__(self, write_cells) -> None:
        self.write_cells = write_cells  # (kind, [arrays]) -> None
        self.task_ids: list[str] = []
        self.index: dict[str, int] = {}
        self.rows: dict[str, list[np.ndarray]] = {k: [] for k in ROW_ARRAYS}
        self.cells = {"input": MARGIN, "output": MARGIN}

    def add(self, chunk: _Chunk) -> None:
        self._add_rows(chunk.task_names, chunk.rows)
        for kind, parts in (("input", chunk.input_cells), ("output", chunk.output_cells)):
            self.write_cells(kind, parts)
            self.cells[kind] += sum(len(p) for p in parts)

    def add_rows(self, part: SplitArrays) -> None:
        """A part read on its own (one shard): its rows, without keeping its cells."""
        self._add_rows(part.task_ids, {k: getattr(part, k) for k in ROW_ARRAYS})
        for kind in ("input", "output"):
            self.cells[kind] += len(getattr(part, f"{kind}_cells")) - 2 * MARGIN

    def _add_rows(self, task_names: list[str], rows: dict[str, np.ndarray]) -> None:
        local = np.array(
            [self.index.setdefault(t, len(self.index)) for t in task_names], dtype=np.int32
        )
        self.task_ids = list(self.index)
        for key, values in rows.items():
            if key == "task_index":
                values = local[values] if len(local) else values
            elif key in ("input_start", "output_start"):
                values = values + self.cells[key.split("_")[0]]
            self.rows[key].append(values)

    def finish(self, where: Path) -> dict[str, np.ndarray]:
        rows = {
            k: (np.concatenate(v) if v else np.zeros(0, ROW_ARRAYS[k]))
            for k, v in self.rows.items()
        }
        groups = run_starts(rows["task_index"])
        if len(groups) - 1 != len(self.task_ids):
            counts = np.bincount(rows["task_index"][groups[:-1]], minlength=len(self.task_ids))
            task = self.task_ids[int(np.argmax(counts > 1))]
            raise DatasetError(
                f"{where}: rows of task {task!r} are not contiguous; a split must "
                "be ordered by task"
            )
        # Contiguous runs numbered by first appearance: task_index is the group index.
        return rows


def read_split(dataset: Dataset, split: str, entry: dict, *, verify: bool) -> SplitArrays:
    """Read a split (or the shards ``entry`` lists) from Parquet into in-memory arrays."""
    cells: dict[str, list[np.ndarray]] = {"input": [], "output": []}
    asm = _Assembler(lambda kind, parts: cells[kind].extend(parts))
    codec = dataset.codec
    for shard in entry["shards"]:
        asm.add(_table_chunk(_read_shard(dataset, shard, codec, verify)))
    rows = asm.finish(dataset.root / split)
    pad = np.zeros(MARGIN, np.uint8)
    packed = {f"{k}_cells": np.concatenate([pad, *cells[k], pad]) for k in ("input", "output")}
    return SplitArrays(task_ids=asm.task_ids, **rows, **packed)


# ----------------------------------------------------------------------------- encoding


ENCODE_ROWS = 8192
"""Rows encoded per step (7 MB of ARC tokens per kind): the encoder's temporaries stay small."""


def token_chunks(
    arrays: SplitArrays, codec: Codec, chunk_rows: int = ENCODE_ROWS
) -> Iterator[tuple[slice, np.ndarray, np.ndarray]]:
    """``(rows, inputs, labels)`` for consecutive chunks of the rows: uint8 token rows and label
    bytes (PAD cells as :data:`LABEL_PAD`). The two buffers are reused from chunk to chunk."""
    canvases = {"input": Canvas.of(codec), "output": Canvas.labels(codec)}
    windows = {k: c.windows(getattr(arrays, f"{k}_cells")) for k, c in canvases.items()}
    n = arrays.num_rows
    buffers = {k: np.empty((min(chunk_rows, n), codec.seq_len), np.uint8) for k in canvases}
    for lo in range(0, n, chunk_rows):
        rows = slice(lo, min(lo + chunk_rows, n))
        out = {}
        for kind, canvas in canvases.items():
            out[kind] = buffers[kind][: rows.stop - lo]
            arrays.encode(kind, canvas, windows[kind], rows, out[kind])
        yield rows, out["input"], out["output"]


def field_record(rows: dict[str, np.ndarray] | SplitArrays) -> np.ndarray:
    """int32 [N, 4]: the :data:`FIELDS` of every row, one 16-byte record each."""
    get = rows.__getitem__ if isinstance(rows, dict) else lambda k: getattr(rows, k)
    n = len(get("task_index"))
    record = np.empty((n, len(FIELDS)), np.int32)
    for i, name in enumerate(FIELDS):
        record[:, i] = get(name)
    return record


def encode_split(arrays: SplitArrays, codec: Codec) -> TokenArrays:
    """Every row of a split encoded, in memory (what the stream serves without a cache)."""
    n, length = arrays.num_rows, codec.seq_len
    inputs = np.empty((n, length), np.uint8)
    labels = np.empty((n, length), np.uint8)
    for rows, ins, labs in token_chunks(arrays, codec):
        inputs[rows], labels[rows] = ins, labs
    return TokenArrays(arrays.task_ids, inputs, labels, field_record(arrays))


# ----------------------------------------------------------------------------- the cache


TOKEN_FILES = {"inputs": "inputs.u8", "labels": "labels.u8"}
FIELDS_FILE = "fields.i32"
CACHE_FILES = (*TOKEN_FILES.values(), FIELDS_FILE)


def _write_cache(dataset: Dataset, split: str, entry: dict, folder: Path, verify: bool) -> dict:
    """Encode the split into ``folder`` shard by shard (memory: one shard and its tokens'
    chunk); returns the meta the arrays need (rows, seq_len, task ids)."""
    codec = dataset.codec
    asm = _Assembler(lambda kind, parts: None)  # row arrays only: cells are encoded per shard
    files = {k: open(folder / name, "wb") for k, name in TOKEN_FILES.items()}  # noqa: SIM115
    try:
        for shard in entry["shards"]:
            part = read_split(dataset, split, {"shards": [shard]}, verify=verify)
            asm.add_rows(part)
            for _, inputs, labels in token_chunks(part, codec):
                files["inputs"].write(memoryview(inputs))
                files["labels"].write(memoryview(labels))
            del part
    finally:
        for f in files.values():
            f.close()
    rows = asm.finish(dataset.root / split)
    field_record(rows).tofile(folder / FIELDS_FILE)
    return {
        "rows": int(len(rows["task_index"])),
        "seq_len": codec.seq_len,
        "task_ids": asm.task_ids,
    }


def _load_cache(folder: Path, meta: dict) -> TokenArrays:
    """Map a checked entry's files; ValueError if they do not fit together."""
    n, length = int(meta["rows"]), int(meta["seq_len"])
    shapes = {"inputs": (n, length), "labels": (n, length)}
    arrays = {k: map_populated(folder / name) for k, name in TOKEN_FILES.items()}
    arrays["fields"] = map_populated(folder / FIELDS_FILE).view(np.int32)
    shapes["fields"] = (n, len(FIELDS))
    for key, shape in shapes.items():
        if arrays[key].size != shape[0] * shape[1]:
            raise ValueError(f"{key} does not hold {shape[0]} rows of {shape[1]}")
        arrays[key] = arrays[key].reshape(shape)
    return TokenArrays(task_ids=list(meta["task_ids"]), **arrays)


def map_populated(path: Path) -> np.ndarray:
    """A read-only uint8 map of ``path`` with its page tables filled at open (MAP_POPULATE).

    Why: every batch reads rows at random places; mapped lazily, the first epoch of each
    process takes a page fault or two per example, which costs as much as the gather itself.
    Filling the tables once is a fraction of a second per GB.
    """
    flags = mmap.MAP_SHARED | getattr(mmap, "MAP_POPULATE", 0)
    with open(path, "rb") as f:
        if os.fstat(f.fileno()).st_size == 0:
            return np.zeros(0, np.uint8)
        mm = mmap.mmap(f.fileno(), 0, flags=flags, prot=mmap.PROT_READ)
    return np.frombuffer(mm, dtype=np.uint8)
