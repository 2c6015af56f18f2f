"""The ARC task format shared by every ARC reader: JSON files, task objects, folders of tasks.

All readers go through :func:`parse_task`, so one set of validation rules (values 0..9,
rectangular, 1..30 per side, non-empty train and test lists) applies to every layout.
"""

from __future__ import annotations

import json
from pathlib import Path

from arcdata.errors import ConfigError, InputError
from arcdata.grids import validate_grid
from arcdata.records import Pair, Task
from arcdata.sources.base import Rejects, SourceResult
from arcdata.storage.hashing import file_sha256 as sha256_file


def parse_pairs(raw: object, *, file: str, task: str, role: str) -> tuple[Pair, ...]:
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


def evaluation_flag(spec: dict, default: bool) -> bool:
    value = spec.get("evaluation", default)
    if not isinstance(value, bool):
        raise ConfigError(f"sources: 'evaluation' must be true or false, got {value!r}")
    return value


def parse_many(items, *, file, subset, evaluation, rejects) -> list[Task]:
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


def read_tree(root: Path, *, subset: str, evaluation: bool, rejects: Rejects) -> SourceResult:
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
