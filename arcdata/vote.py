"""ARC scoring the way HRM reports it: undo every version's augmentation, vote, pass@k.

Each test input is predicted once per augmented version. A prediction is cropped (the largest
rectangle of colour tokens from the example's offset), mapped back through the inverse colour
map and inverse dihedral transform, and the versions then vote: distinct grids are ranked by
vote count, ties broken by mean sigmoid(q_halt). A task passes at k when every one of its test
inputs has the right grid among its top k (the official ARC score is pass@2).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

import numpy as np

from arcdata.augment.transform import Transform
from arcdata.tokens import ARC, crop


@dataclass
class Candidate:
    grid: np.ndarray
    votes: int = 0
    confidence_sum: float = 0.0

    @property
    def confidence(self) -> float:
        return self.confidence_sum / max(self.votes, 1)


@dataclass
class Ballot:
    """All votes for one test input (task, pair index)."""

    candidates: dict[bytes, Candidate] = field(default_factory=dict)

    def add(self, grid: np.ndarray, confidence: float) -> None:
        key = np.array(grid.shape, np.uint8).tobytes() + grid.tobytes()
        cand = self.candidates.setdefault(key, Candidate(grid))
        cand.votes += 1
        cand.confidence_sum += confidence

    def ranked(self) -> list[Candidate]:
        return sorted(self.candidates.values(), key=lambda c: (-c.votes, -c.confidence))


def undo(tokens: np.ndarray, dihedral: int, colour_map: str, offset=(0, 0)) -> np.ndarray | None:
    """A predicted token canvas back in the raw task's frame, or None if no grid was drawn."""
    grid = crop(ARC, tokens, offset)
    if grid is None:
        return None
    return Transform.from_columns([int(dihedral)], [colour_map]).invert(grid)[0]


def collect(
    task_ids, pair_indices, dihedrals, colour_maps, predictions, q_halt, offsets=None
) -> dict[tuple[str, int], Ballot]:
    """Ballots from per-example arrays (one entry per test example of every version)."""
    grids = []
    for i in range(len(task_ids)):
        offset = (0, 0) if offsets is None else tuple(int(v) for v in offsets[i])
        grids.append(undo(predictions[i], dihedrals[i], colour_maps[i], offset))
    return ballots_of(task_ids, pair_indices, grids, sigmoid(q_halt))


def sigmoid(logits) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-np.asarray(logits, dtype=np.float64)))


def ballots_of(task_ids, pair_indices, grids, confidence) -> dict[tuple[str, int], Ballot]:
    """Ballots from grids already in the raw task's frame (None: the example drew no grid)."""
    ballots: dict[tuple[str, int], Ballot] = defaultdict(Ballot)
    for task, pair, grid, conf in zip(task_ids, pair_indices, grids, confidence, strict=True):
        ballot = ballots[(str(task), int(pair))]
        if grid is not None:
            ballot.add(grid, float(conf))
    return dict(ballots)


PASS_KS = (1, 2, 10, 100, 1000)


def ks_for(versions: int) -> tuple[int, ...]:
    """The pass@k worth reporting with ``versions`` voters: past that, more k changes nothing."""
    return tuple(k for k in PASS_KS if k <= max(versions, 2))


def submission(ballots: dict[tuple[str, int], Ballot], tasks: dict[str, int]) -> dict:
    """The ARC Prize (Kaggle) layout: ``{task: [{"attempt_1": grid, "attempt_2": grid}, ...]}``,
    one entry per test input in pair order. ``tasks``: test-input count per task. A test input
    with fewer than two candidates repeats its best one (or answers [[0]] when it has none).
    """
    out: dict[str, list[dict]] = {}
    for task in sorted(tasks):
        entries = []
        for pair in range(tasks[task]):
            ballot = ballots.get((task, pair))
            top = [c.grid.tolist() for c in ballot.ranked()[:2]] if ballot else []
            top = (top or [[[0]]]) * 2
            entries.append({"attempt_1": top[0], "attempt_2": top[1]})
        out[task] = entries
    return out


def voter_curve(
    versions, task_ids, pair_indices, grids, confidence, truth, k: int = 2
) -> list[dict]:
    """pass@k when only versions 0..n-1 vote, for n = 1, 2, 4, ... and all: how many
    augmentations inference needs."""
    versions = np.asarray(versions)
    most = int(versions.max()) + 1 if len(versions) else 1
    counts = sorted({*(2**p for p in range(most.bit_length()) if 2**p < most), most})
    rows = []
    for n in counts:
        keep = np.flatnonzero(versions < n)
        ballots = ballots_of(
            [task_ids[i] for i in keep],
            [pair_indices[i] for i in keep],
            [grids[i] for i in keep],
            [confidence[i] for i in keep],
        )
        scores = pass_at_k(ballots, truth, (k,))
        rows.append(
            {
                "versions": n,
                f"pass@{k}": scores[f"pass@{k}"],
                f"pass@{k}_fractional": scores[f"pass@{k}_fractional"],
            }
        )
    return rows


def pass_at_k(
    ballots: dict[tuple[str, int], Ballot],
    truth: dict[tuple[str, int], np.ndarray],
    ks: tuple[int, ...] = (1, 2),
) -> dict[str, float]:
    """Fraction of tasks whose every test input is solved within the top k, for each k.

    Also the ARC Prize's score (``_fractional``: per task, the share of its test inputs solved,
    averaged over tasks) and the share of all test inputs solved (``_per_test_input``).
    """
    tasks: dict[str, list[tuple[str, int]]] = defaultdict(list)
    for key in truth:
        tasks[key[0]].append(key)
    out: dict[str, float] = {}
    for k in ks:
        solved, fractional, inputs = 0, 0.0, 0
        for keys in tasks.values():
            hits = [_hit(ballots.get(key), truth[key], k) for key in keys]
            solved += all(hits)
            fractional += sum(hits) / len(hits)
            inputs += sum(hits)
        out[f"pass@{k}"] = solved / max(len(tasks), 1)
        out[f"pass@{k}_fractional"] = fractional / max(len(tasks), 1)
        out[f"pass@{k}_per_test_input"] = inputs / max(len(truth), 1)
    out["tasks"] = len(tasks)
    out["test_inputs"] = len(truth)
    return out


def _hit(ballot: Ballot | None, answer: np.ndarray, k: int) -> bool:
    if ballot is None:
        return False
    return any(
        c.grid.shape == answer.shape and np.array_equal(c.grid, answer) for c in ballot.ranked()[:k]
    )
