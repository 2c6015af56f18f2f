"""Predictions of a trained HRM on every example of a split, under a halting rule.

The model works on a fixed set of slots (the batch). Each call runs one segment for every slot;
a slot whose example is done is refilled from a queue of the split's examples on the next call,
so batches stay full whatever the halting rule:

* ``halt="max"``: every example runs all ``halt_max_steps`` segments (the reference's
  evaluation). Slots then finish together, so this is batch after batch.
* ``halt="q"``: a slot stops at the first segment where the model's own halting rule fires
  (:func:`arcdata.hrm.act.wants_halt`), or at the maximum, and takes the next example.

Whatever the rule, q_halt, q_continue and exactness are recorded after every segment an
example ran, so a ``max`` run also tells what the ``q`` rule would have answered.
``ids="blank"`` sets every puzzle identifier to 0 (no puzzle embedding to look up).

Under torchrun each rank runs its own share of the stream's batches; :func:`gather` brings the
shares to rank 0 sorted by example index, so the table is the one a single process writes.
``max_examples`` keeps the examples whose index is below it, a rule every rank applies to its
own share, so the same examples are scored whatever the world size.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass

import numpy as np
import torch

from arcdata.tokens import IGNORE_LABEL

from .act import HRM, wants_halt
from .data import to_device

HALT_RULES = ("max", "q")
ID_MODES = ("real", "blank")
FED_KEYS = ("inputs", "labels", "puzzle_identifiers", "example_index")


@dataclass
class Predictions:
    example_index: np.ndarray  # int64 [N] row of the split, ascending
    tokens: np.ndarray  # uint8 [N, T] argmax after the example's last segment
    q_halt_steps: np.ndarray  # float32 [N, S] q_halt logit after each segment (nan: not run)
    q_continue_steps: np.ndarray  # float32 [N, S]
    exact_steps: np.ndarray  # bool [N, S] answer exactly right after each segment
    segments: np.ndarray  # int16 [N] segments the example ran
    exact: np.ndarray  # bool [N] after its last segment
    token_accuracy: np.ndarray  # float32 [N]
    trace: np.ndarray  # uint8 [K, S, T] answers after every segment, first K examples
    trace_rows: np.ndarray  # int64 [K] their example indices
    halt: str = "max"
    ids: str = "real"
    q_halt_alone: bool = False  # the model's halting rule: q_halt > 0 (else q_halt > q_continue)

    @property
    def q_halt(self) -> np.ndarray:
        """float32 [N]: q_halt after each example's last segment."""
        return self._last(self.q_halt_steps)

    @property
    def q_continue(self) -> np.ndarray:
        return self._last(self.q_continue_steps)

    def _last(self, per_step: np.ndarray) -> np.ndarray:
        if not len(per_step):
            return np.zeros(0, np.float32)
        return per_step[np.arange(len(per_step)), self.segments.astype(np.int64) - 1]


def _real_rows(
    batches: Iterable[dict], device: torch.device, limit: int | None
) -> Iterator[tuple[int, dict]]:
    """(batch size, the real non-padding rows on ``device`` with example index < ``limit``)
    of each batch. An eval stream's rows ascend, so the first row at or past the limit ends it."""
    for batch in batches:
        batch = to_device(batch, device)
        size = int(batch["inputs"].shape[0])
        real = int(batch["count"]) if "count" in batch else size
        rows = {k: batch[k][:real] for k in FED_KEYS}
        if limit is not None and real:
            if int(rows["example_index"][0]) >= limit:
                return
            keep = rows["example_index"] < limit
            if not bool(keep.all()):
                rows = {k: v[keep] for k, v in rows.items()}
        yield size, rows


