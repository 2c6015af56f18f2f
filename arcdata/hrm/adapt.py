"""Test-time adaptation: fit fresh puzzle embeddings for unseen tasks on their demonstrations.

HRM answers a task through its learnt puzzle embedding, so a task it never trained on has none
(a blank id scores ~0 on ARC). Here every evaluation task (a task of the test split) gets fresh
rows (one per task under ``ids: task``, one per version under ``ids: version``), started like
``train --init`` starts new rows, and only those rows are fitted, on that task's demonstration
pairs, with the network frozen (``freeze: network``). The output is an ordinary run directory,
so ``arcdata evaluate RUN DATASET`` scores it.

Where the demonstrations are: with ``split: strict`` the evaluation tasks' demonstration pairs
form the ``eval_demos`` split; with ``split: hrm`` they are the ``train``-role rows of those
tasks in the ``train`` split. Of the test split only the ``task_id`` column is read (which
tasks to adapt): its inputs and outputs are never opened.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

from .. import jsonio
from ..dataset import shard_paths
from ..errors import ConfigError, DatasetError
from ..storage.manifest import read_manifest
from ..tokens import IGNORE_LABEL, PAD, encode_batch, get_codec
from .config import TrainConfig
from .data import ArraySource
from .init import InitPlan, dataset_names
from .source import Source

ADAPT_REPORT = "adapt.json"
ADAPTABLE = ("task", "version")


@dataclass
class Demonstrations:
    """The evaluation tasks of a dataset, their embedding ids and demonstration rows as tokens."""

    tasks: list[str]
    ids: list[int]  # their embedding ids: the rows adaptation fits
    split: str  # where the demonstrations were read
    inputs: np.ndarray  # uint8 [N, seq_len]
    labels: np.ndarray  # int16 [N, seq_len], IGNORE_LABEL on PAD
    puzzle_identifiers: np.ndarray  # int32 [N]
    vocab_size: int
    num_ids: int

    def source(self) -> ArraySource:
        """A stream factory over the demonstrations, for the trainer and the evaluator."""
        arrays = (self.inputs, self.labels, self.puzzle_identifiers)
        return ArraySource({"train": arrays, "demos": arrays}, self.vocab_size, self.num_ids)


def demonstrations(dataset: str | Path) -> Demonstrations:
    """Read what adaptation may see: the evaluation tasks' demonstration pairs, nothing else."""
    dataset = Path(dataset)
    manifest = read_manifest(dataset)
    granularity = manifest["embedding_ids"]["granularity"]
    if granularity not in ADAPTABLE:
        why = (
            "gives every pair its own row, so a test input's row would never be fitted"
            if granularity == "pair"
            else "has no per-task rows to fit"
        )
        raise ConfigError(
            f"{dataset}: ids: {granularity} {why}; adaptation needs ids: task or ids: version "
            "(rebuild the dataset with one of them)"
        )
    splits = manifest["splits"]
    if "test" not in splits:
        raise DatasetError(f"{dataset}: no test split, so no evaluation task to adapt to")
    test_paths = shard_paths(dataset, manifest, "test")
    tasks = sorted(pl.scan_parquet(test_paths).select("task_id").unique().collect()["task_id"])
    demo_split = "eval_demos" if "eval_demos" in splits else "train"
    demos = (
        pl.scan_parquet(shard_paths(dataset, manifest, demo_split))
        .filter(pl.col("task_id").is_in(tasks) & (pl.col("role") == "train"))
        .collect()
        .sort("task_id", "version", "pair_index")
    )
    lacking = sorted(set(tasks) - set(demos["task_id"].unique().to_list()))
    if lacking:
        shown = ", ".join(lacking[:5]) + (
            f" (and {len(lacking) - 5} more)" if len(lacking) > 5 else ""
        )
        raise DatasetError(
            f"{dataset}: evaluation task(s) {shown} have no demonstration pairs in the "
            f"{demo_split} split; nothing to adapt them on"
        )
    ids_table = pl.read_parquet(
        dataset / "identifiers.parquet", columns=["embedding_id", "task_id"]
    )
    ids = sorted(ids_table.filter(pl.col("task_id").is_in(tasks))["embedding_id"].to_list())
    codec = get_codec(manifest["codec"])
    inputs = _encode(codec, demos, "input")
    labels = _encode(codec, demos, "output").astype(np.int16)
    labels[labels == PAD] = IGNORE_LABEL
    return Demonstrations(
        tasks, ids, demo_split, inputs, labels,
        demos["embedding_id"].to_numpy().astype(np.int32),
        codec.vocab_size, int(manifest["embedding_ids"]["count"]),
    )  # fmt: skip


