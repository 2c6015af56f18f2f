"""What every Sudoku and maze reader shares: spec values, the one-pair Task, the seeded
subsample and the manifest record of a generated source.

Every puzzle becomes a one-pair ``Task`` (input = puzzle or maze question, output = solution or
path): a demonstration pair for training sources, a test pair with ``evaluation=True`` for
sources marked ``evaluation: true``.
"""

from __future__ import annotations

import json

import numpy as np

from arcdata.errors import ConfigError
from arcdata.records import Pair, Task
from arcdata.storage.hashing import bytes_sha256 as sha256_bytes
from arcdata.sudoku import board as sudoku_board


def spec_int(spec: dict, key: str, default: int | None, minimum: int | None = 0) -> int | None:
    value = spec.get(key, default)
    if value is None:
        return None
    if type(value) is not int or (minimum is not None and value < minimum):
        bound = f" >= {minimum}" if minimum is not None else ""
        raise ConfigError(
            f"sources: {spec.get('type')} '{key}' must be an integer{bound}, got {value!r}"
        )
    return value


def spec_bool(spec: dict, key: str, default: bool) -> bool:
    value = spec.get(key, default)
    if not isinstance(value, bool):
        raise ConfigError(
            f"sources: {spec.get('type')} '{key}' must be true or false, got {value!r}"
        )
    return value


def spec_float(spec: dict, key: str, default: float) -> float:
    value = spec.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ConfigError(f"sources: {spec.get('type')} '{key}' must be a number, got {value!r}")
    return float(value)


def sudoku_size(spec: dict) -> int:
    size = spec_int(spec, "size", 9)
    if size not in sudoku_board.SIZES:
        raise ConfigError(
            f"sources: {spec.get('type')} 'size' must be one of "
            f"{list(sudoku_board.SIZES)}, got {size}"
        )
    return size


def one_pair_task(
    task_id: str,
    question: np.ndarray,
    answer: np.ndarray,
    *,
    evaluation: bool,
    subset: str,
    origin: str,
    meta: dict,
) -> Task:
    pair = (Pair(question, answer),)
    train, test = ((), pair) if evaluation else (pair, ())
    return Task(
        task_id, train, test, subset=subset, evaluation=evaluation, origin=origin, meta=meta
    )


def subsample(count: int, keep: int | None, seed: int) -> np.ndarray:
    """Positions of the kept rows among ``count`` eligible ones, in file order."""
    if keep is None or keep >= count:
        return np.arange(count)
    rng = np.random.default_rng(seed)
    return np.sort(rng.choice(count, size=keep, replace=False))


def generated_file(kind: str, params: dict) -> dict:
    """Generated sources have no file; the manifest records their parameters' digest."""
    blob = json.dumps({"type": kind, **params}, sort_keys=True).encode()
    return {"path": f"generated:{kind}", "sha256": sha256_bytes(blob)}
