"""The reader contract and the on-error policy shared by every source."""

from __future__ import annotations

from collections import ChainMap
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from arcdata.errors import ConfigError, InputError
from arcdata.records import Task


@dataclass
class Rejects:
    """Collects bad input: raises at once under ``fail``; records and continues under ``skip``."""

    policy: str = "fail"
    items: list[InputError] = field(default_factory=list)

    def __post_init__(self) -> None:
        if self.policy not in ("fail", "skip"):
            raise ConfigError(f"on_error must be 'fail' or 'skip', got {self.policy!r}")

    def add(self, err: InputError) -> None:
        if self.policy == "fail":
            raise err
        self.items.append(err)


@dataclass
class SourceResult:
    """What a reader produced: tasks, the files it read (with sha256) and how many it rejected."""

    tasks: list[Task]
    files: list[dict] = field(default_factory=list)
    rejected: int = 0
    read: int = 0


Reader = Callable[[dict, Rejects], SourceResult]

FAMILIES = ("arc", "sudoku", "maze")
"""Puzzle families; a source's family decides which codec can hold its grids."""

REGISTRIES: dict[str, dict[str, Reader]] = {family: {} for family in FAMILIES}
"""One registry per family: source ``type`` name -> reader."""

REGISTRY: ChainMap[str, Reader] = ChainMap(*REGISTRIES.values())
"""Every source type by name, whatever its family."""


def register(name: str, family: str) -> Callable[[Reader], Reader]:
    """Add a reader under ``type: name`` to its family's registry (a name is unique overall)."""
    if family not in REGISTRIES:
        raise ValueError(f"unknown source family {family!r}; known: {list(FAMILIES)}")

    def wrap(fn: Reader) -> Reader:
        if name in REGISTRY and REGISTRY[name] is not fn:
            raise ValueError(f"source type {name!r} is registered twice")
        REGISTRIES[family][name] = fn
        return fn

    return wrap


def family_of(kind: str) -> str:
    """The family whose registry holds source type ``kind``."""
    for family, registry in REGISTRIES.items():
        if kind in registry:
            return family
    raise ConfigError(f"sources: unknown type {kind!r}; known: {sorted(REGISTRY)}")


def _max_pairs() -> int:
    """Pairs one role of a task may hold: what the rows' ``pair_index`` column can number."""
    from arcdata.schema import ROW_SCHEMA

    kind = ROW_SCHEMA.field("pair_index").type
    return int(np.iinfo(kind.to_pandas_dtype()).max) + 1


def read_source(spec: dict, rejects: Rejects) -> SourceResult:
    """Run the source's reader; a task whose pairs the rows cannot number is a reject."""
    kind = spec.get("type")
    family_of(kind)
    result = REGISTRY[kind](spec, rejects)
    limit, kept = _max_pairs(), []
    for task in result.tasks:
        role, count = max(("train", len(task.train)), ("test", len(task.test)), key=lambda x: x[1])
        if count <= limit:
            kept.append(task)
            continue
        rejects.add(
            InputError(
                f"{count:,} {role} pairs; the rows' pair_index holds at most {limit:,} per role "
                "(split the task)",
                file=task.origin,
                task=task.id,
                field=role,
            )
        )
        result.rejected += 1
    result.tasks = kept
    return result


def require_path(spec: dict, key: str = "path") -> Path:
    """The source's path, checked to exist, or an error naming the source and key."""
    value = spec.get(key)
    if not value:
        where = f"sources.{spec['name']}" if spec.get("name") else "sources"
        hint = f": {spec['hint']}" if spec.get("hint") else ""
        raise ConfigError(f"{where}: a {spec.get('type')!r} source needs '{key}'{hint}")
    path = Path(str(value)).expanduser()
    if not path.exists():
        raise InputError("file or folder does not exist", file=str(path), field=key)
    return path
