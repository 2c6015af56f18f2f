"""The HRM training loop: deep supervision over a persistent ACT carry, checkpoints, evaluation.

Each loop iteration takes one batch from the stream, runs one ACT segment on the carry (slots that
halted are refilled from that batch, the rest keep working on their example), and takes one
optimiser step. Run it plainly or under ``torchrun``; every rank takes its slice of each global
batch and gradients are summed across ranks.

Run directory::

    RUN_DIR/config.yaml                      the resolved config (dataset sizes filled in)
    RUN_DIR/metrics.jsonl                    one JSON object per log / evaluation
    RUN_DIR/tensorboard/                     the same numbers as TensorBoard scalars (optional)
    RUN_DIR/checkpoints/latest               name of the newest complete checkpoint
    RUN_DIR/checkpoints/step_NNNNNNNN/state.pt     model, optimisers, step, config
    RUN_DIR/checkpoints/step_NNNNNNNN/rankR.pt     carry, exploration RNG, stream position
    RUN_DIR/init.json                        with ``init``: tensors and puzzle rows carried over

``state.pt``'s ``model`` entry uses the reference key layout, so
:func:`arcdata.hrm.checkpoint.load_model_state` reads it like a reference checkpoint.
"""

from __future__ import annotations

import contextlib
import dataclasses
import math
import sys
import time
from pathlib import Path
from typing import Any

import torch
import torch.distributed as dist
import yaml

from ..errors import ConfigError
from ..progress import progress
from .act import HRM, Carry
from .checkpoint import load_model_state, load_run_checkpoint, save_run_checkpoint
from .config import TrainConfig, from_dict, to_dict
from .data import BatchCursor, Dataset, open_stream, to_device
from .distributed import (
    DistInfo,
    accumulation_dtype,
    all_reduce_grads,
    all_reduce_sums,
    broadcast_state,
    setup,
    teardown,
)
from .ema import EMA
from .estimate import estimate, measured_line
from .evaluate import evaluate
from .init import InitPlan, dataset_names, initialise
from .layers import ReasoningModule
from .logs import MetricsLog
from .loss import act_loss
from .optim import AdamAtan2, SparseSignSGD
from .source import resolve_source


def lr_scale(step: int, cfg: TrainConfig) -> float:
    """Factor on both learning rates for the ``step``-th update (0-based).

    Linear warm-up over ``lr_warmup_steps``, then constant, or cosine down to ``lr_min_ratio``.
    """
    if step < cfg.lr_warmup_steps:
        return (step + 1) / cfg.lr_warmup_steps
    if cfg.lr_schedule == "constant":
        return 1.0
    progress = min(1.0, (step - cfg.lr_warmup_steps) / max(1, cfg.max_steps - cfg.lr_warmup_steps))
    return cfg.lr_min_ratio + (1 - cfg.lr_min_ratio) * 0.5 * (1 + math.cos(math.pi * progress))


def build_optimizers(model: HRM, cfg: TrainConfig) -> tuple[AdamAtan2 | None, SparseSignSGD | None]:
    """Adam-atan2 for every parameter; sparse sign-SGD for the puzzle table (not a parameter).

    With ``freeze: network`` the network's parameters stop requiring gradients and no Adam-atan2
    is built at all: only the puzzle embeddings move (fitting embeddings for new tasks), and no
    optimiser state for the frozen weights is allocated or saved.
    """
    optimizer = None
    if cfg.freeze == "network":
        if cfg.model.puzzle_emb_ndim <= 0:
            raise ConfigError(
                "freeze: network leaves nothing to train (model.puzzle_emb_ndim is 0)"
            )
        for p in model.parameters():
            p.requires_grad_(False)
    else:
        optimizer = AdamAtan2(
            model.parameters(), lr=cfg.lr, betas=(cfg.beta1, cfg.beta2),
            weight_decay=cfg.weight_decay,
        )  # fmt: skip
    sparse = None
    if cfg.model.puzzle_emb_ndim > 0:
        sparse = SparseSignSGD(
            model.inner.puzzle_emb, lr=cfg.puzzle_emb_lr, weight_decay=cfg.puzzle_emb_weight_decay
        )
    return optimizer, sparse


