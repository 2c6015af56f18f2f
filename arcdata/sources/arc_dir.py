"""A folder (searched recursively) of ``<task_id>.json`` ARC task files."""

from __future__ import annotations

from arcdata.sources.arc_json import evaluation_flag, read_tree
from arcdata.sources.base import Rejects, SourceResult, register, require_path


@register("arc_dir", family="arc")
def read_arc_dir(spec: dict, rejects: Rejects) -> SourceResult:
    """A folder (searched recursively) of ``<task_id>.json`` files."""
    root = require_path(spec)
    subset = spec.get("subset") or root.name
    return read_tree(
        root, subset=str(subset), evaluation=evaluation_flag(spec, False), rejects=rejects
    )
