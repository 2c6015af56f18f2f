"""``arcdata evaluate`` under torchrun: two CPU processes (gloo, loopback) write the report one
process writes, from the same examples."""

from __future__ import annotations

import json
import os
import socket
from pathlib import Path

import numpy as np
import polars as pl
import pytest
import torch.multiprocessing as mp
from click.testing import CliRunner

from arcdata.builder.driver import build
from arcdata.cli import main
from arcdata.hrm.report import split_rows
from tests.conftest import small_config

TINY = {
    "max_steps": 2, "global_batch_size": 8, "eval_interval": -1, "model.hidden_size": 32,
    "model.num_heads": 2, "model.h_layers": 1, "model.l_layers": 1, "model.puzzle_emb_ndim": 32,
    "model.halt_max_steps": 3, "progress": "false",
}  # fmt: skip


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _worker(rank: int, world: int, port: int, runs: list[list[str]], result_dir: str) -> None:
    """One rank, joined from the environment as torchrun leaves it; every command's exit code
    and output saved for the test to read."""
    import torch

    torch.set_num_threads(1)
    os.environ.update(MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port), RANK=str(rank),
                      LOCAL_RANK=str(rank), WORLD_SIZE=str(world))  # fmt: skip
    results = []
    for args in runs:
        res = CliRunner().invoke(main, args)
        results.append({"code": res.exit_code, "output": res.output})
    Path(result_dir, f"rank{rank}.json").write_text(json.dumps(results))


@pytest.fixture(scope="module")
def trained(arc_dirs, tmp_path_factory):
    root = tmp_path_factory.mktemp("evdist")
    dataset, run = root / "ds", root / "run"
    build(small_config(arc_dirs, versions=3), dataset, workers=1, progress=False)
    sets = [a for k, v in TINY.items() for a in ("--set", f"{k}={v}")]
    res = CliRunner().invoke(main, ["train", str(dataset), "--out", str(run), *sets])
    assert res.exit_code == 0, res.output
    return dataset, run


def test_two_processes_write_the_report_of_one(trained, tmp_path):
    dataset, run = trained
    n_test = len(split_rows(dataset, "test"))
    limit = n_test - 1  # odd count, not a whole number of global batches: the last is partial
    assert limit >= 5

    def args(out: Path, batch: int) -> list[str]:
        return [
            "evaluate", str(run), str(dataset), "--out", str(out), "--batch-size", str(batch),
            "--max-examples", str(limit), "--halt", "q", "--ids", "blank", "--pictures", "1",
        ]  # fmt: skip

    res = CliRunner().invoke(main, args(tmp_path / "one", 4))
    assert res.exit_code == 0, res.output
    runs = [args(tmp_path / "two", 4), args(tmp_path / "bad", 5)]
    mp.spawn(_worker, args=(2, _free_port(), runs, str(tmp_path)), nprocs=2, join=True)
    ranks = [json.loads((tmp_path / f"rank{r}.json").read_text()) for r in range(2)]
    assert [r[0]["code"] for r in ranks] == [0, 0], ranks
    assert "report:" in ranks[0][0]["output"] and "report:" not in ranks[1][0]["output"]
    # A global batch the processes cannot share: one line, on every rank, before any waiting.
    for r in ranks:
        assert r[1]["code"] == 2 and "--batch-size 5" in r[1]["output"]
        assert "multiple of the 2 processes" in r[1]["output"]
        assert len(r[1]["output"].strip().splitlines()) == 1
    assert not (tmp_path / "bad").exists()

    one, two = tmp_path / "one", tmp_path / "two"
    m1 = json.loads((one / "metrics.json").read_text())
    assert m1["examples"] == limit and m1["ids_blank"]["examples"] == limit
    assert json.loads((two / "metrics.json").read_text()) == m1
    for name in ("predictions", "predictions_blank_ids"):
        f1, f2 = pl.read_parquet(one / f"{name}.parquet"), pl.read_parquet(two / f"{name}.parquet")
        assert f1["example_index"].to_list() == list(range(limit))
        assert f2.equals(f1), name
    assert (two / "submission.json").read_text() == (one / "submission.json").read_text()
    assert (two / "trace.json").read_text() == (one / "trace.json").read_text()
    assert (two / "report.html").is_file()


@pytest.mark.parametrize("limit", [1, 3, None])
def test_rank_shares_merge_into_the_one_process_table(trained, limit):
    # Shares taken by hand (no process group): with --max-examples 1 the second rank has none.
    import torch

    from arcdata.hrm.infer import merge
    from arcdata.hrm.report import load_trained, predict
    from arcdata.stream import PuzzleStream

    dataset, run = trained
    model = load_trained(run, torch.device("cpu"))

    def run_share(rank: int, world: int):
        stream = PuzzleStream(
            str(dataset), "test", batch_size=4, mode="eval", rank=rank, world_size=world
        )
        return predict(model, stream, torch.device("cpu"), halt="q", max_examples=limit, trace=1)

    whole = run_share(0, 1)
    parts = [run_share(r, 2) for r in range(2)]
    if limit == 1:
        assert len(parts[1].example_index) == 0
    merged = merge(parts)
    expected = limit or len(split_rows(dataset, "test"))
    assert merged.example_index.tolist() == list(range(expected))
    for name in ("tokens", "q_halt_steps", "exact_steps", "segments", "token_accuracy"):
        np.testing.assert_array_equal(getattr(merged, name), getattr(whole, name), err_msg=name)
    assert merged.trace_rows.tolist() == sorted(p.trace_rows[0] for p in parts if len(p.trace_rows))


def test_an_empty_share_still_names_the_halting_rule():
    import torch

    from arcdata.hrm.act import HRM
    from arcdata.hrm.infer import merge, predict
    from arcdata.hrm.model import HRMConfig

    model = HRM(HRMConfig(kind="trm", hidden_size=8, num_heads=1, h_layers=1, l_layers=1,
                          puzzle_emb_ndim=0, seq_len=4, halt_max_steps=2))  # fmt: skip
    assert model.config.halts_on_q_halt_alone  # TRM halts on q_halt alone
    empty = predict(model, [], torch.device("cpu"))
    assert len(empty.example_index) == 0 and empty.q_halt_alone
    assert merge([empty, empty]).q_halt_alone
