"""Turn a unit's materialised rows into Arrow tables and write them as Parquet shards.

Grids go in plain ``binary`` columns built straight from numpy buffers (no per-row Python
objects); dictionary encoding is on only for the low-cardinality string columns.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from arcdata.augment.transform import Transform, map_strings
from arcdata.records import Task
from arcdata.schema import ROW_SCHEMA, STRING_COLUMNS
from arcdata.storage.hashing import file_sha256


def binary_column(values: np.ndarray, sizes: np.ndarray) -> pa.Array:
    offsets = np.zeros(len(sizes) + 1, dtype=np.int64)
    np.cumsum(sizes, out=offsets[1:])
    if offsets[-1] < 2**31:
        return pa.Array.from_buffers(
            pa.binary(),
            len(sizes),
            [None, pa.py_buffer(offsets.astype(np.int32).tobytes()), pa.py_buffer(values)],
        )
    raise ValueError("a shard's grid column exceeds 2 GiB; lower shards.rows")


def repeat_strings(labels: list[str], counts: np.ndarray) -> pa.Array:
    """Each label repeated counts[i] times, via a dictionary array cast to plain strings."""
    indices = pa.array(np.repeat(np.arange(len(labels), dtype=np.int32), counts))
    return pa.DictionaryArray.from_arrays(indices, pa.array(labels, pa.string())).cast(pa.string())


def assemble(split: str, blocks: list[tuple[Task, Transform, dict[str, np.ndarray]]]) -> pa.Table:
    """One split's rows of a unit (tasks in order) as a table of ROW_SCHEMA."""
    counts = np.array([len(cols["version"]) for _, _, cols in blocks], dtype=np.int64)
    cat = {key: np.concatenate([cols[key] for _, _, cols in blocks]) for key in blocks[0][2]}

    # per-version columns, indexed by the row's global version number within the unit
    version_base = np.cumsum([0] + [len(v) for _, v, _ in blocks[:-1]])
    row_version = cat["version"].astype(np.int64) + np.repeat(version_base, counts)
    dihedral = np.concatenate([v.dihedral for _, v, _ in blocks])[row_version]
    take = pa.array(row_version)
    colour_map = map_strings(np.concatenate([v.colour_maps for _, v, _ in blocks])).take(take)
    if blocks[0][1].row_maps is not None:
        row_map = map_strings(np.concatenate([v.row_maps for _, v, _ in blocks])).take(take)
        col_map = map_strings(np.concatenate([v.col_maps for _, v, _ in blocks])).take(take)
    else:
        row_map = col_map = pa.nulls(len(row_version), pa.string())

    # per-pair columns
    roles, index = [], []
    for task, _, _ in blocks:
        for role, i, _ in task.pairs():
            roles.append(role)
            index.append(i)
    pair_base = np.cumsum([0] + [len(t.pairs()) for t, _, _ in blocks[:-1]])
    row_pair = cat["pair_number"].astype(np.int64) + np.repeat(pair_base, counts)
    is_test = np.array([r == "test" for r in roles], dtype=bool)[row_pair]
    role = pa.DictionaryArray.from_arrays(
        pa.array(is_test.astype(np.int32)), pa.array(["train", "test"])
    ).cast(pa.string())

    columns = {
        "task_id": repeat_strings([t.id for t, _, _ in blocks], counts),
        "subset": repeat_strings([t.subset for t, _, _ in blocks], counts),
        "split": repeat_strings([split], np.array([counts.sum()])),
        "version": pa.array(cat["version"], pa.int32()),
        "dihedral": pa.array(dihedral.astype(np.int8)),
        "colour_map": colour_map,
        "row_map": row_map,
        "col_map": col_map,
        "role": role,
        "pair_index": pa.array(np.array(index, dtype=np.int16)[row_pair]),
        "embedding_id": pa.array(cat["embedding_id"], pa.int32()),
        "input_h": pa.array(cat["input_h"]),
        "input_w": pa.array(cat["input_w"]),
        "output_h": pa.array(cat["output_h"]),
        "output_w": pa.array(cat["output_w"]),
        "offset_r": pa.array(cat["offset_r"]),
        "offset_c": pa.array(cat["offset_c"]),
        "input": binary_column(cat["input"], cat["input_sizes"]),
        "output": binary_column(cat["output"], cat["output_sizes"]),
    }
    return pa.Table.from_arrays([columns[f.name] for f in ROW_SCHEMA], schema=ROW_SCHEMA)


def write_parquet(table: pa.Table, path: Path, shards_cfg: dict) -> dict:
    """Write atomically (temp name, then rename); return rows, bytes and sha256 of the file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    compression = shards_cfg.get("compression", "zstd")
    pq.write_table(
        table,
        tmp,
        row_group_size=shards_cfg.get("row_group", 16384),
        compression=None if compression == "none" else compression,
        compression_level=shards_cfg.get("compression_level") if compression == "zstd" else None,
        use_dictionary=[c for c in STRING_COLUMNS if c in table.column_names],
        write_statistics=["task_id", "version", "embedding_id", "split"],
    )
    os.replace(tmp, path)
    return {"rows": table.num_rows, "bytes": path.stat().st_size, "sha256": file_sha256(path)}
