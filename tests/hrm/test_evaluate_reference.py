"""``arcdata evaluate`` of a reference checkpoint file with its ``all_config.yaml``: the same
report as the arcdata run the weights came from, and the same refusals."""

from __future__ import annotations

import dataclasses
import json

import polars as pl
import pytest
import torch
import yaml
from click.testing import CliRunner

from arcdata.builder.driver import build
from arcdata.cli import main
from arcdata.hrm.source import resolve_source
from tests.conftest import small_config

TINY = {
    "max_steps": 2, "global_batch_size": 8, "eval_interval": -1, "model.hidden_size": 32,
    "model.num_heads": 2, "model.h_layers": 1, "model.l_layers": 1, "model.puzzle_emb_ndim": 32,
    "model.halt_max_steps": 2, "progress": "false",
}  # fmt: skip


def reference_arch(model) -> dict:
    """The ``arch:`` mapping a reference run would have written for ``model`` (reference field
    names, written out here rather than taken from the translator under test)."""
    return {
        "name": "hrm.hrm_act_v1@HierarchicalReasoningModel_ACTV1",
        "loss": {"name": "losses@ACTLossHead", "loss_type": "stablemax_cross_entropy"},
        "H_cycles": model.h_cycles, "L_cycles": model.l_cycles,
        "H_layers": model.h_layers, "L_layers": model.l_layers,
        "hidden_size": model.hidden_size, "num_heads": model.num_heads,
        "expansion": model.expansion, "puzzle_emb_ndim": model.puzzle_emb_ndim,
        "pos_encodings": model.pos_encodings, "halt_max_steps": model.halt_max_steps,
        "halt_exploration_prob": model.halt_exploration_prob,
    }  # fmt: skip


@pytest.fixture(scope="module")
def run_and_reference(arc_dirs, tmp_path_factory):
    """A tiny arcdata run, and its weights saved the way the reference code saves them: one
    state dict of a compiled wrapper (``_orig_mod.model.`` prefixes), all_config.yaml one folder
    up, the dataset's identifier names as identifiers.json."""
    root = tmp_path_factory.mktemp("evref")
    dataset, run = root / "ds", root / "run"
    build(small_config(arc_dirs, versions=3), dataset, workers=1, progress=False)
    sets = [a for k, v in TINY.items() for a in ("--set", f"{k}={v}")]
    res = CliRunner().invoke(main, ["train", str(dataset), "--out", str(run), *sets])
    assert res.exit_code == 0, res.output
    ours = resolve_source(run)
    ref = root / "reference"
    (ref / "checkpoints").mkdir(parents=True)
    ckpt = ref / "checkpoints" / "step_2"
    torch.save({f"_orig_mod.model.{k}": v for k, v in ours.state.items()}, ckpt)
    config = {"arch": reference_arch(ours.model), "global_batch_size": 8, "lr": 1e-4}
    (ref / "all_config.yaml").write_text(yaml.safe_dump(config))
    ids = pl.read_parquet(dataset / "identifiers.parquet").sort("embedding_id")
    (ref / "identifiers.json").write_text(json.dumps(ids["name"].to_list()))
    return dataset, run, ckpt


def test_reference_checkpoint_scores_like_the_run_it_came_from(run_and_reference, tmp_path):
    dataset, run, ckpt = run_and_reference
    theirs, ours = resolve_source(ckpt, seq_len=900), resolve_source(run)
    assert theirs.kind == "reference" and ours.kind == "run"
    # The same network: the reference's halting rule is named, ours is "auto" for HRM.
    assert theirs.model == dataclasses.replace(ours.model, halt_rule=theirs.model.halt_rule)
    assert theirs.model.halts_on_q_halt_alone == ours.model.halts_on_q_halt_alone
    common = ["--batch-size", "4", "--halt", "q", "--pictures", "1"]
    res = CliRunner().invoke(main, ["evaluate", str(run), str(dataset), *common])
    assert res.exit_code == 0, res.output
    res = CliRunner().invoke(main, ["evaluate", str(ckpt), str(dataset), *common])
    assert res.exit_code == 0, res.output
    a, b = run / "eval-test", ckpt.parent / "eval-test"  # a file's report: beside it
    for name in ("predictions.parquet", "metrics.json", "submission.json", "trace.json",
                 "report.html", "calibration.png", "reasoning_steps.png"):  # fmt: skip
        assert (b / name).is_file(), name
    metrics = json.loads((b / "metrics.json").read_text())
    assert metrics == json.loads((a / "metrics.json").read_text())
    assert metrics["examples"] == len(pl.read_parquet(b / "predictions.parquet"))
    assert pl.read_parquet(b / "predictions.parquet").equals(
        pl.read_parquet(a / "predictions.parquet")
    )
    assert (b / "submission.json").read_text() == (a / "submission.json").read_text()


def test_reference_checkpoint_refuses_another_identifier_map(run_and_reference, tmp_path):
    dataset, _, ckpt = run_and_reference
    names_file = ckpt.parent.parent / "identifiers.json"
    names = json.loads(names_file.read_text())
    edited = tmp_path / "ref"
    (edited / "checkpoints").mkdir(parents=True)
    copy = edited / "checkpoints" / ckpt.name
    copy.write_bytes(ckpt.read_bytes())
    (edited / "all_config.yaml").write_bytes((ckpt.parent.parent / "all_config.yaml").read_bytes())
    names[3] = "other"
    (edited / "identifiers.json").write_text(json.dumps(names))
    args = ["evaluate", str(copy), str(dataset), "--out", str(tmp_path / "out")]
    res = CliRunner().invoke(main, args)
    assert res.exit_code == 2, res.output
    line = res.output.strip()
    assert len(line.splitlines()) == 1 and line.startswith("error:")
    assert "identifier 3" in line and "'other'" in line and "identifiers.json" in line
    assert not (tmp_path / "out").exists()
    # Without a map beside it the identifier count must still fit the puzzle table.
    (edited / "identifiers.json").unlink()
    res = CliRunner().invoke(main, args)
    assert res.exit_code == 0, res.output


def test_a_dataset_of_another_layout_is_refused_in_one_line(run_and_reference, tiny_sudoku4):
    _, run, ckpt = run_and_reference
    # A reference checkpoint with rotary positions takes its length from the dataset, so the
    # vocabulary (read from the token embedding's shape) is what differs there.
    for weights, differs in ((run, "seq_len 16 here but 900"), (ckpt, "vocab_size 6 here but 12")):
        res = CliRunner().invoke(main, ["evaluate", str(weights), str(tiny_sudoku4)])
        assert res.exit_code == 2, res.output
        assert differs in res.output and str(weights) in res.output
        assert len(res.output.strip().splitlines()) == 1
