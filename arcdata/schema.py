"""The Arrow schema of a built dataset's rows: one row per example of one version of one task.

Grids are stored at their own size as raw bytes (cell values, row-major, after the version's
transform); loaders turn them into tokens with :func:`arcdata.tokens.encode_batch`. The
transform columns say how to undo the augmentation: ``raw = invert(stored)``.
Documented for people in ``schemas/README.md``; this module is the single source of truth.
"""

from __future__ import annotations

import pyarrow as pa

ROW_SCHEMA = pa.schema(
    [
        pa.field("task_id", pa.string(), nullable=False),
        pa.field("subset", pa.string(), nullable=False),
        pa.field("split", pa.string(), nullable=False),
        pa.field("version", pa.int32(), nullable=False),
        pa.field("dihedral", pa.int8(), nullable=False),
        pa.field("colour_map", pa.string(), nullable=False),
        pa.field("row_map", pa.string(), nullable=True),
        pa.field("col_map", pa.string(), nullable=True),
        pa.field("role", pa.string(), nullable=False),
        pa.field("pair_index", pa.int16(), nullable=False),
        pa.field("embedding_id", pa.int32(), nullable=False),
        pa.field("input_h", pa.uint8(), nullable=False),
        pa.field("input_w", pa.uint8(), nullable=False),
        pa.field("output_h", pa.uint8(), nullable=False),
        pa.field("output_w", pa.uint8(), nullable=False),
        pa.field("offset_r", pa.uint8(), nullable=False),
        pa.field("offset_c", pa.uint8(), nullable=False),
        pa.field("input", pa.binary(), nullable=False),
        pa.field("output", pa.binary(), nullable=False),
    ]
)

IDENTIFIER_SCHEMA = pa.schema(
    [
        pa.field("embedding_id", pa.int32(), nullable=False),
        pa.field("name", pa.string(), nullable=False),
        pa.field("task_id", pa.string(), nullable=False),
        pa.field("version", pa.int32(), nullable=True),
        pa.field("role", pa.string(), nullable=True),
        pa.field("pair_index", pa.int16(), nullable=True),
        pa.field("dihedral", pa.int8(), nullable=True),
        pa.field("colour_map", pa.string(), nullable=True),
    ]
)

STRING_COLUMNS = ("task_id", "subset", "split", "colour_map", "row_map", "col_map", "role")
"""Low-cardinality columns that compress well with dictionary encoding; grids must not use it."""
