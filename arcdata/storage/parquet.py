"""Parquet shards as every writer (build, import) writes them: Arrow columns straight from
numpy buffers (no per-row Python objects), dictionary encoding only on the low-cardinality
string columns, written under a temporary name and renamed, with rows, bytes and sha256."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from arcdata.schema import STRING_COLUMNS
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
