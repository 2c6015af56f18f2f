import math

import pytest
import torch
import torch.nn.functional as F

from arcdata.hrm.act import ACTOutput, Carry
from arcdata.hrm.loss import act_loss, log_stablemax, softmax_cross_entropy, stablemax_cross_entropy


def test_stablemax_values():
    x = torch.tensor([[2.0, 0.0, -1.0]], dtype=torch.float64)
    s = torch.tensor([3.0, 1.0, 0.5], dtype=torch.float64)  # x+1, x+1, 1/(1-x)
    assert torch.allclose(log_stablemax(x), torch.log(s / s.sum()))
    assert torch.allclose(log_stablemax(torch.randn(4, 7)).exp().sum(-1), torch.ones(4))


def test_stablemax_cross_entropy_float64_and_ignore():
    logits = torch.tensor([[[2.0, 0.0, -1.0], [0.0, 0.0, 0.0]]])
    labels = torch.tensor([[2, -100]])
    loss = stablemax_cross_entropy(logits, labels)
    assert loss.dtype == torch.float64
    assert math.isclose(loss[0, 0].item(), -math.log(0.5 / 4.5))
    assert loss[0, 1].item() == 0.0


def test_softmax_cross_entropy_matches_torch():
    logits, labels = torch.randn(2, 5, 6), torch.randint(0, 6, (2, 5))
    labels[0, 1] = -100
    expected = F.cross_entropy(logits.transpose(1, 2), labels, reduction="none", ignore_index=-100)
    assert torch.allclose(softmax_cross_entropy(logits, labels), expected)


def _case():
    logits = torch.randn(2, 4, 5, requires_grad=True)
    labels = torch.tensor([[1, 2, 3, 4], [1, -100, -100, -100]])  # 4 and 1 valid tokens
    out = ACTOutput(
        logits, torch.tensor([0.3, -0.2]), torch.tensor([0.1, 0.4]), torch.tensor([0.7, 0.2])
    )
    carry = Carry(
        z_H=torch.zeros(1), z_L=torch.zeros(1), steps=torch.tensor([3, 5], dtype=torch.int32),
        halted=torch.tensor([True, False]), data={"labels": labels},
    )  # fmt: skip
    return out, carry, labels


@pytest.mark.parametrize("loss_type", ["stablemax", "softmax"])
def test_act_loss_normalises_per_sequence_and_adds_q_losses(loss_type):
    out, carry, labels = _case()
    loss, metrics = act_loss(out, carry, loss_type)
    fn = stablemax_cross_entropy if loss_type == "stablemax" else softmax_cross_entropy
    tok = fn(out.logits, labels)
    lm = tok[0].sum() / 4 + tok[1].sum() / 1
    seq_correct = (out.logits.argmax(-1) == labels).where(labels != -100, True).all(-1).float()
    qh = F.binary_cross_entropy_with_logits(out.q_halt_logits, seq_correct, reduction="sum")
    qc = F.binary_cross_entropy_with_logits(
        out.q_continue_logits, out.target_q_continue, reduction="sum"
    )
    assert torch.allclose(loss, (lm + 0.5 * (qh + qc)).to(loss.dtype))
    loss.backward()
    assert out.logits.grad is not None
    # metrics only count the halted slot
    assert metrics["count"].item() == 1 and metrics["steps"].item() == 3


def test_act_loss_metrics():
    labels = torch.tensor([[1, 2, -100], [1, 2, 0]])
    logits = F.one_hot(torch.tensor([[1, 2, 0], [1, 0, 0]]), 4).float() * 10
    out = ACTOutput(logits, torch.tensor([1.0, 1.0]), torch.zeros(2), None)
    carry = Carry(
        torch.zeros(1),
        torch.zeros(1),
        torch.tensor([2, 4]),
        torch.tensor([True, True]),
        {"labels": labels},
    )
    _, m = act_loss(out, carry)
    assert m["count"].item() == 2
    assert m["exact_accuracy"].item() == 1  # first right, second has one wrong token
    assert math.isclose(m["accuracy"].item(), 1.0 + 2 / 3, rel_tol=1e-6)
    assert m["q_halt_accuracy"].item() == 1  # predicts "right" for both: right once
    assert m["steps"].item() == 6
    assert "q_continue_loss" not in m
