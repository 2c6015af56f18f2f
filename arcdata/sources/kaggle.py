"""Kaggle's ``*_challenges.json`` + ``*_solutions.json`` pair (test outputs from solutions)."""

from __future__ import annotations

from arcdata.errors import InputError
from arcdata.grids import validate_grid
from arcdata.sources.arc_json import evaluation_flag, load_json, parse_task
from arcdata.sources.base import Rejects, SourceResult, register, require_path
from arcdata.storage.hashing import file_sha256 as sha256_file


@register("kaggle", family="arc")
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
    evaluation = evaluation_flag(spec, False)
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
