"""The reader contract and the on-error policy shared by every source."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

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
REGISTRY: dict[str, Reader] = {}


def register(name: str) -> Callable[[Reader], Reader]:
    def wrap(fn: Reader) -> Reader:
        REGISTRY[name] = fn
        return fn

    return wrap


def read_source(spec: dict, rejects: Rejects) -> SourceResult:
    kind = spec.get("type")
    if kind not in REGISTRY:
        raise ConfigError(f"sources: unknown type {kind!r}; known: {sorted(REGISTRY)}")
    return REGISTRY[kind](spec, rejects)


def sha256_file(path: str | Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


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
