"""The same pipeline and seed give byte-identical datasets whatever the worker count."""

from __future__ import annotations

import json

import pytest

from arcdata.builder.driver import build
from tests.reliability.helpers import assert_same_dataset, tree_digest


@pytest.mark.parametrize("workers", [1, 4])
def test_worker_count_does_not_change_a_byte(tiny, tmp_path, workers):
    out = tmp_path / "data"
    build(tiny.config(), out, workers=workers, progress=False)
    assert json.loads((out / "build.json").read_text())["workers"] == workers
    assert_same_dataset(tiny.reference, out)


def test_another_seed_does_change_the_bytes(tiny, tmp_path):
    """The comparison above must be able to fail: a different seed gives different shards."""
    out = tmp_path / "data"
    build({**tiny.config(), "seed": 8}, out, workers=2, progress=False)
    ref, other = tree_digest(tiny.reference), tree_digest(out)
    shards = [k for k in ref if k.endswith(".parquet") and "/" in k]
    assert any(ref[k] != other.get(k) for k in shards)
