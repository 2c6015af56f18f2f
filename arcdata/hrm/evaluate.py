"""Evaluation on a held-out split: every example runs all ``halt_max_steps`` segments.

:func:`run_segments` is the one place a whole batch is taken through every segment from a fresh
carry: the metrics pass here (:func:`evaluate`, also run by the trainer) and the reasoning
traces of ``arcdata evaluate`` (:func:`arcdata.hrm.trace.run_traces`) build on it. The
predictions of ``arcdata evaluate`` (:func:`arcdata.hrm.infer.predict`) need slots refilled one
by one as examples halt, so they run their own loop, one segment per call.

Reported per example, then averaged: token accuracy, exact accuracy, q-halt accuracy
((q_halt >= 0) == exact), mean steps (always the maximum here) and ``halt_step``, the first segment
at which the model itself would have halted (its halting rule), which tells how much compute an
early-stopping inference would save.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import torch

from arcdata.tokens import IGNORE_LABEL

from .act import HRM, ACTOutput, Carry, wants_halt
from .data import to_device
from .distributed import accumulation_dtype, all_reduce_sums
from .loss import act_loss


@dataclass
class Segments:
    """A batch after its last segment."""

    carry: Carry  # every slot halted, steps == halt_max_steps
    output: ACTOutput  # of the last segment
    halt_step: torch.Tensor  # int64 (B,): first segment the model would halt at, else the max
    trace: torch.Tensor | None  # uint8 (N, steps, T): argmax after each segment, first N rows


@torch.inference_mode()
def run_segments(
    model: HRM,
    batch: dict[str, torch.Tensor],
    *,
    trace: int = 0,
    autocast: contextlib.AbstractContextManager | None = None,
    on_segment: Callable[[int, Carry, ACTOutput], None] | None = None,
) -> Segments:
    """Run every segment of ``batch`` (already on the model's device) from a fresh carry.

    The model must be in eval mode: only then does every slot run all ``halt_max_steps``
    segments, so the whole batch halts together after the last one, and the forward skips what
    only training needs (the Q-learning target's extra inner forward, the exploration draws, the
    puzzle-embedding rows kept for the sparse optimiser). Inference mode, stricter than
    ``no_grad``, also drops autograd's version counting and view tracking; its tensors may be
    read outside it (metrics, predictions) but never updated in place.

    ``on_segment(step, carry, output)``, when given, sees every segment (1-based ``step``): the
    reasoning traces read the latent states there without a second loop over segments.
    """
    max_steps = model.config.halt_max_steps
    carry = model.initial_carry(batch)
    b = batch["inputs"].shape[0]
    halt_step = torch.full((b,), max_steps, dtype=torch.int64, device=batch["inputs"].device)
    decided = torch.zeros_like(halt_step, dtype=torch.bool)
    per_step = []
    with autocast or contextlib.nullcontext():
        for step in range(1, max_steps + 1):
            carry, out = model(carry, batch)
            wants = wants_halt(model.config, out.q_halt_logits, out.q_continue_logits)
            halt_step = torch.where(wants & ~decided, step, halt_step)
            decided |= wants
            if on_segment is not None:
                on_segment(step, carry, out)
            if trace:
                per_step.append(out.logits[:trace].argmax(-1).to(torch.uint8))
    traced = torch.stack(per_step, 1) if per_step else None
    return Segments(carry, out, halt_step, traced)


@torch.no_grad()
def evaluate(
    model: HRM,
    batches: Iterable[dict[str, Any]],
    device: torch.device,
    *,
    loss_type: str = "stablemax",
    autocast: contextlib.AbstractContextManager | None = None,
    max_batches: int | None = None,
) -> dict[str, float]:
    """Mean metrics over all real (non-padding) examples, summed across ranks."""
    was_training = model.training
    model.eval()
    keys = (
        "count",
        "accuracy",
        "exact_accuracy",
        "q_halt_accuracy",
        "steps",
        "halt_step",
        "lm_loss",
        "q_halt_loss",
    )
    # Every key exists from the start: a rank with no batch must still join the all-reduce.
    dtype = accumulation_dtype(device)
    sums = {k: torch.zeros((), dtype=dtype, device=device) for k in keys}
    try:
        for i, batch in enumerate(batches):
            if max_batches is not None and i >= max_batches:
                break
            batch = to_device(batch, device)
            count = batch.get("count")
            if count is not None and count < batch["labels"].shape[0]:
                # Padding rows should be unlabelled already; make sure whatever the stream did.
                batch["labels"] = batch["labels"].clone()
                batch["labels"][int(count) :] = IGNORE_LABEL
            seg = run_segments(model, batch, autocast=autocast)
            with autocast or contextlib.nullcontext():
                _, metrics = act_loss(seg.output, seg.carry, loss_type)
            carry = seg.carry
            valid = carry.halted & ((carry.data["labels"] != IGNORE_LABEL).sum(-1) > 0)
            metrics["halt_step"] = torch.where(valid, seg.halt_step, 0).sum()
            for k in keys:
                sums[k] += metrics[k].to(dtype)
    finally:
        model.train(was_training)
    totals = all_reduce_sums(sums, device)
    n = totals.pop("count")
    result = {k: v / max(n, 1.0) for k, v in totals.items()}
    result["count"] = n
    return result