class _Queue:
    """Examples waiting for a slot, drawn lazily from the stream."""

    def __init__(self, rows: Iterator[tuple[int, dict]]) -> None:
        self.rows = rows
        self.pending: dict[str, torch.Tensor] | None = None
        self.batch_size = 0  # of the stream's first batch: the number of slots

    def prime(self) -> dict[str, torch.Tensor] | None:
        """Load the first batch; its rows (for shapes), or None for an empty stream."""
        first = next(self.rows, None)
        if first is None:
            return None
        self.batch_size, self.pending = first
        return self.pending

    def take(self, n: int) -> dict[str, torch.Tensor] | None:
        while self._size() < n:
            nxt = next(self.rows, None)
            if nxt is None:
                break
            nxt = nxt[1]
            self.pending = (
                nxt
                if self.pending is None
                else {k: torch.cat([self.pending[k], nxt[k]]) for k in FED_KEYS}
            )
        n = min(n, self._size())
        if n <= 0:
            return None
        out = {k: v[:n] for k, v in self.pending.items()}
        self.pending = {k: v[n:] for k, v in self.pending.items()}
        return out

    def _size(self) -> int:
        return 0 if self.pending is None else int(self.pending["inputs"].shape[0])


@torch.inference_mode()
def predict(
    model: HRM,
    batches: Iterable[dict],
    device: torch.device,
    *,
    halt: str = "max",
    ids: str = "real",
    max_examples: int | None = None,
    trace: int = 4,
) -> Predictions:
    """Every (real) example of an eval-mode stream (this rank's share of it) through the model
    under ``halt``; only examples with index below ``max_examples`` when given."""
    if halt not in HALT_RULES or ids not in ID_MODES:
        raise ValueError(f"halt must be one of {HALT_RULES} and ids one of {ID_MODES}")
    model.eval()
    cfg = model.config
    steps = cfg.halt_max_steps
    queue = _Queue(_real_rows(batches, device, max_examples))
    seed = queue.prime()
    if seed is None:  # a rank whose share is empty still says which rule the model halts by
        empty = _empty(steps, cfg.seq_len, halt, ids)
        empty.q_halt_alone = bool(cfg.halts_on_q_halt_alone)
        return empty
    b = queue.batch_size
    feed = {
        k: torch.zeros((b, *v.shape[1:]), dtype=v.dtype, device=device) for k, v in seed.items()
    }
    carry = model.initial_carry(feed)
    active = torch.zeros(b, dtype=torch.bool, device=device)
    q_h = torch.full((b, steps), float("nan"), device=device)
    q_c = torch.full((b, steps), float("nan"), device=device)
    ex = torch.zeros((b, steps), dtype=torch.bool, device=device)
    traced = torch.zeros((b, steps, cfg.seq_len), dtype=torch.uint8, device=device)
    done: dict[str, list] = {k: [] for k in ("idx", "tok", "qh", "qc", "ex", "seg", "acc", "tr")}
    loaded = 0  # examples put into slots so far (the first ``trace`` are traced)
    order = torch.zeros(b, dtype=torch.int64, device=device)
    while True:
        free = torch.nonzero(carry.halted, as_tuple=True)[0]
        if len(free):
            rows = queue.take(len(free))
            n = 0 if rows is None else int(rows["inputs"].shape[0])
            slots = free[:n]
            active[free] = False
            if n:
                for k in FED_KEYS:
                    feed[k][slots] = rows[k]
                if ids == "blank":
                    feed["puzzle_identifiers"][slots] = 0
                active[slots] = True
                order[slots] = torch.arange(loaded, loaded + n, device=device)
                loaded += n
                q_h[slots], q_c[slots], ex[slots] = float("nan"), float("nan"), False
        if not active.any():
            break
        carry, out = model(carry, feed)
        pred = out.logits.argmax(-1)
        labels = feed["labels"]
        valid = labels != IGNORE_LABEL
        step = (carry.steps.long() - 1).clamp(0, steps - 1)
        at = torch.arange(b, device=device)
        q_h[at, step] = out.q_halt_logits.float()
        q_c[at, step] = out.q_continue_logits.float()
        ex[at, step] = ((pred == labels) | ~valid).all(-1)
        if trace:
            traced[at, step] = pred.to(torch.uint8)
        stop = carry.halted
        if halt == "q":
            stop = stop | wants_halt(cfg, out.q_halt_logits, out.q_continue_logits)
        stop = stop | ~active
        carry.halted = stop
        fin = torch.nonzero(stop & active, as_tuple=True)[0]
        if len(fin):
            right = ((pred[fin] == labels[fin]) & valid[fin]).sum(-1).float()
            done["idx"].append(feed["example_index"][fin].cpu())
            done["tok"].append(pred[fin].to(torch.uint8).cpu())
            done["qh"].append(q_h[fin].cpu())
            done["qc"].append(q_c[fin].cpu())
            done["ex"].append(ex[fin].cpu())
            done["seg"].append(carry.steps[fin].cpu())
            done["acc"].append((right / valid[fin].sum(-1).clamp(min=1)).cpu())
            keep = fin[order[fin] < trace]
            done["tr"].append((feed["example_index"][keep].cpu(), traced[keep].cpu()))
    preds = _assemble(done, steps, cfg.seq_len, halt, ids)
    preds.q_halt_alone = bool(cfg.halts_on_q_halt_alone)
    return preds


