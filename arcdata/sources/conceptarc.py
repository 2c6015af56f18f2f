"""ConceptARC's ``corpus/<Concept>/<Concept><n>.json`` layout."""

from __future__ import annotations

from arcdata.sources.arc_json import evaluation_flag, read_tree
from arcdata.sources.base import Rejects, SourceResult, register, require_path


@register("conceptarc", family="arc")
def read_conceptarc(spec: dict, rejects: Rejects) -> SourceResult:
    """ConceptARC's ``corpus/<Concept>/<Concept><n>.json`` (the path may name corpus/ or above)."""
    root = require_path(spec)
    if (root / "corpus").is_dir():
        root = root / "corpus"
    return read_tree(
        root, subset="conceptarc", evaluation=evaluation_flag(spec, False), rejects=rejects
    )
