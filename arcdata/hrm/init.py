"""Start a model from another run's weights: every tensor that fits, the puzzle table by name.

A checkpoint's puzzle-embedding rows are indexed by the ids of the build it trained on, and a
rebuilt or different dataset numbers its puzzles otherwise (a released ARC-AGI-2 checkpoint has
1045829 rows, a rebuild 1921253). Row ``i`` of one table is therefore not row ``i`` of the other,
and copying by position would hand every puzzle another puzzle's vector. So rows are carried
only by identifier *name*, when both maps are known; a row the new dataset has and the
checkpoint lacks starts at the mean of the carried rows (what a typical trained puzzle looks
like; TRM re-initialises to the mean row too) or at zero. Without the checkpoint's map no row is
carried (except the blank, id 0 in every layout), and the report says so.

Everything else is copied when name and shape agree; the rest stays as initialised and is
listed with the reason, so a config that changed a size shows which tensors started fresh.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path

import torch
from torch import nn

from .. import jsonio
from ..errors import ConfigError
from ..ids import BLANK_ID
from .source import PUZZLE_TABLE, Source

INIT_EMBEDDINGS = ("mean", "zero")
INIT_REPORT = "init.json"


@dataclass
class InitPlan:
    """What a new run starts from: the checkpoint, this dataset's names (index = id, None when
    unknown) and the ids that start fresh whatever their names (tasks being adapted)."""

    source: Source
    names: list[str] | None
    fresh: list[int] = field(default_factory=list)


@dataclass
class RowReport:
    """What became of the puzzle table's rows (the blank, id 0, counted apart)."""

    by: str  # "name": matched by identifier name; "none": nothing carried
    carried: int = 0  # rows of this dataset that got the checkpoint's vector for their name
    new: int = 0  # rows of this dataset the checkpoint has no vector for (fresh ones included)
    fresh: int = 0  # rows set fresh on purpose although their name may be in the checkpoint
    dropped: int = 0  # checkpoint rows whose names this dataset lacks
    blank: str = "fresh"  # "carried" or "fresh"
    new_rows: str = "zero"  # how the new rows were set
    note: str = ""


@dataclass
class InitReport:
    """What :func:`initialise` copied from where; written to RUN_DIR/init.json."""

    source: str
    source_kind: str
    source_names: str | None  # where the checkpoint's identifier names came from
    copied: list[str] = field(default_factory=list)
    skipped: dict[str, str] = field(default_factory=dict)  # tensor -> why not copied
    fresh: list[str] = field(default_factory=list)  # model tensors the checkpoint lacks
    rows: RowReport | None = None

    def lines(self) -> list[str]:
        """A short human summary (the full lists are in init.json)."""
        out = [
            f"init from {self.source_kind} checkpoint {self.source}: {len(self.copied)} tensors "
            f"copied, {len(self.skipped)} skipped, {len(self.fresh)} not in the checkpoint"
        ]
        for name, why in list(self.skipped.items())[:5]:
            out.append(f"  skipped {name}: {why}")
        if len(self.skipped) > 5:
            out.append(f"  (and {len(self.skipped) - 5} more skipped, see {INIT_REPORT})")
        r = self.rows
        if r is not None:
            out.append(
                f"puzzle rows by {r.by}: {r.carried} carried, {r.new} new ({r.new_rows}), "
                f"{r.dropped} dropped; blank row {r.blank}"
            )
            if r.note:
                out.append(f"  {r.note}")
        return out

    def write(self, run_dir: Path) -> Path:
        path = Path(run_dir) / INIT_REPORT
        path.write_text(jsonio.dumps(asdict(self), indent=1) + "\n")
        return path


def initialise(
    model: nn.Module,
    source: Source,
    names: list[str] | None,
    init_embeddings: str = "mean",
    fresh: list[int] | None = None,
) -> InitReport:
    """Copy ``source``'s weights into ``model`` (in place) and say what was copied.

    ``names`` are this dataset's identifier names (index = id), or None when unknown. Ids in
    ``fresh`` are new rows even when the checkpoint has their name (test-time adaptation fits
    them from scratch), and their vectors do not count towards the mean.
    """
    if init_embeddings not in INIT_EMBEDDINGS:
        raise ConfigError(f"init_embeddings must be 'mean' or 'zero', not {init_embeddings!r}")
    report = InitReport(str(source.path), source.kind, _str(source.names_path))
    own = model.state_dict()
    copied: dict[str, torch.Tensor] = {}
    for name, target in own.items():
        if name == PUZZLE_TABLE:
            continue
        value = source.state.get(name)
        if value is None:
            report.fresh.append(name)
        elif value.shape != target.shape:
            report.skipped[name] = (
                f"shape {tuple(value.shape)} in the checkpoint, {tuple(target.shape)} here"
            )
        else:
            copied[name] = value
    for name in sorted(set(source.state) - set(own)):
        report.skipped[name] = "not a tensor of this model"
    with torch.no_grad():
        for name, value in copied.items():
            own[name].copy_(value.to(own[name].dtype))
    report.copied = sorted(copied)
    if PUZZLE_TABLE in own:
        table = own[PUZZLE_TABLE]  # (N, ndim), the live buffer
        report.rows = _carry_rows(table, source, names, init_embeddings, set(fresh or ()), report)
    elif PUZZLE_TABLE in source.state:
        report.skipped[PUZZLE_TABLE] = "this model has no puzzle embedding"
    return report


