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
