"""Turn a unit's materialised rows into Arrow tables of ROW_SCHEMA.

Grids go in plain ``binary`` columns built straight from numpy buffers (no per-row Python
objects); the column builders and the shard writer live in :mod:`arcdata.storage.parquet`.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from arcdata.augment.transform import Transform, map_strings
from arcdata.records import Task
from arcdata.schema import ROW_SCHEMA
from arcdata.storage.parquet import binary_column, repeat_strings


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
