"""The README's Python examples run, against a small built dataset in place of data/arc-agi-1."""

from __future__ import annotations

import re

import pytest

from tests.conftest import REPO

BLOCK = re.compile(r"^```python\n(.*?)^```", re.S | re.M)
README_DATASET = "data/arc-agi-1"


def python_blocks() -> list[str]:
    return BLOCK.findall((REPO / "README.md").read_text())


def test_the_readme_has_examples_on_the_dataset_path():
    blocks = python_blocks()
    assert len(blocks) >= 3
    assert any("undo_augmentation" in b and "row_tokens" in b for b in blocks)
    assert all(README_DATASET in b for b in blocks)


@pytest.mark.parametrize("index", range(len(python_blocks())))
def test_readme_example_runs(index, strict_arc, offline_hf, tmp_path, monkeypatch):
    code = python_blocks()[index]
    if "from datasets import" in code:
        pytest.importorskip("datasets")
    monkeypatch.setenv("ARCDATA_STREAM_CACHE", str(tmp_path / "stream-cache"))
    monkeypatch.chdir(tmp_path)
    code = code.replace(README_DATASET, str(strict_arc))
    exec(compile(code, f"README.md python block {index + 1}", "exec"), {"__name__": "readme"})
