import math

import torch

from arcdata.hrm.layers import PuzzleEmbedding
from arcdata.hrm.optim import AdamAtan2, SparseSignSGD


def test_adam_atan2_matches_formula():
    torch.manual_seed(0)
    p = torch.nn.Parameter(torch.randn(5))
    opt = AdamAtan2([p], lr=0.1, betas=(0.9, 0.95), weight_decay=0.5)
    ref, m, v = p.detach().clone().double(), torch.zeros(5).double(), torch.zeros(5).double()
    for t in range(1, 4):
        g = torch.randn(5)
        p.grad = g.clone()
        opt.step()
        g = g.double()
        m = 0.9 * m + 0.1 * g
        v = 0.95 * v + 0.05 * g * g
        m_hat, v_hat = m / (1 - 0.9**t), v / (1 - 0.95**t)
        ref = ref * (1 - 0.1 * 0.5) - 0.1 * 1.27 * torch.atan2(m_hat, v_hat.sqrt())
        assert torch.allclose(p.detach().double(), ref, atol=1e-6)


def test_adam_atan2_update_is_bounded_and_state_round_trips():
    p = torch.nn.Parameter(torch.zeros(3))
    opt = AdamAtan2([p], lr=0.01, weight_decay=0.0)
    p.grad = torch.tensor([1e30, -1e-30, 0.0])
    opt.step()
    assert p.abs().max().item() <= 0.01 * 1.27 * math.pi / 2 + 1e-9
    assert p[2].item() == 0.0
    fresh = AdamAtan2([torch.nn.Parameter(torch.zeros(3))], lr=0.01)
    fresh.load_state_dict(opt.state_dict())
    assert fresh.state_dict()["state"][0]["step"].item() == 1


def test_sparse_sign_sgd_touches_only_batch_rows():
    emb = PuzzleEmbedding(10, 4)
    emb.weights.fill_(1.0)
    opt = SparseSignSGD(emb, lr=0.1, weight_decay=0.5)
    ids = torch.tensor([3, 7, 3], dtype=torch.int32)
    out = emb(ids)
    assert out.shape == (3, 4) and out.is_leaf and out.requires_grad
    grad = torch.tensor([[1.0, -1.0, 1.0, 0.0], [2.0, 2.0, -2.0, 0.0], [-3.0, -3.0, 1.0, 0.0]])
    (out * grad).sum().backward()
    opt.step()
    w = emb.weights
    decayed = 1.0 * (1 - 0.1 * 0.5)
    # id 3: gradients summed first (1-3, -1-3, 1+1, 0) -> signs (-1, -1, +1, 0)
    assert torch.allclose(
        w[3], torch.tensor([decayed + 0.1, decayed + 0.1, decayed - 0.1, decayed])
    )
    assert torch.allclose(
        w[7], torch.tensor([decayed - 0.1, decayed - 0.1, decayed + 0.1, decayed])
    )
    untouched = [i for i in range(10) if i not in (3, 7)]
    assert torch.all(w[untouched] == 1.0)  # neither moved nor decayed
    # no dense gradient and no optimiser state for the table
    assert emb.weights.grad is None and not emb.weights.requires_grad
    assert len(opt.state) == 0
    opt.zero_grad()
    assert emb.local_weights is None


def test_sparse_embedding_has_no_local_copy_in_eval_or_no_grad():
    emb = PuzzleEmbedding(4, 2)
    with torch.no_grad():
        emb(torch.tensor([1]))
    assert emb.local_weights is None
    emb.eval()
    emb(torch.tensor([1]))
    assert emb.local_weights is None
