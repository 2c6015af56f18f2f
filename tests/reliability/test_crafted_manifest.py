"""Every reader contains every manifest path inside the dataset folder: a crafted manifest makes
no reader (open, stream, export, the dataset helpers the evaluator uses) read outside the
dataset, nor export write outside its --out."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from arcdata.dataset import shard_paths, task_examples
from arcdata.errors import DatasetError
from arcdata.formats.hrm import export_hrm
from arcdata.hrm.report import split_rows
from arcdata.stream import PuzzleStream
from arcdata.stream.store import Dataset, open_split


def crafted(tiny, tmp_path: Path, edit) -> Path:
    """A copy of the reference build whose manifest ``edit`` changed, beside a target outside."""
    root = tmp_path / "ds"
    shutil.copytree(tiny.reference, root)
    (tmp_path / "outside").mkdir()
    shutil.copy(root / "train" / "part-00000.parquet", tmp_path / "outside" / "part-00000.parquet")
    manifest = json.loads((root / "manifest.json").read_text())
    edit(manifest)
    (root / "manifest.json").write_text(json.dumps(manifest))
    return root


def outside_shard(m: dict) -> None:
    m["splits"]["train"]["shards"][0]["path"] = "../outside/part-00000.parquet"


def absolute_shard(m: dict) -> None:
    m["splits"]["train"]["shards"][0]["path"] = "/etc/hostname"


def outside_identifiers(m: dict) -> None:
    m["embedding_ids"]["file"] = "../outside/part-00000.parquet"


def escaping_split(m: dict) -> None:
    m["splits"]["../../escaped"] = m["splits"].pop("train")


LEAKS = "leads outside|plain relative path|plain file name"


@pytest.mark.parametrize("edit", [outside_shard, absolute_shard])
def test_no_reader_opens_a_shard_outside_the_dataset(tiny, tmp_path, edit):
    root = crafted(tiny, tmp_path, edit)
    cache = tmp_path / "cache"
    readers = {
        "open_split": lambda: open_split(Dataset.open(root), "train", cache_dir=cache),
        "stream": lambda: PuzzleStream(root, "train", batch_size=4, cache_dir=cache),
        "export": lambda: export_hrm(root, tmp_path / "npy"),
        "shard_paths": lambda: shard_paths(root, json.loads((root / "manifest.json").read_text())),
        "task_examples": lambda: task_examples(root, "t000"),
        "evaluate": lambda: split_rows(root, "train"),
    }
    for name, read in readers.items():
        with pytest.raises(DatasetError, match=LEAKS):
            read()
            pytest.fail(f"{name} followed a crafted shard path")
    assert not (tmp_path / "npy").exists()


def test_export_reads_no_identifiers_outside_the_dataset(tiny, tmp_path):
    root = crafted(tiny, tmp_path, outside_identifiers)
    with pytest.raises(DatasetError, match=LEAKS):
        export_hrm(root, tmp_path / "npy")


def test_export_writes_nothing_outside_its_out(tiny, tmp_path):
    root = crafted(tiny, tmp_path, escaping_split)
    before = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*"))
    with pytest.raises(DatasetError, match=LEAKS):
        export_hrm(root, tmp_path / "a" / "b" / "npy")
    after = sorted(
        p.relative_to(tmp_path)
        for p in tmp_path.rglob("*")
        if not p.is_relative_to(tmp_path / "cache")
    )
    assert [p for p in after if p not in before] in ([], [Path("a"), Path("a/b")])
    stage = tmp_path / "a" / "b" / ".npy.partial"
    assert not (stage / "../../escaped").resolve().exists()
    assert not any("escaped" in p.name for p in after)
