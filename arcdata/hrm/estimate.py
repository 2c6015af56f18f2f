"""What a training run will cost before it starts: parameters, FLOPs per step, a time estimate.

The reference config (27M parameters, batch 768, 900 tokens) is meant for GPUs; on a laptop CPU
one step takes many minutes. ``train`` prints this summary first and warns when the estimate
is very long, so nobody waits an hour for a first log line; ``train --dry-run`` prints only it.

Throughputs are deliberately rough sustained figures (not peaks): the point is the order of
magnitude. The trainer replaces the guess with a measured s/step after a few steps.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import torch

from .config import TrainConfig
from .layers import swiglu_inner_size
from .model import HRMConfig

ASSUMED_FLOPS = {"cpu": 1e11, "mps": 3e12, "cuda": 1e14}
"""Sustained FLOP/s assumed per device type: a laptop's cores in fp32, Apple GPUs, a recent
NVIDIA GPU in bf16 at a realistic utilisation."""

SLOW_STEP_S = 10.0  # warn above this many seconds per step...
SLOW_RUN_S = 7 * 86400.0  # ...or above this for the whole run


@dataclass
class RunEstimate:
    parameters: int
    puzzle_table: int  # the sparse puzzle-embedding rows (trained apart, not parameters)
    device: str
    dtype: str
    steps: int
    batch: int
    seq_len: int
    step_flops: float
    step_s: float
    world_size: int = 1

    @property
    def total_s(self) -> float:
        return self.step_s * self.steps

    @property
    def slow(self) -> bool:
        return self.step_s > SLOW_STEP_S or self.total_s > SLOW_RUN_S

    def lines(self) -> list[str]:
        ranks = f" over {self.world_size} processes" if self.world_size > 1 else ""
        table = (
            f" + {_count(self.puzzle_table)} puzzle-embedding table" if self.puzzle_table else ""
        )
        out = [
            f"parameters: {_count(self.parameters)}{table}",
            f"device: {self.device} ({self.dtype})",
            f"steps: {self.steps:,} of global batch {self.batch:,}, {self.seq_len} tokens each",
            f"estimate: {self.step_flops:.2g} FLOP per step{ranks}; at ~{ASSUMED_FLOPS.get(self.device, ASSUMED_FLOPS['cpu']):.0e} "
            f"FLOP/s on {self.device}: ~{duration(self.step_s)} per step, "
            f"~{duration(self.total_s)} in all (a rough guess; measured after the first steps)",
        ]
        if self.slow:
            advice = (
                "it is sized for GPUs; on a CPU start with the tiny recipe "
                "(recipes/sudoku4-tiny.yaml) or lower global_batch_size, model.hidden_size and "
                "the layer counts"
                if self.device == "cpu"
                else "lower global_batch_size or max_steps, or spread it over more GPUs (torchrun)"
            )
            out.append(
                f"warning: this config will be very slow on {self.device} "
                f"(~{duration(self.step_s)} per step, ~{duration(self.total_s)} in all): {advice}"
            )
        return out


def dtype_name(device: torch.device) -> str:
    """The trainer's compute dtype: bf16 autocast on CUDA, fp32 elsewhere."""
    return "bfloat16 autocast" if device.type == "cuda" else "float32"


def block_flops(model: HRMConfig, batch: int) -> float:
    """Forward FLOPs of one transformer block on ``batch`` sequences (matrix products only).

    Linear layers cost 2 FLOPs per weight per row. Attention: the fused q/k/v and output
    projections (4 D^2 weights) and the two L x L products (4 L^2 D). ``mixer: mlp`` (TRM's
    ``mlp_t``): a SwiGLU across the L positions, applied to each of the D feature rows.
    Every block ends with the SwiGLU over features.
    """
    d, e = model.hidden_size, model.expansion
    positions = model.seq_len + model.puzzle_emb_len
    mlp = 2 * positions * 3 * d * swiglu_inner_size(d, e)  # gate, up, down per position
    if model.mixer == "mlp":
        mix = 2 * d * 3 * positions * swiglu_inner_size(positions, e)  # per feature row
    else:
        mix = 2 * positions * 4 * d * d + 4 * positions**2 * d
    return batch * (mix + mlp)


def segment_updates(model: HRMConfig) -> tuple[list[int], list[int]]:
    """Layers of every level update one segment runs, and of those under gradient.

    HRM: level i (slowest first) is updated ``cycles[0] * ... * cycles[i]`` times; the last
    update of each level is under gradient. TRM: ``h_cycles`` rounds of ``l_cycles + 1``
    updates of its one network, the last round under gradient.
    """
    if model.kind == "trm":
        per_round = [model.l_layers] * (model.l_cycles + 1)
        return per_round * model.h_cycles, per_round
    every, last, times = [], [], 1
    for layers, cycles in model.level_specs:
        times *= cycles
        every += [layers] * times
        last.append(layers)
    return every, last


