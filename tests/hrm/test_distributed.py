"""Two CPU processes (gloo): gradients and puzzle-embedding updates are combined across ranks."""

import os
import socket

import torch
import torch.distributed as dist
import torch.multiprocessing as mp

from arcdata.hrm.config import from_dict
from arcdata.hrm.train import train
from tests.hrm.hrm_synthetic import SyntheticDataset

MODEL = dict(hidden_size=32, num_heads=2, expansion=2, h_layers=1, l_layers=1, puzzle_emb_ndim=32)


def _config(**model):
    return dict(
        model={**MODEL, **model}, global_batch_size=16, max_steps=4, lr=1e-3, lr_warmup_steps=1,
        log_interval=2, eval_interval=4, eval_max_batches=2, checkpoint_interval=0, progress=False,
    )  # fmt: skip


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _worker(rank, world, port, cfg, out_dir, result_dir, like_torchrun):
    torch.set_num_threads(1)
    if like_torchrun:  # train() joins the group from the environment, as under torchrun
        os.environ.update(MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port), RANK=str(rank),
                          LOCAL_RANK=str(rank), WORLD_SIZE=str(world))  # fmt: skip
    else:
        dist.init_process_group(
            "gloo", init_method=f"tcp://127.0.0.1:{port}", rank=rank, world_size=world
        )
    result = train(SyntheticDataset(), from_dict(cfg), out_dir)
    assert dist.is_initialized() != like_torchrun  # train() leaves alone a group it did not make
    if dist.is_initialized():
        dist.destroy_process_group()
    torch.save(
        {"model": result["model"].state_dict(), "eval": result["eval"]},
        f"{result_dir}/rank{rank}.pt",
    )


def _run_two(tmp_path, cfg, name, like_torchrun=False):
    args = (2, _free_port(), cfg, str(tmp_path / name), str(tmp_path), like_torchrun)
    mp.spawn(_worker, args=args, nprocs=2, join=True)
    return [torch.load(tmp_path / f"rank{r}.pt", weights_only=True) for r in range(2)]


def test_two_ranks_stay_identical(tmp_path):
    # ACT with exploration: each rank halts different slots (own RNG), weights must still agree
    cfg = _config(halt_max_steps=3, halt_exploration_prob=0.5)
    r0, r1 = _run_two(tmp_path, cfg, "run", like_torchrun=True)
    for k in r0["model"]:
        assert torch.equal(r0["model"][k], r1["model"][k]), k
    table = r0["model"]["inner.puzzle_emb.weights"]
    assert table[1:].abs().sum() > 0  # the sparse updates happened, identically on both
    assert r0["eval"] == r1["eval"] and r0["eval"]["count"] == 32  # summed over both ranks
    ckpt = tmp_path / "run" / "checkpoints" / "step_00000004"
    assert {p.name for p in ckpt.iterdir()} == {"state.pt", "rank0.pt", "rank1.pt"}


def test_two_ranks_match_one_process_on_the_global_batch(tmp_path):
    # Without halting choices (one segment per example) the split run is the same computation
    cfg = _config(halt_max_steps=1)
    r0, _ = _run_two(tmp_path, cfg, "two")
    single = train(SyntheticDataset(), from_dict(cfg), tmp_path / "one")["model"].state_dict()
    for k, v in single.items():
        assert torch.allclose(r0["model"][k], v, atol=1e-5), k
