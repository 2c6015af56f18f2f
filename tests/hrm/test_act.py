import torch

from arcdata.hrm.act import HRM
from tests.hrm.hrm_synthetic import tiny_batch, tiny_config


def _model(**kw) -> HRM:
    torch.manual_seed(0)
    return HRM(tiny_config(**kw))


def _set_q(model: HRM, halt: float, cont: float) -> None:
    with torch.no_grad():
        model.inner.q_head.bias.copy_(torch.tensor([halt, cont]))


def test_evaluation_runs_all_segments():
    model = _model(halt_max_steps=5).eval()
    _set_q(model, 5.0, -5.0)  # the model "wants" to halt at once; evaluation must not
    batch = tiny_batch(model.config)
    carry = model.initial_carry(batch)
    segments = 0
    while True:
        carry, out = model(carry, batch)
        segments += 1
        assert out.target_q_continue is None
        if carry.halted.all():
            break
        assert not carry.halted.any()
    assert segments == 5 and torch.all(carry.steps == 5)


def test_training_halts_on_q_and_exploration_delays_it():
    model = _model(halt_max_steps=4, halt_exploration_prob=0.0).train()
    _set_q(model, 5.0, -5.0)
    batch = tiny_batch(model.config, batch_size=64)
    carry, _ = model(model.initial_carry(batch), batch)
    assert carry.halted.all()

    model.config.halt_exploration_prob = 1.0  # every slot draws a minimum depth of 2..4
    carry, _ = model(model.initial_carry(batch), batch, torch.Generator().manual_seed(0))
    assert not carry.halted.any()


def test_training_continues_when_q_continue_wins_until_max():
    model = _model(halt_max_steps=3, halt_exploration_prob=0.0).train()  # q bias (-5, -5)
    _set_q(model, -5.0, 5.0)
    batch = tiny_batch(model.config)
    carry = model.initial_carry(batch)
    halted = []
    for _ in range(3):
        carry, _ = model(carry, batch)
        halted.append(bool(carry.halted.all()))
    assert halted == [False, False, True]


def test_q_continue_target_bootstraps_from_next_segment():
    model = _model(halt_max_steps=2, halt_exploration_prob=0.0).train()
    _set_q(model, -1.0, 2.0)  # q_head weight is zero, so every segment's q is exactly the bias
    batch = tiny_batch(model.config)
    carry, out = model(model.initial_carry(batch), batch)
    assert torch.allclose(out.target_q_continue, torch.sigmoid(torch.tensor(2.0)).expand(4))
    carry, out = model(carry, batch)  # last step: target is the next q_halt alone
    assert torch.allclose(out.target_q_continue, torch.sigmoid(torch.tensor(-1.0)).expand(4))


def test_halted_slots_are_reset_and_refilled_others_keep_working():
    model = _model().train()
    first, second = tiny_batch(model.config, seed=1), tiny_batch(model.config, seed=2)
    carry, _ = model(model.initial_carry(first), first)
    carry.halted = torch.tensor([True, False, True, False])
    old_z = carry.z_H.clone()
    new, _ = model(carry, second)
    for i, h in enumerate(carry.halted.tolist()):
        source = second if h else first
        assert torch.equal(new.data["inputs"][i], source["inputs"][i])
        assert torch.equal(new.data["labels"][i], source["labels"][i])
    assert new.steps.tolist() == [1, 2, 1, 2]

    # a reset slot starts from H_init/L_init: same result as a fresh carry on that example
    fresh, _ = model.eval()(model.initial_carry(second), second)
    model.train()
    assert torch.allclose(new.z_H[0], fresh.z_H[0], atol=1e-5)
    assert not torch.allclose(new.z_H[1], old_z[1])