def _carry_rows(
    table: torch.Tensor,
    source: Source,
    names: list[str] | None,
    init_embeddings: str,
    fresh: set[int],
    report: InitReport,
) -> RowReport:
    theirs = source.state.get(PUZZLE_TABLE)
    n_here = table.shape[0] - 1  # rows other than the blank
    if theirs is None or theirs.shape[1] != table.shape[1]:
        why = (
            "the checkpoint has no puzzle embedding"
            if theirs is None
            else f"width {theirs.shape[1]} in the checkpoint, {table.shape[1]} here"
        )
        if theirs is not None:
            report.skipped[PUZZLE_TABLE] = why
        with torch.no_grad():
            table.zero_()
        return RowReport("none", new=n_here, new_rows="zero", note=f"no row carried: {why}")
    theirs = theirs.to(table.dtype)
    with torch.no_grad():
        table.zero_()
        table[BLANK_ID] = theirs[BLANK_ID]  # id 0 is the blank in every layout
    rows = RowReport("none", blank="carried", fresh=len(fresh - {BLANK_ID}))
    if names is None or source.names is None:
        missing = "the checkpoint's" if source.names is None else "this dataset's"
        rows.new, rows.dropped = n_here, theirs.shape[0] - 1
        rows.note = (
            f"{missing} identifier names are unknown, so no row can be matched (rows are never "
            "carried by position)"
            + (
                "; put the build's identifiers.json beside the checkpoint to carry them by name"
                if source.names is None
                else ""
            )
        )
        fill = theirs[1:].mean(dim=0) if theirs.shape[0] > 1 else None
        rows.new_rows = _fill(table, torch.arange(1, table.shape[0]), fill, init_embeddings,
                              "the mean of all checkpoint rows")  # fmt: skip
        return rows
    if len(names) != table.shape[0]:
        raise ConfigError(
            f"this dataset has {table.shape[0]} puzzle ids but {len(names)} identifier names; "
            "its identifiers.parquet does not belong to it (rebuild the dataset)"
        )
    index = {name: i for i, name in enumerate(source.names)}
    pairs = [
        (i, -1 if i in fresh else index.get(name, -1))
        for i, name in enumerate(names)
        if i != BLANK_ID
    ]
    rows.fresh = len(fresh - {BLANK_ID})
    here = torch.tensor([i for i, j in pairs if j >= 0], dtype=torch.long)
    there = torch.tensor([j for i, j in pairs if j >= 0], dtype=torch.long)
    new = torch.tensor([i for i, j in pairs if j < 0], dtype=torch.long)
    rows.by = "name"
    rows.carried, rows.new = int(here.numel()), int(new.numel())
    rows.dropped = len(source.names) - 1 - rows.carried
    with torch.no_grad():
        if here.numel():
            table[here] = theirs[there]
    if here.numel():
        fill, what = theirs[there].mean(dim=0), f"the mean of the {rows.carried} carried rows"
    else:
        fill, what = (
            (theirs[1:].mean(dim=0) if theirs.shape[0] > 1 else None),
            ("the mean of all checkpoint rows (no name in common)"),
        )
    rows.new_rows = _fill(table, new, fill, init_embeddings, what)
    return rows


def _fill(
    table: torch.Tensor,
    rows: torch.Tensor,
    mean: torch.Tensor | None,
    init_embeddings: str,
    what: str,
) -> str:
    """Set ``rows`` of ``table`` to ``mean`` (or leave them zero); say what they became."""
    if init_embeddings == "zero" or mean is None or not rows.numel():
        return "zero"
    with torch.no_grad():
        table[rows] = mean
    return what


def dataset_names(dataset: object) -> list[str] | None:
    """A built dataset's identifier names (index = id), or None (a stream factory, no map)."""
    import os

    if not isinstance(dataset, (str, os.PathLike)):
        return None
    path = Path(dataset) / "identifiers.parquet"
    if not path.is_file():
        return None
    from arcdata.builder.idmap import read_names

    return read_names(path)


def _str(path: Path | None) -> str | None:
    return None if path is None else str(path)
