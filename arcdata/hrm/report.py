"""What ``arcdata evaluate`` reports: a trained HRM scored on a split the way papers do, with pictures.

Every example runs all ``halt_max_steps`` segments (:func:`arcdata.hrm.evaluate.run_segments`). Then, per family:

* ARC: each test input was predicted once per augmented version; predictions are mapped back
  through their version's inverse transform and vote (:mod:`arcdata.vote`), giving pass@1/2.
* Sudoku: exact accuracy. Maze: exact accuracy and the fair score, "a valid shortest path".

Always: token / exact accuracy, calibration of sigmoid(q_halt) against exactness
(:mod:`arcdata.calibration`, with a reliability diagram), and pictures of the reasoning steps
(the model's answer after each segment) for the first few examples.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import polars as pl
import torch

from arcdata import jsonio
from arcdata.dataset import shard_paths
from arcdata.storage.manifest import read_manifest
from arcdata.tokens import IGNORE_LABEL, crop, get_codec, token_values

from .act import HRM
from .data import to_device
from .evaluate import run_segments


@dataclass
class Predictions:
    example_index: np.ndarray  # int64 [N] row of the split
    tokens: np.ndarray  # uint8 [N, L] argmax after the last segment
    q_halt: np.ndarray  # float32 [N] q_halt logit after the last segment
    exact: np.ndarray  # bool [N]
    token_accuracy: np.ndarray  # float32 [N]
    trace: np.ndarray  # uint8 [T, steps, L] answers after every segment, first T examples
    trace_rows: np.ndarray  # int64 [T] their example indices


@torch.no_grad()
def predict(
    model: HRM, batches, device: torch.device, *, max_examples: int | None = None, trace: int = 4
) -> Predictions:
    """Run every segment on every (real) example of an eval-mode stream."""
    model.eval()
    steps = model.config.halt_max_steps
    out: dict[str, list] = {k: [] for k in ("idx", "tok", "q", "exact", "acc")}
    traced: list[np.ndarray] = []
    traced_rows: list[np.ndarray] = []
    seen = 0
    for batch in batches:
        batch = to_device(batch, device)
        real = int(batch["count"]) if "count" in batch else batch["inputs"].shape[0]
        if max_examples is not None:  # exactly max_examples, even mid-batch
            real = min(real, max_examples - seen)
        want_trace = max(0, min(trace - sum(len(t) for t in traced), real))
        seg = run_segments(model, batch, trace=want_trace)
        output = seg.output
        labels = batch["labels"][:real]
        pred = output.logits[:real].argmax(-1)
        valid = labels != IGNORE_LABEL
        correct = (pred == labels) | ~valid
        out["idx"].append(batch["example_index"][:real].cpu().numpy())
        out["tok"].append(pred.to(torch.uint8).cpu().numpy())
        out["q"].append(output.q_halt_logits[:real].float().cpu().numpy())
        out["exact"].append(correct.all(-1).cpu().numpy())
        out["acc"].append(
            ((pred == labels) & valid).sum(-1).float().div(valid.sum(-1).clamp(min=1)).cpu().numpy()
        )
        if seg.trace is not None:
            traced.append(seg.trace.cpu().numpy())
            traced_rows.append(batch["example_index"][:want_trace].cpu().numpy())
        seen += real
        if max_examples is not None and seen >= max_examples:
            break
    cat = {k: np.concatenate(v) if v else np.zeros(0) for k, v in out.items()}
    seq = cat["tok"].shape[1] if cat["tok"].ndim == 2 else 0
    return Predictions(
        cat["idx"].astype(np.int64),
        cat["tok"].astype(np.uint8).reshape(-1, seq),
        cat["q"].astype(np.float32),
        cat["exact"].astype(bool),
        cat["acc"].astype(np.float32),
        np.concatenate(traced) if traced else np.zeros((0, steps, seq), np.uint8),
        np.concatenate(traced_rows) if traced_rows else np.zeros(0, np.int64),
    )


def split_rows(dataset: Path, split: str) -> pl.DataFrame:
    """The split's rows in stream order (manifest shard order), with an ``example_index``."""
    manifest = read_manifest(dataset)
    frame = pl.concat([pl.read_parquet(p) for p in shard_paths(dataset, manifest, split)])
    return frame.with_row_index("example_index")


def _grid(row: dict, kind: str) -> np.ndarray:
    return np.frombuffer(row[kind], np.uint8).reshape(row[f"{kind}_h"], row[f"{kind}_w"])


