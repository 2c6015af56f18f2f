"""The dataset card: Hugging Face ``load_dataset(DIR)`` keeps every split folder apart."""

from __future__ import annotations

import json

import pytest

from arcdata.storage.card import CARD, card_text
from arcdata.verify import verify_dataset


def _manifest(root):
    return json.loads((root / "manifest.json").read_text())


def test_the_card_maps_every_split_folder_to_its_own_split(strict_arc):
    manifest = _manifest(strict_arc)
    assert sorted(manifest["splits"]) == ["eval_demos", "test", "train"]
    text = (strict_arc / CARD).read_text()
    assert text == card_text(manifest)
    front = text.split("---\n")[1]
    for split in manifest["splits"]:
        assert f"  - split: {split}\n    path: {split}/*.parquet\n" in front


def test_verify_knows_the_card_and_flags_an_edited_one(strict_arc, tmp_path):
    import shutil

    report = verify_dataset(strict_arc, strict=True)
    assert report.ok, report.problems
    assert not [w for w in report.warnings if w.file == CARD]
    copy = tmp_path / "copy"
    shutil.copytree(strict_arc, copy)
    (copy / CARD).write_text("---\nconfigs: []\n---\n")
    report = verify_dataset(copy)
    assert [w.file for w in report.warnings] == [CARD]


def test_load_dataset_keeps_train_test_and_eval_demos_apart(strict_arc, offline_hf):
    datasets = pytest.importorskip("datasets")  # the test extra installs it

    loaded = datasets.load_dataset(str(strict_arc))
    manifest = _manifest(strict_arc)
    assert sorted(loaded) == sorted(manifest["splits"])
    for split, s in manifest["splits"].items():
        assert loaded[split].num_rows == s["rows"], split
        assert set(loaded[split]["split"]) == {split}