def train_segment(
    model: HRM,
    carry: Carry,
    batch: dict[str, Any],
    optimizer: AdamAtan2 | None,
    sparse: SparseSignSGD | None,
    cfg: TrainConfig,
    scale: float = 1.0,
    generator: torch.Generator | None = None,
    autocast: contextlib.AbstractContextManager | None = None,
    distributed: bool = False,
    ema: EMA | None = None,
) -> tuple[Carry, torch.Tensor, dict[str, torch.Tensor]]:
    """One ACT segment with its own loss, backward and optimiser step (deep supervision).

    ``scale`` multiplies both learning rates (the schedule); ``ema`` is updated after the step.
    Returns the new carry, the summed loss and the metric sums of the slots that halted.
    """
    with autocast or contextlib.nullcontext():
        carry, out = model(carry, batch, generator)
        loss, metrics = act_loss(out, carry, cfg.loss_type)
    (loss / cfg.global_batch_size).backward()
    if optimizer is not None:
        if distributed:
            all_reduce_grads([p for group in optimizer.param_groups for p in group["params"]])
        for group in optimizer.param_groups:
            group["lr"] = cfg.lr * scale
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
    if sparse is not None:
        sparse.param_groups[0]["lr"] = cfg.puzzle_emb_lr * scale
        sparse.step()
        sparse.zero_grad()
    if ema is not None:
        ema.update(model)
    return carry, loss.detach(), metrics


def train(
    dataset_dir: Dataset,
    config: TrainConfig | dict | None = None,
    out_dir: str | Path = "runs/hrm",
    resume: bool = False,
    init: InitPlan | None = None,
) -> dict[str, Any]:
    """Train an HRM on a built dataset (or a stream factory).

    Returns ``{"step", "train", "eval", "run_dir", "model", "train_model"}``: the last
    train-window and evaluation metrics, the model evaluation used (the EMA copy when ``ema`` is
    on) and the trained weights themselves (this rank's copies).

    With ``resume`` the newest checkpoint in ``out_dir`` is restored (weights, optimisers, carry,
    RNG and stream position), so the run continues exactly as if it had not stopped.

    With the ``init`` setting (a run dir or checkpoint) a new run starts from those weights
    (:func:`arcdata.hrm.init.initialise`) and records what it copied in RUN_DIR/init.json;
    ``init`` is the plan when the caller resolved the checkpoint already (or fresh rows).
    """
    cfg = config if isinstance(config, TrainConfig) else from_dict(config or {})
    info, device = setup(cfg.device)
    try:
        return _train(dataset_dir, cfg, Path(out_dir), resume, info, device, init)
    finally:
        teardown(info)