def _assemble(done: dict, steps: int, seq: int, halt: str, ids: str) -> Predictions:
    if not done["idx"]:
        return _empty(steps, seq, halt, ids)
    idx = torch.cat(done["idx"]).numpy().astype(np.int64)
    order = np.argsort(idx, kind="stable")

    def cat(key, dtype):
        return torch.cat(done[key]).numpy().astype(dtype)[order]

    tr_idx = torch.cat([t[0] for t in done["tr"]]).numpy().astype(np.int64)
    tr = torch.cat([t[1] for t in done["tr"]]).numpy()
    tr_order = np.argsort(tr_idx, kind="stable")
    exact_steps = cat("ex", bool)
    segments = cat("seg", np.int16)
    return Predictions(
        example_index=idx[order],
        tokens=cat("tok", np.uint8).reshape(-1, seq),
        q_halt_steps=cat("qh", np.float32),
        q_continue_steps=cat("qc", np.float32),
        exact_steps=exact_steps,
        segments=segments,
        exact=exact_steps[np.arange(len(idx)), segments.astype(np.int64) - 1],
        token_accuracy=cat("acc", np.float32),
        trace=tr[tr_order].reshape(-1, steps, seq),
        trace_rows=tr_idx[tr_order],
        halt=halt,
        ids=ids,
    )


def _empty(steps: int, seq: int, halt: str, ids: str) -> Predictions:
    z = np.zeros
    return Predictions(
        z(0, np.int64), z((0, seq), np.uint8), z((0, steps), np.float32),
        z((0, steps), np.float32), z((0, steps), bool), z(0, np.int16), z(0, bool),
        z(0, np.float32), z((0, steps, seq), np.uint8), z(0, np.int64), halt, ids,
    )  # fmt: skip


def merge(parts: list[Predictions]) -> Predictions:
    """Several ranks' predictions as one table, sorted by example index (and their traces)."""
    first = parts[0]
    order = np.argsort(np.concatenate([p.example_index for p in parts]), kind="stable")
    tr_order = np.argsort(np.concatenate([p.trace_rows for p in parts]), kind="stable")

    def cat(name: str, rows: np.ndarray) -> np.ndarray:
        return np.concatenate([getattr(p, name) for p in parts])[rows]

    per_example = (
        "example_index", "tokens", "q_halt_steps", "q_continue_steps", "exact_steps",
        "segments", "exact", "token_accuracy",
    )  # fmt: skip
    fields = {name: cat(name, order) for name in per_example}
    fields |= {name: cat(name, tr_order) for name in ("trace", "trace_rows")}
    return Predictions(**fields, halt=first.halt, ids=first.ids, q_halt_alone=first.q_halt_alone)


def gather(preds: Predictions) -> Predictions | None:
    """Every rank's predictions on rank 0, as one table (None on the other ranks); the
    predictions themselves when no process group is running."""
    import torch.distributed as dist

    if not (dist.is_available() and dist.is_initialized()) or dist.get_world_size() == 1:
        return preds
    rank = dist.get_rank()
    parts: list | None = [None] * dist.get_world_size() if rank == 0 else None
    dist.gather_object(preds, parts, dst=0)
    return merge(parts) if rank == 0 else None
