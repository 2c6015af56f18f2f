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
    ballots: dict[tuple[str, int], Ballot] = defaultdict(Ballot)
    confidence = 1.0 / (1.0 + np.exp(-np.asarray(q_halt, dtype=np.float64)))
    for i in range(len(task_ids)):
        offset = (0, 0) if offsets is None else tuple(int(v) for v in offsets[i])
        grid = undo(predictions[i], dihedrals[i], colour_maps[i], offset)
        ballot = ballots[(str(task_ids[i]), int(pair_indices[i]))]
        if grid is not None:
            ballot.add(grid, float(confidence[i]))
    return dict(ballots)


def pass_at_k(
    ballots: dict[tuple[str, int], Ballot],
    truth: dict[tuple[str, int], np.ndarray],
    ks: tuple[int, ...] = (1, 2),
) -> dict[str, float]:
    """Fraction of tasks whose every test input is solved within the top k, for each k.

    Also reports the successor's fractional score (per test input, averaged per task).
    """
    tasks: dict[str, list[tuple[str, int]]] = defaultdict(list)
    for key in truth:
        tasks[key[0]].append(key)
    out: dict[str, float] = {}
    for k in ks:
        solved, fractional = 0, 0.0
        for keys in tasks.values():
            hits = [_hit(ballots.get(key), truth[key], k) for key in keys]
            solved += all(hits)
            fractional += sum(hits) / len(hits)
        out[f"pass@{k}"] = solved / max(len(tasks), 1)
        out[f"pass@{k}_fractional"] = fractional / max(len(tasks), 1)
    out["tasks"] = len(tasks)
    out["test_inputs"] = len(truth)
    return out


def _hit(ballot: Ballot | None, answer: np.ndarray, k: int) -> bool:
    if ballot is None:
        return False
    return any(
        c.grid.shape == answer.shape and np.array_equal(c.grid, answer) for c in ballot.ranked()[:k]
    )
