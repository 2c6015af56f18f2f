"""Arrow columns from numpy buffers read back as what went in; a shard's record matches its file."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
from hypothesis import given, settings
from hypothesis import strategies as st

from arcdata.storage.hashing import file_digest
from arcdata.storage.parquet import binary_column, repeat_strings, write_parquet


@settings(deadline=None)  # the first Arrow call is slow on a loaded machine
@given(st.lists(st.binary(max_size=40), max_size=30))
def test_binary_column_round_trips(values):
    sizes = np.array([len(v) for v in values], dtype=np.int64)
    column = binary_column(np.frombuffer(b"".join(values), np.uint8), sizes)
    assert column.to_pylist() == values


@settings(deadline=None)
@given(st.lists(st.tuples(st.text(max_size=5), st.integers(0, 4)), min_size=1, max_size=10))
def test_repeat_strings_repeats_each_label(pairs):
    labels, counts = [p[0] for p in pairs], np.array([p[1] for p in pairs])
    expected = [label for label, n in pairs for _ in range(n)]
    assert repeat_strings(labels, counts).to_pylist() == expected


def test_write_parquet_records_what_is_on_disk(tmp_path):
    table = pa.table({"task_id": ["a", "b"], "version": pa.array([0, 1], pa.int32())})
    path = tmp_path / "train" / "part-00000.parquet"
    record = write_parquet(table, path, {"compression": "zstd"})
    digest, size = file_digest(path)
    assert record == {"rows": 2, "bytes": size, "sha256": digest}
    assert pq.read_table(path).equals(table)
    assert [p.name for p in path.parent.iterdir()] == ["part-00000.parquet"]
