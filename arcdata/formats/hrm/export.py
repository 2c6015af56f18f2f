"""Export a built dataset to the reference's npy layout, in bounded memory.

Each split is read one Parquet shard at a time (the next shard is read on a second thread while
this one is encoded), its rows are encoded in chunks of a few megabytes and handed to a writer
thread; only the per-row keys the puzzle/group structure needs (12 bytes a row) are kept for the
whole split. So memory stays near one shard whatever the dataset's size, and the output's bytes
do not depend on the chunk or shard sizes.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from arcdata import jsonio
from arcdata.errors import DatasetError
from arcdata.formats.hrm.layout import (
    BLANK,
    NpyStructure,
    array_file,
    layout_problem,
    metadata,
    npy_structure,
)
from arcdata.formats.hrm.npy import RowWriter, write_npy
from arcdata.storage.paths import safe_member, safe_name
from arcdata.storage.publish import staged
from arcdata.stream.store import Dataset, SplitArrays, read_split
from arcdata.tokens import Canvas

CHUNK_ROWS = 8192  # 7 MiB of ARC tokens: the encoder's temporaries stay in cache


def identifier_names(dataset: Dataset) -> list[str]:
    """identifiers.json: index = embedding id, ``<blank>`` at 0 and for ids without a row."""
    count = int(dataset.manifest["embedding_ids"]["count"])
    rel = dataset.manifest["embedding_ids"].get("file", "identifiers.parquet")
    path = safe_member(dataset.root, rel, "embedding_ids.file")
    names = np.full(max(count, 1), BLANK, dtype=object)
    if path.exists():
        try:
            table = pq.read_table(path, columns=["embedding_id", "name"])
        except (pa.ArrowException, OSError) as e:
            raise DatasetError(f"{path}: unreadable identifiers: {e}") from None
        ids = table.column("embedding_id").to_numpy()
        if len(ids) and (ids.min() < 0 or ids.max() >= len(names)):
            raise DatasetError(f"{path}: embedding ids outside 0..{len(names) - 1}")
        names[ids] = table.column("name").to_numpy(zero_copy_only=False)
    names[0] = BLANK
    return names.tolist()


class _Keys:
    """The per-row keys of a split (task, version, embedding id), gathered shard by shard."""

    def __init__(self) -> None:
        self.index: dict[str, int] = {}
        self.parts: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []

    def add(self, arrays: SplitArrays) -> None:
        local = np.array(
            [self.index.setdefault(t, len(self.index)) for t in arrays.task_ids], dtype=np.int32
        )
        task = local[arrays.task_index] if len(local) else arrays.task_index
        self.parts.append((task, arrays.version, arrays.embedding_id))

    def structure(self, where: Path) -> NpyStructure:
        task, version, ids = (np.concatenate(cols) for cols in zip(*self.parts, strict=True))
        structure = npy_structure(task, version, ids)
        if len(structure.group_indices) - 1 != len(self.index):
            raise DatasetError(
                f"{where}: the rows of a task are split between shards that are not "
                "adjacent; a split must be ordered by task"
            )
        return structure


def _shards(dataset: Dataset, split: str, entry: dict) -> Iterator[SplitArrays]:
    """The split's shards in order, each read (and checked) while the previous one is used."""
    shards = entry["shards"]
    if not shards:
        return
    with ThreadPoolExecutor(max_workers=1) as pool:

        def read(shard: dict):
            return pool.submit(read_split, dataset, split, {"shards": [shard]}, verify=True)

        pending = read(shards[0])
        for nxt in [*shards[1:], None]:
            arrays = pending.result()
            if nxt is not None:
                pending = read(nxt)
            yield arrays
            del arrays


def _encode(arrays: SplitArrays, canvas: Canvas, writer: RowWriter) -> None:
    """Encode a shard's inputs and labels chunk by chunk into the writer."""
    windows = {
        kind: canvas.windows(getattr(arrays, f"{kind}_cells")) for kind in ("input", "output")
    }
    n = arrays.num_rows
    for lo in range(0, n, writer.chunk_rows):
        sl = slice(lo, min(lo + writer.chunk_rows, n))
        for kind, key in (("input", "inputs"), ("output", "labels")):
            out = writer.buffer(key, sl.stop - sl.start)
            arrays.encode(kind, canvas, windows[kind], sl, out)
            writer.put(key, out)


def _export_split(
    dataset: Dataset, split: str, folder: Path, canvas: Canvas, num_ids: int, chunk_rows: int
) -> dict:
    entry = dataset.split_entry(split)
    rows = int(entry["rows"])
    folder.mkdir()
    paths = {key: folder / array_file(key) for key in ("inputs", "labels")}
    writer = RowWriter(paths, rows, canvas.codec.seq_len, chunk_rows)
    keys = _Keys()
    try:
        for arrays in _shards(dataset, split, entry):
            keys.add(arrays)
            _encode(arrays, canvas, writer)
    finally:
        writer.close()
    if writer.written["inputs"] != rows:
        raise DatasetError(
            f"{dataset.root / 'manifest.json'}: split {split!r} lists {rows} rows, "
            f"its shards hold {writer.written['inputs']}"
        )
    structure = keys.structure(dataset.root / split)
    write_npy(folder / array_file("puzzle_identifiers"), structure.puzzle_identifiers)
    write_npy(folder / array_file("puzzle_indices"), structure.puzzle_indices.astype(np.int32))
    write_npy(folder / array_file("group_indices"), structure.group_indices.astype(np.int32))
    meta = metadata(canvas.codec, num_ids, structure)
    (folder / "dataset.json").write_text(jsonio.dumps(meta))
    return {
        "examples": rows,
        "puzzles": len(structure.puzzle_identifiers),
        "groups": meta["total_groups"],
    }


def export_hrm(
    dataset_dir: str | os.PathLike,
    out: str | os.PathLike,
    *,
    overwrite: bool = False,
    chunk_rows: int = CHUNK_ROWS,
) -> dict:
    """Write a built dataset in the reference's npy layout; returns per-split counts.

    Published through :func:`arcdata.storage.publish.staged` (hidden sibling, lock, swap);
    ``overwrite`` replaces only a folder holding nothing but this layout.
    """
    dataset = Dataset.open(dataset_dir)
    with staged(
        out, overwrite=overwrite, recognise=layout_problem, what="an npy dataset", empty_ok=False
    ) as stage:
        return _export_into(stage.path, dataset, chunk_rows)


def _export_into(tmp: Path, dataset: Dataset, chunk_rows: int) -> dict:
    canvas = Canvas.of(dataset.codec)
    names = identifier_names(dataset)
    (tmp / "identifiers.json").write_text(jsonio.dumps(names))
    num_ids = len(names)
    del names  # ~0.7M Python strings: freed before the shards are read, not added to their peak
    summary = {}
    for split in sorted(dataset.manifest["splits"]):
        folder = tmp / safe_name(dataset.root, split, "split name")
        summary[split] = _export_split(dataset, split, folder, canvas, num_ids, chunk_rows)
    return summary