def _train(
    dataset: Dataset,
    cfg: TrainConfig,
    run_dir: Path,
    resume: bool,
    info: DistInfo,
    device: torch.device,
    init: InitPlan | None = None,
) -> dict[str, Any]:
    if cfg.global_batch_size % info.world_size:
        raise ConfigError(
            f"global_batch_size {cfg.global_batch_size} is not divisible by {info.world_size} ranks"
        )
    saved = load_run_checkpoint(run_dir, info.rank) if resume else None
    if not resume and (run_dir / "checkpoints" / "latest").exists():
        raise ConfigError(f"{run_dir} already holds a run: pass --resume, or another --out")

    stream = open_stream(
        dataset, "train", batch_size=cfg.global_batch_size, mode=cfg.train_mode,
        seed=cfg.seed, rank=info.rank, world_size=info.world_size,
    )  # fmt: skip
    cfg = dataclasses.replace(
        cfg,
        model=dataclasses.replace(
            cfg.model,
            vocab_size=stream.vocab_size,
            seq_len=stream.seq_len,
            num_puzzle_identifiers=stream.num_puzzle_identifiers,
        ),
    )
    eval_stream = None
    if cfg.eval_interval >= 0:
        eval_stream = open_stream(
            dataset, cfg.eval_split, batch_size=cfg.eval_batch_size or cfg.global_batch_size,
            mode="eval", seed=cfg.seed, rank=info.rank, world_size=info.world_size,
        )  # fmt: skip

    torch.manual_seed(cfg.seed)
    model = HRM(cfg.model).to(device)
    init_report = None
    if cfg.init and saved is None and info.is_main:  # other ranks receive it by broadcast
        if init is None:
            source = resolve_source(cfg.init, seq_len=cfg.model.seq_len)
            init = InitPlan(source, dataset_names(dataset))
        init_report = initialise(model, init.source, init.names, cfg.init_embeddings, init.fresh)
    if info.active:
        broadcast_state(model)
    optimizer, sparse = build_optimizers(model, cfg)
    generator = torch.Generator(device=device if device.type == "cuda" else "cpu")
    generator.manual_seed(cfg.seed * 1_000_003 + info.rank)
    ema = EMA(model, cfg.ema) if cfg.ema > 0 else None

    step, carry, position = 0, None, None
    if saved is not None:
        state, rank_state = saved
        _check_resumable(state, cfg, info)
        # With EMA on, "model" holds the average and "train_model" the weights being trained.
        load_model_state(model, state.get("train_model", state["model"]))
        if ema is not None:
            ema.model.load_state_dict(model.state_dict())
            if "train_model" in state:
                load_model_state(ema.model, state["model"])
        if optimizer is not None:
            optimizer.load_state_dict(state["optimizer"])
        if sparse is not None:
            sparse.load_state_dict(state["puzzle_emb_optimizer"])
        step = state["step"]
        generator.set_state(rank_state["generator"])
        position = rank_state["data"]
        if rank_state["carry"] is not None:
            carry = Carry.from_state_dict(rank_state["carry"], device)
    elif info.is_main:
        run_dir.mkdir(parents=True, exist_ok=True)
        (run_dir / "config.yaml").write_text(yaml.safe_dump(to_dict(cfg), sort_keys=False))
        (run_dir / "metrics.jsonl").unlink(missing_ok=True)  # a crashed try before any checkpoint
        if init_report is not None:
            init_report.write(run_dir)
            for line in init_report.lines():
                print(line, file=sys.stderr, flush=True)

    if info.is_main:  # after the run folder is written: its errors come alone
        for line in estimate(cfg, model, device, info.world_size).lines():
            print(line, file=sys.stderr, flush=True)

    if cfg.compile:
        # Compile the heavy, static part only; the ACT bookkeeping around it stays eager.
        for module in model.inner.children():
            if isinstance(module, ReasoningModule):
                module.compile()
    autocast = (
        torch.autocast("cuda", dtype=torch.bfloat16)
        if device.type == "cuda"
        else contextlib.nullcontext()
    )
    cursor = BatchCursor(stream, cfg.num_workers, position)
    metrics_log = MetricsLog(
        run_dir,
        enabled=info.is_main,
        tensorboard=cfg.tensorboard,
        resumed_at=step if saved is not None else None,
    )
    log = metrics_log.log

    def evaluated() -> torch.nn.Module:
        return ema.synced(model) if ema is not None else model

    def run_eval() -> dict[str, float]:
        eval_stream.set_epoch(0)
        result = evaluate(
            evaluated(), eval_stream, device, loss_type=cfg.loss_type, autocast=autocast,
            max_batches=cfg.eval_max_batches,
        )  # fmt: skip
        log({"step": step, "split": cfg.eval_split, **result})
        return result

    def save() -> None:
        shared = None
        if info.is_main:
            shared = {
                "world_size": info.world_size,
                "config": to_dict(cfg),
                "model": evaluated().state_dict(),
                **({"train_model": model.state_dict()} if ema is not None else {}),
                "optimizer": optimizer.state_dict() if optimizer is not None else None,
                "puzzle_emb_optimizer": sparse.state_dict() if sparse is not None else None,
            }
        own = {  # each rank's slots, exploration RNG and stream position differ
            "carry": carry.state_dict() if carry is not None else None,
            "generator": generator.get_state(),
            "data": cursor.state_dict(),
        }
        barrier = dist.barrier if info.active else None
        save_run_checkpoint(run_dir, step, shared, own, info.rank, barrier, cfg.keep_checkpoints)

    bar = progress(
        cfg.max_steps, "training", "step", initial=step, enabled=info.is_main and cfg.progress
    )
    sums: dict[str, torch.Tensor] = {}
    window_start, window_steps = time.perf_counter(), 0
    last_train: dict[str, float] = {}
    last_eval: dict[str, float] = {}
    acc_dtype = accumulation_dtype(device)
    timing = StepTimer(step, cfg.max_steps)
    model.train()
    while step < cfg.max_steps:
        step_began = time.perf_counter()
        batch = to_device(next(cursor), device)
        if carry is None:
            carry = model.initial_carry(batch)
        scale = lr_scale(step, cfg)
        lr = cfg.lr * scale
        carry, loss, metrics = train_segment(
            model,
            carry,
            batch,
            optimizer,
            sparse,
            cfg,
            scale,
            generator,
            autocast,
            info.active,
            ema,
        )
        step += 1
        window_steps += 1
        bar.update(1)
        if info.is_main and (line := timing.tick(step, time.perf_counter() - step_began)):
            bar.write(line)

        metrics["loss"] = loss.detach()
        for k, v in metrics.items():
            sums[k] = sums.get(k, 0) + v.detach().to(acc_dtype)
        if step % cfg.log_interval == 0 or step == cfg.max_steps:
            last_train = _report(
                sums, window_steps, time.perf_counter() - window_start, cfg, device
            )
            last_train["lr"] = lr
            log({"step": step, "split": "train", **last_train})
            bar.set_postfix(
                loss=f"{last_train['loss']:.4f}", ex_s=f"{last_train['examples_per_s']:.0f}"
            )
            sums, window_start, window_steps = {}, time.perf_counter(), 0

        final = step == cfg.max_steps
        paused = time.perf_counter()  # evaluation and checkpoints do not count towards speed
        if eval_stream is not None and (
            (cfg.eval_interval > 0 and step % cfg.eval_interval == 0) or final
        ):
            last_eval = run_eval()
            if info.is_main:
                bar.write(
                    f"step {step}: " + ", ".join(f"{k} {v:.4f}" for k, v in last_eval.items())
                )
        if (cfg.checkpoint_interval > 0 and step % cfg.checkpoint_interval == 0) or final:
            save()
        window_start += time.perf_counter() - paused
    bar.close()
    metrics_log.close()
    return {
        "step": step,
        "train": last_train,
        "eval": last_eval,
        "run_dir": str(run_dir),
        "model": evaluated(),
        "train_model": model,
    }