def step_flops(model: HRMConfig, batch: int) -> float:
    """Forward + backward FLOPs of one training step (one ACT segment), matrix products only.

    Every update of the segment runs forward; backward (twice the forward: the gradients of the
    inputs and of the weights) covers only the updates under gradient and the heads. HRM's
    halting rule learns q_continue from a second forward of the segment without gradient
    (skipped when ``halt_max_steps`` is 1 or the rule is q_halt alone, as TRM's).
    """
    every, graded = segment_updates(model)
    block = block_flops(model, batch)
    d = model.hidden_size
    heads = 2 * batch * (model.seq_len * d * model.vocab_size + d * 2)  # lm_head, q_head
    forward = sum(every) * block + heads
    second = forward if model.halt_max_steps > 1 and not model.halts_on_q_halt_alone else 0.0
    return forward + second + 2 * (sum(graded) * block + heads)


def estimate(
    cfg: TrainConfig, model: torch.nn.Module, device: torch.device, world_size: int = 1
) -> RunEstimate:
    """The estimate for ``cfg`` (its model sizes already filled in from the dataset); the
    ``world_size`` processes share each global batch."""
    flops = step_flops(cfg.model, cfg.global_batch_size)
    table = getattr(getattr(model, "inner", None), "puzzle_emb", None)
    return RunEstimate(
        parameters=sum(p.numel() for p in model.parameters()),
        puzzle_table=int(table.weights.numel()) if table is not None else 0,
        device=device.type,
        dtype=dtype_name(device),
        steps=cfg.max_steps,
        batch=cfg.global_batch_size,
        seq_len=cfg.model.seq_len,
        step_flops=flops,
        step_s=flops / world_size / ASSUMED_FLOPS.get(device.type, ASSUMED_FLOPS["cpu"]),
        world_size=world_size,
    )


def measured_line(seconds_per_step: float, timed: int, remaining: int) -> str:
    return (
        f"measured: {seconds_per_step:.3g} s/step over {timed} steps; "
        f"{remaining:,} steps left take ~{duration(seconds_per_step * remaining)}"
    )


def duration(seconds: float) -> str:
    """A short human duration: 3 ms, 12 s, 3.5 min, 7.2 h, 12 days, 3.1 years."""
    for unit, size in (("years", 365 * 86400), ("days", 86400), ("h", 3600), ("min", 60)):
        if seconds >= 2 * size if unit in ("years", "days") else seconds >= size:
            return f"{seconds / size:.3g} {unit}"
    return f"{seconds:.2g} s" if seconds >= 1 else f"{seconds * 1e3:.2g} ms"


def _count(n: int) -> str:
    return f"{n / 1e6:.2f}M" if n >= 1e6 else f"{n / 1e3:.1f}k" if n >= 1e3 else str(n)


def dry_run_text(dataset: Path, cfg: TrainConfig, run_dir: Path, resume: bool = False) -> str:
    """What ``train`` would do with ``cfg`` on ``dataset``: the resolved config (model sizes
    from the dataset's manifest) and the estimate. Reads the manifest only; writes nothing."""
    import dataclasses

    import yaml

    from ..storage.manifest import read_manifest
    from .act import HRM
    from .config import to_dict
    from .distributed import pick_device

    manifest = read_manifest(dataset)
    cfg = dataclasses.replace(
        cfg,
        model=dataclasses.replace(
            cfg.model,
            vocab_size=int(manifest["vocab_size"]),
            seq_len=int(manifest["seq_len"]),
            num_puzzle_identifiers=int(manifest["embedding_ids"]["count"]),
        ),
    )
    device = pick_device(cfg.device)
    model = HRM(cfg.model)
    rows = {name: s["rows"] for name, s in manifest["splits"].items()}
    epochs = cfg.max_steps * cfg.global_batch_size / max(rows.get("train", 0), 1)
    action = "resume" if resume else "start"
    lines = [
        "# resolved training config",
        yaml.safe_dump(to_dict(cfg), sort_keys=False).rstrip(),
        "",
        f"dry run: would {action} run {run_dir} on {dataset}",
        "splits: " + ", ".join(f"{k} {v:,} rows" for k, v in rows.items()),
        f"passes over train: ~{epochs:,.1f}",
        *estimate(cfg, model, device).lines(),
        "nothing was written",
    ]
    return "\n".join(lines)
