"""HRM tests run on one CPU thread: the CI box has two cores, and tiny models only lose from
thread hand-offs, especially when other jobs share the machine."""

from __future__ import annotations

import pytest
import torch


@pytest.fixture(autouse=True, scope="session")
def _one_thread():
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="session")
def tiny_sudoku4(tmp_path_factory):
    """24 generated 4x4 Sudoku (train) and 4 held out (test), built without augmentation."""
    from arcdata.builder.driver import build
    from arcdata.config import resolve

    config = resolve({
        "name": "tiny-sudoku4", "codec": "sudoku4", "ids": "none",
        "sources": {"gen": {"type": "sudoku_generated", "size": 4, "count": 24, "test_count": 4}},
        "augment": {"versions": 0, "translate": False},
    })  # fmt: skip
    out = tmp_path_factory.mktemp("sudoku4") / "dataset"
    build(config, out, workers=1, progress=False)
    return out
