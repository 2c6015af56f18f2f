"""Session fixtures: one tiny generated dataset and its reference build (2 local workers).

Every test that compares bytes compares against this one uninterrupted build, so the suite
pays for it once.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.reliability.helpers import write_arc_dir, write_pipeline


@dataclass(frozen=True)
class Tiny:
    root: Path
    pipeline: Path
    reference: Path  # the uninterrupted build of ``pipeline`` with 2 local workers
    units: int

    def config(self) -> dict:
        from arcdata.config import load_pipeline

        return load_pipeline(self.pipeline)


@pytest.fixture(scope="session")
def tiny(tmp_path_factory) -> Tiny:
    """80 random tasks (20 of them evaluation), 3 versions, ~40 units of 2 tasks each."""
    from arcdata.builder.driver import build

    root = tmp_path_factory.mktemp("tiny")
    write_arc_dir(root / "train", 60, seed=1, prefix="t")
    write_arc_dir(root / "eval", 20, seed=2, prefix="e")
    pipeline = write_pipeline(root / "tiny.yaml", root / "train", root / "eval")
    config = Tiny(root, pipeline, root / "reference", 0).config()
    manifest = build(config, root / "reference", workers=2, progress=False)
    assert manifest["units"] >= 30, "the kill tests need many small units"
    return Tiny(root, pipeline, root / "reference", manifest["units"])
