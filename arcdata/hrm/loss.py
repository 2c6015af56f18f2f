"""Losses and per-segment metrics of HRM training.

The token loss of each sequence is divided by its own number of supervised tokens, so a 3x3 ARC
output weighs as much as a 30x30 one; the Q heads learn "is the answer already right" (halt) and
"how good is continuing" (bootstrapped from the next segment).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from arcdata.tokens import IGNORE_LABEL

from .act import ACTOutput, Carry


def log_stablemax(x: torch.Tensor, dim: int = -1) -> torch.Tensor:
    """log of s(x)/sum s(x) with s(x) = x+1 (x >= 0), 1/(1-x) (x < 0).

    s grows linearly rather than exponentially, so a few confident logits cannot drive the loss
    to saturate: this is what keeps small-data training (Sudoku-1k, ARC) from collapsing.
    """
    s = torch.where(x < 0, 1.0 / (1.0 - x), x + 1.0)
    return torch.log(s / s.sum(dim=dim, keepdim=True))


def stablemax_cross_entropy(logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """Per-token stablemax cross-entropy in float64 (0 where labels are ignored). Shapes [..., V] / [...].

    float64 as in the reference: for confident predictions s_y / sum(s) is within float32
    rounding of 1, and the loss and its gradient would round to zero. MPS has no float64 and
    gets float32.
    """
    dtype = torch.float32 if logits.device.type == "mps" else torch.float64
    logprobs = log_stablemax(logits.to(dtype), dim=-1)
    valid = labels != IGNORE_LABEL
    picked = torch.gather(logprobs, -1, torch.where(valid, labels, 0).long().unsqueeze(-1)).squeeze(
        -1
    )
    return -torch.where(valid, picked, 0.0)


def softmax_cross_entropy(logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """Per-token softmax cross-entropy in float32 (0 where labels are ignored)."""
    flat = F.cross_entropy(
        logits.float().reshape(-1, logits.shape[-1]),
        labels.long().reshape(-1),
        ignore_index=IGNORE_LABEL,
        reduction="none",
    )
    return flat.view(labels.shape)


LOSSES = {"stablemax": stablemax_cross_entropy, "softmax": softmax_cross_entropy}


def act_loss(
    out: ACTOutput, carry: Carry, loss_type: str = "stablemax"
) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
    """Summed (not averaged) loss of one segment and metric sums over the slots that just halted.

    The caller divides the loss by the global batch size, so ranks' gradients simply add up.
    Metrics are sums; divide by ``metrics["count"]`` to report means.
    """
    labels = carry.data["labels"]
    mask = labels != IGNORE_LABEL
    counts = mask.sum(-1)
    divisor = counts.clamp_min(1)

    with torch.no_grad():
        correct = mask & (out.logits.argmax(-1) == labels)
        seq_correct = correct.sum(-1) == counts
        valid = carry.halted & (counts > 0)
        metrics = {
            "count": valid.sum(),
            "accuracy": torch.where(valid, correct.sum(-1) / divisor, 0.0).sum(),
            "exact_accuracy": (valid & seq_correct).sum(),
            "q_halt_accuracy": (valid & ((out.q_halt_logits >= 0) == seq_correct)).sum(),
            "steps": torch.where(valid, carry.steps, 0).sum(),
        }

    token_loss = LOSSES[loss_type](out.logits, labels)
    lm_loss = (token_loss / divisor.unsqueeze(-1)).sum()
    # Rows without any label (eval padding) have no right answer to learn halting from.
    labelled = (counts > 0).to(out.q_halt_logits.dtype)
    q_halt_loss = F.binary_cross_entropy_with_logits(
        out.q_halt_logits, seq_correct.to(out.q_halt_logits.dtype), weight=labelled, reduction="sum"
    )
    loss = lm_loss + 0.5 * q_halt_loss
    metrics.update(lm_loss=lm_loss.detach(), q_halt_loss=q_halt_loss.detach())
    if out.target_q_continue is not None:
        q_continue_loss = F.binary_cross_entropy_with_logits(
            out.q_continue_logits, out.target_q_continue, weight=labelled, reduction="sum"
        )
        loss = loss + 0.5 * q_continue_loss
        metrics["q_continue_loss"] = q_continue_loss.detach()
    return loss, metrics
