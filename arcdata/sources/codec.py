"""Which token codec each source type's grids need: one rule for the build and for ``verify``.

A codec that does not match its sources still builds (cells are stored as raw values), then
streams tokens outside the vocabulary or crops mazes into ARC canvases; the mistake only shows
weeks later as a model that cannot learn. So the pairing is checked wherever a dataset is made
or trusted, from this single table.
"""

from __future__ import annotations

from arcdata.sources.base import REGISTRIES

SUDOKU_SIZE = 9


def required_codec(spec: dict) -> str | None:
    """The codec name a source entry's grids need (from its family), or None for an unknown type.

    Sudoku sources need the codec of their board size (``sudoku`` for 9x9, ``sudoku4`` for 4x4).
    """
    kind = spec.get("type")
    family = next((f for f, registry in REGISTRIES.items() if kind in registry), None)
    if family == "sudoku":
        size = spec.get("size", SUDOKU_SIZE)
        return "sudoku" if size == SUDOKU_SIZE else f"sudoku{size}"
    return family  # the arc and maze families have one codec each, of the same name


def codec_mismatches(codec: str, sources: dict[str, dict]) -> list[str]:
    """One message per source whose grids ``codec`` cannot encode (empty when all fit)."""
    out = []
    for name, spec in sorted(sources.items()):
        need = required_codec(spec)
        if need is not None and _canonical(need) != _canonical(codec):
            out.append(
                f"source {name!r} ({spec.get('type')}) needs codec {need!r}, but the codec is "
                f"{codec!r}; set codec: {need}"
            )
    return out


def _canonical(name: str) -> str:
    """``sudoku9`` and ``sudoku`` are one codec; unknown names compare as written."""
    from arcdata.tokens import get_codec

    try:
        return get_codec(name).name
    except KeyError:
        return name
