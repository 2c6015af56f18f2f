"""What an import's manifest counts: tasks and versions over every set and split, id use."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import numpy as np

from arcdata.formats.hrm.import_manifest import ImportStats
from arcdata.formats.hrm.importer import Puzzles
from arcdata.formats.hrm.layout import IdentifierInfo


def puzzles(tasks, group, version, shared=False):
    return Puzzles(tasks, np.array(group), np.array(version), shared)


def test_versions_are_counted_per_task_across_splits(tmp_path):
    (tmp_path / "f").write_bytes(b"abc")
    with ThreadPoolExecutor(1) as pool:
        stats = ImportStats(tmp_path, pool)
        stats.hash_files([tmp_path / "f"])
        stats.add(np.array([1, 2, 3]), puzzles(["a", "b"], [0, 0, 1], [0, 1, 0]))
        stats.add(np.array([4, 5]), puzzles(["b", "c"], [0, 1], [3, 0]))  # b again: test split
        stats.add(np.array([4]), puzzles(["b"], [0], [3]))  # a version seen before
        files = stats.files()
    assert files == [
        {
            "path": "f",
            "sha256": "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
        }
    ]
    assert stats.versions_per_task().tolist() == [2, 2, 1]  # a: 0, 1; b: 0, 3; c: 0


def test_granularity_from_ids_and_names(tmp_path):
    with ThreadPoolExecutor(1) as pool:
        stats = ImportStats(tmp_path, pool)
        names = IdentifierInfo.parse(["<blank>", "a", "a_t1_0123456789"])
        assert stats.granularity(names) == "none"  # no row uses an id
        stats.add(np.array([1, 2]), puzzles(["a"], [0, 0], [0, 1]))
        assert stats.granularity(names) == "version"
        stats.add(np.array([1, 1]), puzzles(["a"], [0, 0], [0, 1], shared=True))
        assert stats.granularity(names) == "task"
        pairs = IdentifierInfo.parse(["<blank>", "a_train0", "a_test0"])
        assert stats.granularity(pairs) == "pair"
