"""``arcdata adapt``: fresh rows of the evaluation tasks fitted on their demonstrations only."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pyarrow.parquet as pq
import pytest
import torch
from click.testing import CliRunner

from arcdata.builder.driver import build
from arcdata.errors import ArcdataError
from arcdata.hrm.act import HRM
from arcdata.hrm.adapt import adapt, base_config, demonstrations
from arcdata.hrm.config import from_dict
from arcdata.hrm.source import PUZZLE_TABLE, Source
from tests.conftest import EVAL_TASKS, small_config
from tests.hrm.hrm_synthetic import tiny_config
from tests.hrm.test_source import reference_arch, write_reference


def _source() -> Source:
    torch.manual_seed(5)
    model = HRM(tiny_config(vocab_size=12, seq_len=900, num_puzzle_identifiers=3))
    with torch.no_grad():
        model.inner.puzzle_emb.weights.normal_()
    state = {k: v.clone() for k, v in model.state_dict().items()}
    return Source(Path("src"), "run", model.config, state, None, None)


def _config(source: Source, steps: int = 12, **extra):
    base = base_config(source, steps, 1e-2)
    data = {"global_batch_size": 8, "progress": False, "tensorboard": False, **extra}
    return from_dict(data, base)


def _adapt(source, dataset, out, steps=12, score=False):
    return adapt(source, dataset, out, _config(source, steps), score=score)


def test_demonstrations_of_both_split_layouts(strict_arc, arc_dirs, tmp_path):
    strict = demonstrations(strict_arc)
    assert strict.split == "eval_demos" and strict.tasks == sorted(EVAL_TASKS)
    hrm_ds = tmp_path / "hrm"
    build(small_config(arc_dirs, versions=3), hrm_ds, workers=1, progress=False)
    hrm = demonstrations(hrm_ds)
    assert hrm.split == "train" and hrm.tasks == strict.tasks
    assert len(hrm.inputs) == len(strict.inputs)  # every demonstration pair of every version
    assert sorted(set(hrm.puzzle_identifiers.tolist())) == hrm.ids  # only the eval tasks' rows
    assert len(strict.ids) == 2 * 4  # two tasks, original + 3 versions each (ids: version)


def test_adaptation_fits_the_rows_improves_the_demos_and_freezes_the_network(strict_arc, tmp_path):
    source = _source()
    record = _adapt(source, strict_arc, tmp_path / "run", steps=15, score=True)
    after = record["model"].state_dict()
    for key, value in source.state.items():
        if key != PUZZLE_TABLE:
            assert torch.equal(after[key], value), key
    before, now = record["demonstrations_before"], record["demonstrations_after"]
    assert now["lm_loss"] < before["lm_loss"]
    table = after[PUZZLE_TABLE]
    ids = demonstrations(strict_arc).ids
    others = [i for i in range(1, table.shape[0]) if i not in ids]
    mean = source.state[PUZZLE_TABLE][1:].mean(dim=0)  # no names: every row starts at the mean
    assert all(not torch.allclose(table[i], mean) for i in ids)  # every fitted row moved
    assert all(torch.allclose(table[i], mean) for i in others)  # the rest was never touched
    saved = json.loads((tmp_path / "run" / "adapt.json").read_text())
    assert saved["rows_fitted"] == len(ids) and saved["demonstrations_split"] == "eval_demos"
    assert (tmp_path / "run" / "identifiers.parquet").is_file()


def _poison_test_split(dataset: Path, out: Path) -> Path:
    """A copy whose test shards have no inputs or outputs left: reading them raises."""
    shutil.copytree(dataset, out)
    manifest = json.loads((out / "manifest.json").read_text())
    for shard in manifest["splits"]["test"]["shards"]:
        path = out / shard["path"]
        table = pq.read_table(path)
        pq.write_table(table.drop_columns(["input", "output"]), path)
    return out


def test_test_outputs_are_never_read(strict_arc, tmp_path):
    source = _source()
    clean = _adapt(source, strict_arc, tmp_path / "a", steps=4)["model"].state_dict()
    poisoned = _poison_test_split(strict_arc, tmp_path / "poisoned")
    again = _adapt(source, poisoned, tmp_path / "b", steps=4)["model"].state_dict()
    assert torch.equal(clean[PUZZLE_TABLE], again[PUZZLE_TABLE])  # bitwise


def _with_granularity(dataset: Path, out: Path, granularity: str) -> Path:
    shutil.copytree(dataset, out)
    manifest = json.loads((out / "manifest.json").read_text())
    manifest["embedding_ids"]["granularity"] = granularity
    (out / "manifest.json").write_text(json.dumps(manifest))
    return out


@pytest.mark.parametrize("granularity", ["pair", "none"])
def test_pair_and_none_ids_are_refused(strict_arc, tmp_path, granularity):
    ds = _with_granularity(strict_arc, tmp_path / granularity, granularity)
    with pytest.raises(ArcdataError) as e:
        demonstrations(ds)
    text = str(e.value)
    assert (
        "\n" not in text and f"ids: {granularity}" in text and "ids: task or ids: version" in text
    )


def test_adapt_command_then_evaluate(strict_arc, tmp_path):
    from arcdata.cli import main

    torch.manual_seed(6)
    ref = HRM(tiny_config(vocab_size=12, seq_len=900, num_puzzle_identifiers=4))
    path = write_reference(tmp_path / "ref", ref, reference_arch())
    run = tmp_path / "run"
    args = [str(path), str(strict_arc), "--out", str(run), "--steps", "3", "--lr", "0.05"]
    sets = ["--set", "global_batch_size=8", "--set", "progress=false", "--no-score"]
    res = CliRunner().invoke(main, ["adapt", *args, *sets])  # as a user types it
    assert res.exit_code == 0, res.output
    assert "adapted 8 rows of 2 tasks" in res.output
    init = json.loads((run / "init.json").read_text())
    assert init["rows"]["fresh"] == 8 and "never carried by position" in init["rows"]["note"]
    res = CliRunner().invoke(
        main, ["evaluate", str(run), str(strict_arc), "--batch-size", "8", "--pictures", "0",
               "--out", str(tmp_path / "rep")]
    )  # fmt: skip
    assert res.exit_code == 0, res.output
    assert json.loads((tmp_path / "rep" / "metrics.json").read_text())["tasks"] == 2
    res = CliRunner().invoke(main, ["adapt", *args, "--set", "freeze=none", *sets[:4]])
    assert res.exit_code != 0 and "already holds a run" in res.output
    res = CliRunner().invoke(
        main, ["adapt", str(path), str(strict_arc), "--out", str(tmp_path / "r2"), "--set",
               "freeze=none"]
    )  # fmt: skip
    assert res.exit_code == 2 and "always freezes the network" in res.output
