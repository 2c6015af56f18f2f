"""The trainer on a real built dataset through arcdata.stream.PuzzleStream (tiny Sudoku build)."""

import json
from pathlib import Path

import pytest
import torch
import yaml

from arcdata.builder import driver
from arcdata.config import resolve
from arcdata.errors import DatasetError
from arcdata.hrm.config import from_dict
from arcdata.hrm.train import train

PIPELINE = Path(__file__).resolve().parents[2] / "pipelines" / "sudoku-generated.yaml"
MODEL = dict(
    hidden_size=32,
    num_heads=2,
    expansion=2,
    h_layers=1,
    l_layers=1,
    puzzle_emb_ndim=32,
    halt_max_steps=2,
)


@pytest.fixture(scope="module")
def sudoku_dataset(tmp_path_factory):
    if not PIPELINE.is_file():
        pytest.skip("no sudoku-generated pipeline")
    raw = yaml.safe_load(PIPELINE.read_text())
    raw["sources"]["generated"].update(count=16, test_count=8, min_rating=0)
    raw["augment"]["versions"] = 2
    out = tmp_path_factory.mktemp("data") / "sudoku"
    driver.build(resolve(raw), out, workers=1, progress=False)
    return out


def _cfg(**kw):
    base = dict(model=MODEL, global_batch_size=8, max_steps=3, lr=1e-3, lr_warmup_steps=1, log_interval=1,
                eval_interval=3, checkpoint_interval=0, progress=False)  # fmt: skip
    base.update(kw)
    return from_dict(base)


def test_trains_and_evaluates_from_a_built_dataset(sudoku_dataset, tmp_path):
    result = train(sudoku_dataset, _cfg(), tmp_path / "run")
    assert result["model"].config.seq_len == 81 and result["model"].config.vocab_size == 11
    records = [
        json.loads(line) for line in (tmp_path / "run" / "metrics.jsonl").read_text().splitlines()
    ]
    test = [r for r in records if r["split"] == "test"]
    assert len(test) == 1 and test[0]["count"] == 8 and test[0]["steps"] == 2


def test_resume_through_the_stream_state(sudoku_dataset, tmp_path):
    # 16 training examples per epoch = 2 batches: the runs cross epochs
    train(sudoku_dataset, _cfg(max_steps=5, eval_interval=-1), tmp_path / "full")
    train(sudoku_dataset, _cfg(max_steps=3, eval_interval=-1), tmp_path / "split")
    train(sudoku_dataset, _cfg(max_steps=5, eval_interval=-1), tmp_path / "split", resume=True)
    paths = [
        p / "checkpoints" / "step_00000005" / "state.pt"
        for p in (tmp_path / "full", tmp_path / "split")
    ]
    a, b = (torch.load(p, weights_only=True)["model"] for p in paths)
    assert all(torch.equal(a[k], b[k]) for k in a)


def test_missing_split_is_a_dataset_error(sudoku_dataset, tmp_path):
    with pytest.raises(DatasetError):
        train(sudoku_dataset, _cfg(eval_split="validation"), tmp_path / "run")
