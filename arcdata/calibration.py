"""How far to trust HRM's halting confidence: reliability bins, ECE, Brier score, correlation.

``sigmoid(q_halt)`` is trained to predict "this answer is exactly right". A reproduction found
it correlated with success (r = 0.8) but over-confident; these numbers and the reliability
picture make that visible for any run.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np


@dataclass
class Calibration:
    edges: np.ndarray  # [bins + 1]
    confidence: np.ndarray  # mean confidence per bin (nan where empty)
    accuracy: np.ndarray  # fraction correct per bin (nan where empty)
    counts: np.ndarray  # examples per bin
    ece: float  # expected calibration error (count-weighted |accuracy - confidence|)
    brier: float
    pearson_r: float  # correlation of confidence with correctness over examples
    pearson_r_bins: float  # over filled bins: mean confidence against accuracy (the notes' 0.8)
    confident_wrong: int  # confidence >= CONFIDENT yet not exact
    unconfident_right: int  # confidence < 0.5 yet exact

    def as_dict(self) -> dict:
        return {
            "ece": self.ece,
            "brier": self.brier,
            "pearson_r": self.pearson_r,
            "pearson_r_bins": self.pearson_r_bins,
            "confident_wrong": self.confident_wrong,
            "unconfident_right": self.unconfident_right,
            "examples": int(self.counts.sum()),
            "bins": [
                {
                    "low": float(lo),
                    "high": float(hi),
                    "count": int(n),
                    "confidence": None if np.isnan(c) else float(c),
                    "accuracy": None if np.isnan(a) else float(a),
                }
                for lo, hi, n, c, a in zip(
                    self.edges[:-1],
                    self.edges[1:],
                    self.counts,
                    self.confidence,
                    self.accuracy,
                    strict=True,
                )
            ],
        }


CONFIDENT = 0.95


def pearson(x: np.ndarray, y: np.ndarray) -> float:
    """Pearson r, nan when either side is constant or there are fewer than two points."""
    x, y = np.asarray(x, np.float64), np.asarray(y, np.float64)
    if len(x) < 2 or x.std() == 0 or y.std() == 0:
        return float("nan")
    return float(np.corrcoef(x, y)[0, 1])


def calibrate(confidence: np.ndarray, correct: np.ndarray, bins: int = 10) -> Calibration:
    conf = np.clip(np.asarray(confidence, dtype=np.float64), 0.0, 1.0)
    hit = np.asarray(correct, dtype=np.float64)
    if conf.shape != hit.shape or conf.ndim != 1:
        raise ValueError("confidence and correct must be 1-D arrays of the same length")
    edges = np.linspace(0.0, 1.0, bins + 1)
    which = np.minimum(np.searchsorted(edges, conf, side="right") - 1, bins - 1)
    counts = np.bincount(which, minlength=bins)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean_conf = np.bincount(which, conf, bins) / counts
        accuracy = np.bincount(which, hit, bins) / counts
    filled = counts > 0
    n = max(len(conf), 1)
    ece = float(np.sum(counts[filled] * np.abs(accuracy[filled] - mean_conf[filled])) / n)
    brier = float(np.mean((conf - hit) ** 2)) if len(conf) else float("nan")
    r = pearson(conf, hit)
    r_bins = pearson(mean_conf[filled], accuracy[filled])
    confident_wrong = int(((conf >= CONFIDENT) & (hit == 0)).sum())
    unconfident_right = int(((conf < 0.5) & (hit == 1)).sum())
    return Calibration(
        edges,
        mean_conf,
        accuracy,
        counts,
        ece,
        brier,
        r,
        r_bins,
        confident_wrong,
        unconfident_right,
    )


def plot(cal: Calibration, path: str | Path, title: str = "Halting confidence") -> Path:
    """A reliability diagram (accuracy against confidence, with counts) as a PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (top, bottom) = plt.subplots(2, 1, figsize=(5, 6), height_ratios=(3, 1), sharex=True)
    centres = (cal.edges[:-1] + cal.edges[1:]) / 2
    width = cal.edges[1] - cal.edges[0]
    filled = cal.counts > 0
    top.plot([0, 1], [0, 1], color="grey", linestyle="--", linewidth=1, label="calibrated")
    top.bar(
        centres[filled],
        cal.accuracy[filled],
        width=width * 0.9,
        alpha=0.7,
        label="exact accuracy of the bin",
    )
    top.plot(
        cal.confidence[filled],
        cal.accuracy[filled],
        "o-",
        color="black",
        label="accuracy at the bin's mean confidence",
    )
    for x, y, n in zip(centres[filled], cal.accuracy[filled], cal.counts[filled], strict=True):
        top.annotate(str(int(n)), (x, y), ha="center", va="bottom", fontsize=7)
    top.set_ylabel("exact accuracy")
    top.set_ylim(0, 1.08)
    top.set_title(
        f"{title}\nECE {cal.ece:.3f}, Brier {cal.brier:.3f}, "
        f"r {cal.pearson_r:.2f} (examples), {cal.pearson_r_bins:.2f} (bins)"
    )
    top.legend(loc="upper left", fontsize=8)
    bottom.bar(centres, cal.counts, width=width * 0.9, color="grey")
    bottom.set_xlabel("confidence sigmoid(q_halt), binned")
    bottom.set_ylabel("examples")
    fig.tight_layout()
    path = Path(path)
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path


def scatter(
    confidence: np.ndarray, pixel_accuracy: np.ndarray, path: str | Path, title: str
) -> Path:
    """Per-example share of right cells against confidence, with its Pearson r, as a PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(5, 4))
    ax.scatter(confidence, pixel_accuracy, s=6, alpha=0.4, label="one example")
    ax.set_xlim(-0.02, 1.02)
    ax.set_ylim(-0.02, 1.02)
    ax.set_xlabel("confidence sigmoid(q_halt)")
    ax.set_ylabel("per-pixel accuracy (share of right cells)")
    ax.set_title(f"{title}\nPearson r {pearson(confidence, pixel_accuracy):.2f}")
    ax.legend(loc="upper left", fontsize=8)
    fig.tight_layout()
    path = Path(path)
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path