def _encode(codec, rows: pl.DataFrame, kind: str) -> np.ndarray:
    """Token rows of one grid column (at each row's own offset)."""
    cells = rows[kind].to_list()
    sizes = np.array([len(c) for c in cells], dtype=np.int64)
    starts = np.cumsum(sizes) - sizes
    flat = np.frombuffer(b"".join(cells), np.uint8)
    return encode_batch(
        codec, flat, starts, rows[f"{kind}_h"].to_numpy(), rows[f"{kind}_w"].to_numpy(),
        rows["offset_r"].to_numpy(), rows["offset_c"].to_numpy(),
    )  # fmt: skip


def adapt_config(source: Source, base: TrainConfig, rows: int) -> TrainConfig:
    """The training config of an adaptation: the network frozen, one run to the end."""
    if base.freeze != "network":
        raise ConfigError("adapt always freezes the network; leave freeze unset (or 'network')")
    return dataclasses.replace(
        base,
        freeze="network",
        init=str(source.path),
        global_batch_size=min(base.global_batch_size, rows),
        eval_interval=-1,
        checkpoint_interval=0,
    )


def base_config(source: Source, steps: int, lr: float) -> TrainConfig:
    """Defaults for adaptation: the checkpoint's model, ``steps`` updates at rate ``lr``."""
    return TrainConfig(
        model=source.model, freeze="network", max_steps=steps, puzzle_emb_lr=lr,
        lr_warmup_steps=0, log_interval=max(1, steps // 10),
    )  # fmt: skip


def adapt(
    source: Source,
    dataset: str | Path,
    out_dir: str | Path,
    config: TrainConfig,
    score: bool = True,
) -> dict[str, Any]:
    """Fit the evaluation tasks' rows of ``dataset`` and write the run to ``out_dir``.

    ``config`` is from :func:`base_config` plus the user's settings. Returns the adaptation
    record (also RUN_DIR/adapt.json): tasks, rows fitted, demonstration loss before and after.
    """
    from .act import HRM
    from .distributed import pick_device
    from .evaluate import evaluate
    from .init import initialise
    from .report import keep_identifiers
    from .train import train

    demos = demonstrations(dataset)
    cfg = adapt_config(source, config, len(demos.inputs))
    names = dataset_names(dataset)
    plan = InitPlan(source, names, demos.ids)
    data = demos.source()
    sizes = dict(
        vocab_size=demos.vocab_size,
        seq_len=int(demos.inputs.shape[1]),
        num_puzzle_identifiers=demos.num_ids,
    )
    device = pick_device(cfg.device)

    def demo_loss(model) -> dict[str, float]:
        stream = data("demos", batch_size=cfg.global_batch_size, mode="eval", seed=0)
        return evaluate(model, stream, device, loss_type=cfg.loss_type)

    before = None
    if score:
        start = HRM(dataclasses.replace(cfg.model, **sizes))
        initialise(start, source, names, cfg.init_embeddings, demos.ids)
        before = demo_loss(start.to(device))
    result = train(data, cfg, out_dir, init=plan)
    out_dir = Path(out_dir)
    keep_identifiers(Path(dataset), out_dir)
    record = {
        "source": str(source.path),
        "dataset": str(dataset),
        "demonstrations_split": demos.split,
        "tasks": len(demos.tasks),
        "rows_fitted": len(demos.ids),
        "demonstration_examples": len(demos.inputs),
        "steps": cfg.max_steps,
        "puzzle_emb_lr": cfg.puzzle_emb_lr,
        "global_batch_size": cfg.global_batch_size,
        "demonstrations_before": before,
        "demonstrations_after": demo_loss(result["model"]) if score else None,
    }
    (out_dir / ADAPT_REPORT).write_text(jsonio.dumps(record, indent=1) + "\n")
    return {**record, "model": result["model"]}
