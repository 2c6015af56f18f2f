"""Collecting a build's tasks: per-source counts reconcile, duplicate ids are rejects."""

from __future__ import annotations

import numpy as np
import pytest

from arcdata.builder import collect
from arcdata.config import resolve
from arcdata.errors import InputError
from arcdata.records import Pair, Task
from arcdata.sources import REGISTRY, SourceResult

# ------------------------------------------------------------------------- source counts


def task(task_id: str) -> Task:
    grid = np.ones((1, 1), np.uint8)
    return Task(task_id, (Pair(grid, grid),), (Pair(grid, grid),), origin=f"mem:{task_id}")


@pytest.fixture
def fake_reader():
    """A reader type that returns what the spec says: tasks, and read/rejected counts."""

    def read(spec, rejects):
        for i in range(spec["bad"]):
            rejects.add(InputError("bad", file="mem", line=i + 1))
        return SourceResult([task(t) for t in spec["ids"]], read=spec["read"], rejected=spec["bad"])

    REGISTRY["fake_test_reader"] = read
    yield
    del REGISTRY["fake_test_reader"]


def test_counts_reconcile_with_filtered_rows_and_duplicates(fake_reader):
    config = resolve(
        {
            "name": "c",
            "sources": {
                "a": {"type": "fake_test_reader", "ids": ["t1", "t2"], "read": 7, "bad": 2},
                "b": {"type": "fake_test_reader", "ids": ["t2", "t3"], "read": 2, "bad": 0},
            },
        }
    )
    res = collect.read_tasks(config, "skip")
    assert [t.id for t in res.tasks] == ["t1", "t2", "t3"]
    a, b = res.sources
    # a: 7 rows, 2 invalid, 3 dropped by its own filters (subsample / min_rating)
    assert (a.read, a.built, a.rejected, a.filtered) == (4, 2, 2, 3)
    # b: t2 repeats an id of source a
    assert (b.read, b.built, b.rejected, b.filtered) == (2, 1, 1, 0)
    assert sum(s.read for s in res.sources) == len(res.tasks) + sum(s.rejected for s in res.sources)
    assert len(res.rejects) == 3
    with pytest.raises(InputError, match="bad"):
        collect.read_tasks(config, "fail")
