"""What train says before it starts: parameters, device, dtype, steps, time, a slow warning;
``--dry-run`` and the config keys in ``--help``."""

from __future__ import annotations

import dataclasses

import pytest
import torch
from click.testing import CliRunner

from arcdata.hrm import cli as hrm_cli
from arcdata.hrm.act import HRM
from arcdata.hrm.config import TrainConfig, from_dict
from arcdata.hrm.estimate import duration, estimate, step_flops
from arcdata.hrm.model import HRMConfig
from arcdata.hrm.train import train
from tests.hrm.hrm_synthetic import SyntheticDataset
from tests.hrm.test_train import TINY_MODEL, tiny_train_config

CPU, CUDA = torch.device("cpu"), torch.device("cuda")


def test_the_reference_config_on_a_cpu_is_flagged_as_very_slow():
    cfg = TrainConfig()
    found = estimate(cfg, HRM(cfg.model), CPU)
    assert found.parameters == pytest.approx(27.3e6, rel=0.01)
    assert found.slow and found.step_s > 100  # the README's example: > 100 s per step
    text = "\n".join(found.lines())
    assert "parameters: 27.2" in text or "parameters: 27.3" in text
    assert "device: cpu (float32)" in text and "steps: 100,000 of global batch 768" in text
    assert "warning: this config will be very slow on cpu" in text
    assert "recipes/sudoku4-tiny.yaml" in text


def test_a_tiny_config_is_not_flagged_and_cuda_uses_bf16():
    cfg = tiny_train_config()
    found = estimate(cfg, HRM(cfg.model), CPU)
    assert not found.slow and "warning" not in "\n".join(found.lines())
    assert estimate(cfg, HRM(cfg.model), CUDA).dtype == "bfloat16 autocast"


def test_flops_grow_with_batch_cycles_and_processes_share_them():
    base = HRMConfig()
    assert step_flops(base, 64) == pytest.approx(2 * step_flops(base, 32))
    by_cycles = [step_flops(dataclasses.replace(base, l_cycles=c), 32) for c in (2, 3, 4)]
    assert by_cycles[2] - by_cycles[1] == pytest.approx(by_cycles[1] - by_cycles[0])
    assert by_cycles[1] > by_cycles[0]  # every cycle's forward pass counts
    cfg = TrainConfig()
    model = HRM(cfg.model)
    assert estimate(cfg, model, CPU, 8).step_s == pytest.approx(
        estimate(cfg, model, CPU).step_s / 8
    )


def test_duration_text():
    assert duration(0.003) == "3 ms" and duration(12) == "12 s" and duration(7200) == "2 h"
    assert duration(3 * 86400) == "3 days" and duration(3 * 365 * 86400) == "3 years"


def test_train_prints_the_summary_and_a_measured_time(tmp_path, capsys):
    train(SyntheticDataset(), tiny_train_config(max_steps=8, eval_interval=-1), tmp_path / "r")
    err = capsys.readouterr().err
    assert "parameters: " in err and "device: cpu (float32)" in err
    assert "steps: 8 of global batch 16" in err
    assert "measured: " in err and "s/step over 5 steps; 2 steps left" in err


def test_help_lists_every_config_key_with_its_default():
    text = CliRunner().invoke(hrm_cli.train_cmd, ["--help"]).output
    for f in dataclasses.fields(TrainConfig):
        if f.name != "model":
            assert f"\n  {f.name}: " in text, f.name
    for f in dataclasses.fields(HRMConfig):
        assert f"\n  model.{f.name}: " in text, f.name
    assert "global_batch_size: 768" in text and "model.hidden_size: 512" in text
    assert "--dry-run" in text


def test_dry_run_prints_the_plan_and_writes_nothing(tiny_sudoku4, tmp_path):
    before = sorted((p, p.stat().st_mtime_ns) for p in tiny_sudoku4.rglob("*"))
    run = tmp_path / "run"
    result = CliRunner().invoke(
        hrm_cli.train_cmd,
        [str(tiny_sudoku4), "--dry-run", "--out", str(run), "--set", "device=cpu"],
    )
    assert result.exit_code == 0, result.output
    out = result.output
    assert "global_batch_size: 768" in out and "seq_len: 16" in out  # sizes from the dataset
    assert "parameters: " in out and "device: cpu (float32)" in out and "steps: 100,000" in out
    assert "train 24 rows" in out and "nothing was written" in out
    assert not run.exists()
    assert sorted((p, p.stat().st_mtime_ns) for p in tiny_sudoku4.rglob("*")) == before
    assert from_dict({"model": TINY_MODEL}).model.hidden_size == 32  # the fixture's config is ours
