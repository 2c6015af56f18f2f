"""One evaluation function for every segment: the metrics pass and the predictions pass share it."""

from __future__ import annotations

import numpy as np
import torch

from arcdata.hrm.act import HRM
from arcdata.hrm.evaluate import evaluate, run_segments
from arcdata.hrm.report import predict
from tests.hrm.hrm_synthetic import tiny_batch, tiny_config


class Counting(HRM):
    """An HRM that counts its segments, to see how many each pass runs."""

    calls = 0

    def forward(self, carry, batch, generator=None):
        self.calls += 1
        return super().forward(carry, batch, generator)


def _model(**kw) -> Counting:
    torch.manual_seed(0)
    model = Counting(tiny_config(**kw))
    with torch.no_grad():  # a q head that sometimes halts early, so halt_step is informative
        model.inner.q_head.weight.normal_(0, 1.0)
        model.inner.q_head.bias.zero_()
    return model.eval()


def _batches(cfg, sizes=(4, 4, 3)):
    """Eval-mode batches: ``count`` real rows, the rest padding with ignored labels."""
    start = 0
    for i, real in enumerate(sizes):
        batch = tiny_batch(cfg, 4, seed=i)
        batch["labels"][real:] = -100
        batch["count"] = real
        batch["example_index"] = torch.arange(start, start + 4)
        start += real
        yield batch


def test_every_segment_from_a_fresh_carry():
    model = _model(halt_max_steps=4)
    batch = tiny_batch(model.config, 5)
    seg = run_segments(model, batch, trace=2)
    assert model.calls == 4
    assert seg.output.logits.is_inference() and seg.carry.z_H.is_inference()
    assert seg.output.target_q_continue is None  # no Q-learning target outside training
    assert model.inner.puzzle_emb.local_weights is None  # no rows kept for the sparse optimiser
    assert seg.carry.halted.all() and (seg.carry.steps == 4).all()
    assert seg.trace.shape == (2, 4, model.config.seq_len) and seg.trace.dtype == torch.uint8
    assert torch.equal(seg.trace[:, -1], seg.output.logits[:2].argmax(-1).to(torch.uint8))
    assert ((seg.halt_step >= 1) & (seg.halt_step <= 4)).all()
    # The same batch again gives the same answer: nothing carries over between calls.
    again = run_segments(model, batch)
    assert torch.equal(again.output.logits, seg.output.logits) and again.trace is None
    # halt_step is the first segment at which q_halt > q_continue, found by stepping by hand.
    carry, first = model.initial_carry(batch), torch.full((5,), 4)
    for step in range(1, 4):
        carry, out = model(carry, batch)
        wants = (out.q_halt_logits > out.q_continue_logits) & (first == 4)
        first = torch.where(wants, step, first)
    assert torch.equal(seg.halt_step, first) and (first < 4).any()


def test_metrics_and_predictions_passes_agree():
    model = _model(halt_max_steps=3)
    metrics = evaluate(model, _batches(model.config), torch.device("cpu"))
    assert model.calls == 3 * 3  # every segment of every batch
    preds = predict(model, _batches(model.config), torch.device("cpu"), trace=5)
    assert model.calls == 2 * 3 * 3
    assert metrics["count"] == len(preds.exact) == 11
    np.testing.assert_allclose(metrics["exact_accuracy"], preds.exact.mean())
    np.testing.assert_allclose(metrics["accuracy"], preds.token_accuracy.mean(), rtol=1e-6)
    np.testing.assert_allclose(
        metrics["q_halt_accuracy"], ((preds.q_halt >= 0) == preds.exact).mean()
    )
    assert preds.trace.shape == (5, 3, model.config.seq_len)
    assert preds.trace_rows.tolist() == [0, 1, 2, 3, 4]
    assert metrics["steps"] == 3.0