def family_scores(codec: str, rows: pl.DataFrame, preds: Predictions) -> dict:
    """The headline score of each puzzle family."""
    if codec == "arc":
        from arcdata.vote import collect, pass_at_k

        meta = rows[preds.example_index.tolist()]
        ballots = collect(
            meta["task_id"].to_list(),
            meta["pair_index"].to_list(),
            meta["dihedral"].to_list(),
            meta["colour_map"].to_list(),
            preds.tokens,
            preds.q_halt,
            np.stack([meta["offset_r"], meta["offset_c"]], 1),
        )
        truth = {
            (r["task_id"], r["pair_index"]): _grid(r, "output")
            for r in rows.filter((pl.col("version") == 0) & (pl.col("role") == "test")).iter_rows(
                named=True
            )
        }
        return pass_at_k(ballots, truth)
    if codec == "maze":
        from arcdata.maze.paths import valid_shortest_paths

        meta = rows[preds.example_index.tolist()]
        questions = np.stack([_grid(r, "input") for r in meta.iter_rows(named=True)])
        answers = token_values(get_codec("maze"), preds.tokens)
        ok = valid_shortest_paths(questions, answers.reshape(questions.shape))
        return {"valid_shortest_path": float(ok.mean()) if len(ok) else 0.0}
    return {}


def trace_picture(codec_name: str, rows: pl.DataFrame, preds: Predictions, path: Path) -> None:
    """One row per traced example: input, the answer after each segment, the target."""
    from arcdata.render import compose, grid_image, write_png

    codec = get_codec(codec_name)
    lines = []
    for k, idx in enumerate(preds.trace_rows.tolist()):
        r = rows.row(idx, named=True)
        inp, target = _grid(r, "input"), _grid(r, "output")
        steps = [
            _answer(codec, t, (r["offset_r"], r["offset_c"]), target.shape) for t in preds.trace[k]
        ]
        lines.append(
            [
                grid_image(inp, codec.name),
                *(grid_image(g, codec.name) for g in steps),
                grid_image(target, codec.name),
            ]
        )
    if lines:
        write_png(path, compose(lines))


def _answer(codec, tokens: np.ndarray, offset, shape) -> np.ndarray:
    if codec.eos_border:
        grid = crop(codec, tokens, offset)
        return grid if grid is not None and grid.size else np.zeros((1, 1), np.uint8)
    return token_values(codec, tokens)[: shape[0], : shape[1]]


def write_report(dataset: Path, split: str, preds: Predictions, out: Path) -> dict:
    from arcdata.calibration import calibrate, plot

    out.mkdir(parents=True, exist_ok=True)
    codec = read_manifest(dataset)["codec"]
    rows = split_rows(dataset, split)
    confidence = 1.0 / (1.0 + np.exp(-preds.q_halt.astype(np.float64)))
    cal = calibrate(confidence, preds.exact)
    metrics = {
        "split": split,
        "examples": int(len(preds.exact)),
        "exact_accuracy": float(preds.exact.mean()) if len(preds.exact) else 0.0,
        "token_accuracy": float(preds.token_accuracy.mean()) if len(preds.exact) else 0.0,
        "q_halt_accuracy": float(((preds.q_halt >= 0) == preds.exact).mean())
        if len(preds.exact)
        else 0.0,
        **family_scores(codec, rows, preds),
        "calibration": cal.as_dict(),
    }
    (out / "metrics.json").write_text(jsonio.dumps(metrics, indent=1) + "\n")
    with contextlib.suppress(ImportError):  # matplotlib is optional
        plot(cal, out / "calibration.png")
    trace_picture(codec, rows, preds, out / "reasoning_steps.png")
    meta = rows[preds.example_index.tolist()].select(
        "example_index", "task_id", "version", "role", "pair_index"
    )
    meta.with_columns(
        pl.Series("q_halt", preds.q_halt),
        pl.Series("exact", preds.exact),
        pl.Series("token_accuracy", preds.token_accuracy),
    ).write_parquet(out / "predictions.parquet")
    return metrics


def load_trained(run_dir: Path, device: torch.device, checkpoint: Path | None = None) -> HRM:
    """The model of a run directory (its config.yaml and newest checkpoint, or ``checkpoint``:
    any state dict in the reference key layout)."""
    from .checkpoint import load_model_state, load_run_checkpoint
    from .config import load

    cfg = load(run_dir / "config.yaml")
    model = HRM(cfg.model).to(device)
    state = checkpoint if checkpoint is not None else load_run_checkpoint(run_dir, 0)[0]["model"]
    load_model_state(model, state)
    return model