class StepTimer:
    """Times the steps after the first (which pays for warm-up and compilation), evaluation and
    checkpoints left out, and gives one ``measured:`` line once ``timed`` of them ran: a figure
    in place of the FLOP guess."""

    def __init__(self, start: int, max_steps: int, timed: int = 5) -> None:
        self.first, self.max_steps = start + 1, max_steps
        self.timed = min(timed, max_steps - self.first)
        self.seconds = 0.0

    def tick(self, step: int, seconds: float) -> str | None:
        if self.timed <= 0 or step <= self.first or step > self.first + self.timed:
            return None
        self.seconds += seconds
        if step < self.first + self.timed:
            return None
        per_step = self.seconds / self.timed
        return measured_line(per_step, self.timed, self.max_steps - step)


def _report(
    sums: dict[str, torch.Tensor],
    steps: int,
    seconds: float,
    cfg: TrainConfig,
    device: torch.device,
) -> dict[str, float]:
    """Means over the window: loss per example per step; accuracies per halted example."""
    totals = all_reduce_sums(sums, device)
    n = max(totals.pop("count", 0.0), 1.0)
    out = {"loss": totals.pop("loss") / (steps * cfg.global_batch_size)}
    for k in ("lm_loss", "q_halt_loss", "q_continue_loss"):
        if k in totals:
            out[k] = totals.pop(k) / (steps * cfg.global_batch_size)
    out.update({k: v / n for k, v in totals.items()})
    out["halted"] = n
    out["steps_per_s"] = steps / max(seconds, 1e-9)
    out["examples_per_s"] = out["steps_per_s"] * cfg.global_batch_size
    return out


def _check_resumable(state: dict, cfg: TrainConfig, info: DistInfo) -> None:
    if state["world_size"] != info.world_size:
        raise ConfigError(
            f"the run was trained on {state['world_size']} processes; resume it on the same number "
            f"(now {info.world_size}): each rank's carry is part of the checkpoint"
        )
    saved_model = from_dict(state["config"]).model
    if saved_model != cfg.model:
        diff = [
            f.name for f in dataclasses.fields(saved_model)
            if getattr(saved_model, f.name) != getattr(cfg.model, f.name)
        ]  # fmt: skip
        raise ConfigError(f"cannot resume with a different model: {', '.join(diff)} changed")
