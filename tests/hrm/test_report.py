"""``arcdata evaluate``: predictions undone per version, voted, scored, drawn; with a real run."""

from __future__ import annotations

import json

import numpy as np
import polars as pl
import pytest
import torch
from click.testing import CliRunner
from torch import nn

from arcdata.builder.driver import build
from arcdata.hrm.act import ACTOutput, Carry
from arcdata.hrm.model import HRMConfig
from arcdata.hrm.report import predict, write_report
from arcdata.stream import PuzzleStream
from tests.conftest import small_config


class Stub(nn.Module):
    """Answers every example with its label (oracle) or with nothing (blank), q_halt fixed."""

    def __init__(self, oracle: bool, steps: int = 2) -> None:
        super().__init__()
        self.config = HRMConfig(halt_max_steps=steps)
        self.oracle = oracle

    def initial_carry(self, batch):
        b = batch["inputs"].shape[0]
        z = torch.zeros(b, 1)
        return Carry(z, z, torch.zeros(b, dtype=torch.int32), torch.ones(b, dtype=torch.bool))

    def forward(self, carry, batch):
        steps = torch.where(carry.halted, 0, carry.steps) + 1
        carry = Carry(carry.z_H, carry.z_L, steps, steps >= self.config.halt_max_steps)
        wide = batch["labels"].long()  # a model widens the stream's narrow tokens on its device
        labels = wide.clamp(min=0) if self.oracle else torch.zeros_like(wide)
        logits = nn.functional.one_hot(labels, 12).float()
        q = torch.full((labels.shape[0],), 5.0 if self.oracle else -5.0)
        return carry, ACTOutput(logits, q, -q, None)


@pytest.fixture(scope="module")
def dataset(arc_dirs, tmp_path_factory):
    out = tmp_path_factory.mktemp("ev") / "ds"
    build(small_config(arc_dirs, versions=3), out, workers=1, progress=False)
    return out


@pytest.mark.parametrize("oracle", [True, False])
def test_oracle_passes_and_blank_fails(dataset, tmp_path, oracle):
    stream = PuzzleStream(str(dataset), "test", batch_size=4, mode="eval")
    preds = predict(Stub(oracle), stream, torch.device("cpu"), trace=2)
    assert len(preds.exact) == stream.num_examples and preds.trace.shape[:2] == (2, 2)
    metrics = write_report(dataset, "test", preds, tmp_path / "r")
    expected = 1.0 if oracle else 0.0
    assert metrics["pass@1"] == expected and metrics["pass@2"] == expected
    assert metrics["exact_accuracy"] == expected and metrics["tasks"] == 2
    assert metrics["q_halt_accuracy"] == 1.0
    assert "<table>" in (tmp_path / "r" / "report.html").read_text()
    assert json.loads((tmp_path / "r" / "metrics.json").read_text())["calibration"]["bins"]
    frame = pl.read_parquet(tmp_path / "r" / "predictions.parquet")
    assert len(frame) == stream.num_examples and frame["q_halt"].list.len().max() == 2
    for row in frame.iter_rows(named=True):  # predicted grids are in the raw task's frame
        assert (row["prediction"] == row["target"]) == oracle
        assert row["task_id"] in metrics_task_ids(tmp_path / "r")
    assert metrics["submission_score"] == expected
    assert metrics["halting"]["q"]["segments_mean"] == (1.0 if oracle else 2.0)


def ds_task_id(dataset):
    from arcdata.hrm.report import split_rows

    return split_rows(dataset, "test")["task_id"][0]


def open_every_output(folder, metrics):
    """Every file of a report opens: parquet, JSON, PNG (decoded by PIL), HTML."""
    from PIL import Image

    names = {p.name for p in folder.iterdir()}
    pictures = {"calibration", "pixel_accuracy", "segments", "voters", "calibration_voted"}
    pictures |= {"reasoning_steps", "latents"}
    assert {f"{n}.png" for n in pictures} <= names, names
    for p in folder.iterdir():
        if p.suffix == ".parquet":
            assert len(pl.read_parquet(p)) == metrics["examples"]
        elif p.suffix == ".json":
            json.loads(p.read_text())
        elif p.suffix == ".png":
            with Image.open(p) as im:
                im.load()
                assert im.size[0] > 50 and im.size[1] > 50, p.name
        elif p.suffix == ".html":
            assert p.read_text().startswith("<!DOCTYPE html>")
        else:
            raise AssertionError(f"unexpected output {p.name}")


def metrics_task_ids(folder):
    return set(json.loads((folder / "submission.json").read_text()))


