import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from arcdata.calibration import calibrate, plot


def test_perfectly_calibrated_has_small_ece():
    rng = np.random.default_rng(0)
    conf = rng.random(200_000)
    correct = rng.random(200_000) < conf
    cal = calibrate(conf, correct)
    assert cal.ece < 0.01 and cal.pearson_r > 0.5
    assert cal.counts.sum() == 200_000


def test_overconfident_model_is_flagged():
    conf = np.full(1000, 0.95)
    correct = np.arange(1000) < 500
    cal = calibrate(conf, correct)
    assert cal.ece == pytest.approx(0.45)
    assert cal.brier == pytest.approx(0.5 * 0.95**2 + 0.5 * 0.05**2)


@given(st.lists(st.tuples(st.floats(0, 1), st.booleans()), min_size=1, max_size=200))
def test_bins_partition_the_examples(items):
    conf = np.array([c for c, _ in items])
    hit = np.array([h for _, h in items])
    cal = calibrate(conf, hit, bins=7)
    assert cal.counts.sum() == len(items)
    assert 0.0 <= cal.ece <= 1.0


def test_plot_writes_a_png(tmp_path):
    pytest.importorskip("matplotlib")
    rng = np.random.default_rng(1)
    conf = rng.random(500)
    path = plot(calibrate(conf, rng.random(500) < conf), tmp_path / "c.png")
    assert path.read_bytes()[:4] == b"\x89PNG"


def test_numbers_against_a_hand_computed_table():
    # bins of width 0.5: [0, 0.5) holds 0.1 (right), 0.3 (wrong); [0.5, 1] holds 0.6 (right),
    # 0.96 (wrong), 0.98 (right).
    conf = np.array([0.1, 0.3, 0.6, 0.96, 0.98])
    hit = np.array([True, False, True, False, True])
    cal = calibrate(conf, hit, bins=2)
    assert cal.counts.tolist() == [2, 3]
    np.testing.assert_allclose(cal.confidence, [0.2, (0.6 + 0.96 + 0.98) / 3])
    np.testing.assert_allclose(cal.accuracy, [0.5, 2 / 3])
    ece = (2 * abs(0.5 - 0.2) + 3 * abs(2 / 3 - 2.54 / 3)) / 5
    assert cal.ece == pytest.approx(ece)
    brier = (0.9**2 + 0.3**2 + 0.4**2 + 0.96**2 + 0.02**2) / 5
    assert cal.brier == pytest.approx(brier)
    x, y = conf - conf.mean(), hit - hit.mean()
    assert cal.pearson_r == pytest.approx((x * y).sum() / np.sqrt((x * x).sum() * (y * y).sum()))
    assert cal.pearson_r_bins == pytest.approx(1.0)  # two bins: both rise together
    assert cal.confident_wrong == 1 and cal.unconfident_right == 1
    assert cal.as_dict()["examples"] == 5


def test_scatter_writes_a_png(tmp_path):
    pytest.importorskip("matplotlib")
    from arcdata.calibration import scatter

    rng = np.random.default_rng(2)
    path = scatter(rng.random(50), rng.random(50), tmp_path / "s.png", "t")
    assert path.read_bytes()[:4] == b"\x89PNG"
