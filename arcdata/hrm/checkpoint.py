"""Checkpoints: reading reference-trainer weights, and arcdata's own resumable run checkpoints.

A reference checkpoint is a plain state dict saved from its loss head, usually wrapped by
torch.compile, so keys carry ``_orig_mod.`` and ``model.`` prefixes; our :class:`HRM` uses the
same names underneath. Files are always read with ``weights_only=True``: a checkpoint from the
internet must not be able to run code.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Mapping
from pathlib import Path

import torch
from torch import nn

from ..errors import ArcdataError

_PREFIXES = ("_orig_mod.", "model.", "module.")
RUN_CHECKPOINT_FORMAT = "arcdata-hrm-train/1"


class CheckpointError(ArcdataError):
    """A checkpoint cannot be read, or does not fit the model; the message names the keys."""


def strip_prefixes(state: Mapping[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """Remove wrapper prefixes (torch.compile, loss head, DDP) from the front of every key."""
    out = {}
    for key, value in state.items():
        name = key
        while name.startswith(_PREFIXES):
            name = name.split(".", 1)[1]
        if name in out:
            raise CheckpointError(
                f"keys {key!r} and another both map to {name!r} after removing prefixes"
            )
        out[name] = value
    return out


def read_state_dict(path: str | os.PathLike) -> dict[str, torch.Tensor]:
    """Model state dict from a reference checkpoint or an arcdata training checkpoint file."""
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"{path}: no such checkpoint file")
    obj = load_file(path)
    if isinstance(obj, Mapping) and isinstance(obj.get("model"), Mapping):
        obj = obj["model"]  # arcdata training checkpoint
    if not isinstance(obj, Mapping) or not all(isinstance(v, torch.Tensor) for v in obj.values()):
        raise CheckpointError(f"{path}: not a state dict of tensors")
    return dict(obj)


def load_file(path: Path) -> object:
    """``torch.load`` (weights only, to the CPU) that names the file when it cannot be read."""
    if path.is_file() and path.stat().st_size == 0:
        raise CheckpointError(f"{path}: empty checkpoint file (0 bytes; an interrupted copy?)")
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except FileNotFoundError:
        raise
    except Exception as e:  # pickle errors, truncated files, non-tensor payloads
        raise CheckpointError(
            f"{path}: cannot be read as a weights-only checkpoint ({_reason(e)}); is it a "
            "torch checkpoint, and complete?"
        ) from None


def _reason(error: Exception) -> str:
    """The informative part of a ``torch.load`` failure, on one short line (torch's
    weights-only message is a page of advice around one line of cause)."""
    text = str(error)
    if "WeightsUnpickler error:" in text:
        text = text.split("WeightsUnpickler error:", 1)[1].split("Check the documentation")[0]
    text = " ".join(text.split())
    if len(text) > 160:
        text = text[:157] + "..."
    return f"{type(error).__name__}: {text}" if text else type(error).__name__


def load_model_state(
    model: nn.Module,
    state: Mapping[str, torch.Tensor] | str | os.PathLike,
    *,
    strict: bool = True,
) -> dict[str, list[str]]:
    """Load ``state`` (a dict or a file) into ``model`` after checking every key and shape.

    Returns the report ``{"missing", "unexpected", "mismatched"}``. With ``strict`` any entry is a
    :class:`CheckpointError`; otherwise only the matching tensors are loaded. A mismatched
    ``inner.puzzle_emb.weights`` usually means the dataset was built with a different identifier
    map than the checkpoint was trained on.
    """
    source = str(state) if isinstance(state, (str, os.PathLike)) else "state dict"
    if isinstance(state, (str, os.PathLike)):
        state = read_state_dict(state)
    state = strip_prefixes(state)
    expected = model.state_dict()

    missing = sorted(set(expected) - set(state))
    unexpected = sorted(set(state) - set(expected))
    mismatched = sorted(
        f"{k}: checkpoint {tuple(state[k].shape)} vs model {tuple(expected[k].shape)}"
        for k in set(state) & set(expected)
        if state[k].shape != expected[k].shape
    )
    report = {"missing": missing, "unexpected": unexpected, "mismatched": mismatched}
    if strict and (missing or unexpected or mismatched):
        lines = [f"{source} does not fit the model:"]
        for what, keys in report.items():
            if keys:
                lines.append(
                    f"  {what} ({len(keys)}): "
                    + ", ".join(keys[:20])
                    + (" ..." if len(keys) > 20 else "")
                )
        if any(m.startswith("inner.puzzle_emb.weights") for m in mismatched):
            lines.append(
                "  (puzzle_emb.weights: the dataset's identifier count differs from the checkpoint's)"
            )
        raise CheckpointError("\n".join(lines))

    bad = {m.split(":", 1)[0] for m in mismatched}
    usable = {k: v for k, v in state.items() if k in expected and k not in bad}
    model.load_state_dict(usable, strict=False)
    return report


def atomic_save(obj: object, path: str | os.PathLike) -> None:
    """torch.save to a temporary file then rename, so a crash never leaves half a checkpoint."""
    path = Path(path)
    tmp = path.with_name(path.name + ".tmp")
    torch.save(obj, tmp)
    os.replace(tmp, path)


def save_run_checkpoint(
    run_dir: Path,
    step: int,
    shared: dict | None,
    own: dict,
    rank: int,
    barrier: Callable[[], object] | None = None,
    keep: int = 1,
) -> Path:
    """Write ``checkpoints/step_N/`` (``state.pt`` from rank 0's ``shared``, ``rankR.pt`` from
    each rank's ``own``), then point ``checkpoints/latest`` at it and prune to ``keep`` folders.

    ``latest`` moves only once every file is complete, so a crash mid-save resumes from the
    previous checkpoint. ``barrier`` synchronises ranks (``torch.distributed.barrier``).
    """
    root = Path(run_dir) / "checkpoints"
    folder = root / f"step_{step:08d}"
    sync = barrier or (lambda: None)
    if rank == 0:
        folder.mkdir(parents=True, exist_ok=True)
    sync()
    atomic_save({"step": step, **own}, folder / f"rank{rank}.pt")
    if rank == 0:
        atomic_save(
            {"format": RUN_CHECKPOINT_FORMAT, "step": step, **(shared or {})}, folder / "state.pt"
        )
    sync()
    if rank == 0:
        tmp = root / "latest.tmp"
        tmp.write_text(folder.name)
        tmp.replace(root / "latest")
        old = sorted(p for p in root.glob("step_*") if p.is_dir() and p.name != folder.name)
        for p in old[: max(0, len(old) - (keep - 1))]:
            shutil.rmtree(p, ignore_errors=True)
    return folder


def load_run_checkpoint(run_dir: Path, rank: int) -> tuple[dict, dict]:
    """(rank 0's shared state, this rank's own state) of the newest complete checkpoint."""
    pointer = Path(run_dir) / "checkpoints" / "latest"
    if not pointer.is_file():
        raise CheckpointError(f"{run_dir}: nothing to resume (no checkpoints/latest)")
    name = pointer.read_text().strip()
    if not name:
        raise CheckpointError(f"{pointer} is empty; it should name a step_N folder beside it")
    folder = pointer.parent / name
    try:
        shared = load_file(folder / "state.pt")
        own = load_file(folder / f"rank{rank}.pt")
    except FileNotFoundError as e:
        raise CheckpointError(f"{folder}: incomplete checkpoint ({e.filename} missing)") from None
    if not isinstance(shared, dict) or shared.get("format") != RUN_CHECKPOINT_FORMAT:
        raise CheckpointError(f"{folder}/state.pt is not an arcdata training checkpoint")
    if own["step"] != shared["step"]:
        raise CheckpointError(f"{folder}: rank {rank} state is from another step")
    return shared, own