def test_train_then_evaluate_from_the_command_line(dataset, tmp_path):
    from arcdata.cli import main

    run = tmp_path / "run"
    tiny = [
        "--set",
        "max_steps=2",
        "--set",
        "global_batch_size=8",
        "--set",
        "eval_interval=-1",
        "--set",
        "model.hidden_size=32",
        "--set",
        "model.num_heads=2",
        "--set",
        "model.h_layers=1",
        "--set",
        "model.l_layers=1",
        "--set",
        "model.puzzle_emb_ndim=32",
        "--set",
        "model.halt_max_steps=2",
        "--set",
        "progress=false",
    ]
    res = CliRunner().invoke(main, ["train", str(dataset), "--out", str(run), *tiny])
    assert res.exit_code == 0, res.output
    reports = {}
    for halt in ("max", "q"):
        folder = tmp_path / f"rep-{halt}"
        args = ["evaluate", str(run), str(dataset), "--batch-size", "8", "--out", str(folder)]
        task = ds_task_id(dataset)
        trace = ["--trace", f"{task}:1"] if halt == "max" else []  # else 2 right + 2 wrong
        res = CliRunner().invoke(main, [*args, "--halt", halt, "--ids", "blank", *trace])
        assert res.exit_code == 0, res.output
        reports[halt] = folder
        metrics = json.loads((folder / "metrics.json").read_text())
        assert {"pass@1", "pass@2", "exact_accuracy", "calibration"} <= set(metrics)
        assert np.isfinite(metrics["token_accuracy"]) and metrics["halt"] == halt
        assert metrics["ids_blank"]["examples"] == metrics["examples"]
        open_every_output(folder, metrics)
        traces = json.loads((folder / "trace.json").read_text())
        if halt == "max":
            assert [(t["task_id"], t["version"]) for t in traces] == [(task, 1)]
        else:
            assert 1 <= len(traces) <= 4
        for t in traces:
            assert len(t["answers"]) == len(t["q_halt"]) == 2 and len(t["pca"]) == 2
            assert t["levels"] == ["z_H", "z_L"] and all(len(c) == 2 for c in t["state_change"])
            assert all(x > 0 for c in t["state_change"] for x in c)  # the states do move
        for name in ("predictions", "predictions_blank_ids"):
            assert len(pl.read_parquet(folder / f"{name}.parquet")) == metrics["examples"]
        sub = json.loads((folder / "submission.json").read_text())
        assert all({"attempt_1", "attempt_2"} == set(e) for v in sub.values() for e in v)
    by_max = json.loads((reports["max"] / "metrics.json").read_text())["halting"]
    by_q = json.loads((reports["q"] / "metrics.json").read_text())["halting"]
    # The q rule run for real (slots refilled) answers what the max run's record says it would.
    assert by_q["q"]["segments_histogram"] == by_max["q"]["segments_histogram"]
    assert by_q["q"]["exact_accuracy"] == by_max["q"]["exact_accuracy"]
    assert by_max["max"]["compute_saved"] == 0.0
    # `arcdata report` rebuilds the same numbers from predictions.parquet alone.
    before = json.loads((reports["max"] / "metrics.json").read_text())
    (reports["max"] / "submission.json").unlink()
    res = CliRunner().invoke(main, ["report", str(reports["max"])])
    assert res.exit_code == 0, res.output
    assert json.loads((reports["max"] / "metrics.json").read_text()) == before
    assert (reports["max"] / "submission.json").is_file()
    assert (reports["max"] / "calibration_voted.png").read_bytes()[:4] == b"\x89PNG"
    res = CliRunner().invoke(main, ["report", str(tmp_path)])
    assert res.exit_code == 2 and "not a report" in res.output
    # A dataset whose identifier map differs from the run's is refused, naming the difference.
    ids = pl.read_parquet(run / "identifiers.parquet")
    renamed = ids.with_columns(
        pl.when(pl.col("embedding_id") == 3).then(pl.lit("other")).otherwise(pl.col("name"))
        .alias("name")
    )  # fmt: skip
    renamed.write_parquet(run / "identifiers.parquet")
    res = CliRunner().invoke(main, ["evaluate", str(run), str(dataset), "--out", str(tmp_path)])
    assert res.exit_code == 2 and "identifier 3" in res.output and "'other'" in res.output


def test_sudoku_share_of_valid_completed_grids_keeping_the_givens():
    from arcdata.hrm.report import family_scores

    solved = np.array([[1, 2, 3, 4], [3, 4, 1, 2], [2, 1, 4, 3], [4, 3, 2, 1]], np.uint8)
    puzzle = solved * (np.arange(16).reshape(4, 4) % 3 == 0)
    broken = solved.copy()
    broken[0, :2] = broken[0, 1::-1]  # still a permutation per row, but columns repeat
    other = solved[:, [1, 0, 3, 2]]  # valid, yet disagrees with the givens
    preds = [solved, broken, other, None]

    def cell(g):
        return None if g is None else g.tobytes()

    frame = pl.DataFrame(
        {
            "input": [puzzle.tobytes()] * 4,
            "input_h": [4] * 4,
            "input_w": [4] * 4,
            "prediction": pl.Series([cell(g) for g in preds], dtype=pl.Binary),
            "prediction_h": [0 if g is None else 4 for g in preds],
            "prediction_w": [0 if g is None else 4 for g in preds],
        }
    )
    assert family_scores("sudoku4", frame) == {"valid_completed_grids": 0.25}
