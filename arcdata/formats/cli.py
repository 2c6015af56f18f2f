"""``arcdata export`` and ``arcdata import``: move datasets between arcdata and other layouts.

Registered by ``arcdata.cli``; errors are ``DatasetError`` and print as one line.
"""

from __future__ import annotations

from pathlib import Path

import click

FORMATS = ("hrm",)


def format_option(help: str):
    return click.option(
        "--format", "fmt", type=click.Choice(FORMATS), default="hrm", show_default=True, help=help
    )


@click.command("export")
@click.argument("dataset", type=click.Path(exists=True, file_okay=False, path_type=Path))
@format_option(
    "Target layout; hrm = the reference's npy files (identifiers.json, "
    "<split>/dataset.json, all__*.npy)."
)
@click.option("--out", required=True, type=click.Path(path_type=Path), help="Output folder.")
@click.option(
    "--overwrite", is_flag=True, help="Replace OUT if it holds only an npy dataset (else refused)."
)
def export_cmd(dataset: Path, fmt: str, out: Path, overwrite: bool) -> None:
    """Export a built DATASET to another layout (the reference HRM trainer reads --format hrm).

    \b
    Example:
      arcdata export data/arc1 --format hrm --out data/arc1-npy
    """
    from arcdata.formats.hrm import export_hrm

    summary = export_hrm(dataset, out, overwrite=overwrite)
    for split, s in summary.items():
        click.echo(
            f"{split}: {s['examples']} examples, {s['puzzles']} puzzles, {s['groups']} groups"
        )
    click.echo(f"wrote {out}")


@click.command("import")
@click.argument("source", type=click.Path(exists=True, path_type=Path))
@format_option("Source layout; hrm = a reference npy dataset folder (or one split folder).")
@click.option(
    "--out",
    required=True,
    type=click.Path(path_type=Path),
    help="Folder for the arcdata dataset (Parquet shards + manifest).",
)
@click.option("--name", default=None, help="Dataset name for the manifest (default: OUT's name).")
@click.option(
    "--overwrite", is_flag=True, help="Replace OUT if it is an arcdata dataset (else refused)."
)
def import_cmd(source: Path, fmt: str, out: Path, name: str | None, overwrite: bool) -> None:
    """Import SOURCE (a dataset in another layout) as an arcdata dataset.

    Grids, shapes and offsets are recovered from the tokens; task ids and transforms from
    identifier names such as 007bbfb7_t3_0287391456.

    \b
    Example:
      arcdata import data/hrm-arc-aug-1000 --format hrm --out data/arc1-imported
    """
    from arcdata.formats.hrm import import_hrm

    manifest = import_hrm(source, out, name=name, overwrite=overwrite)
    for split, s in manifest["splits"].items():
        click.echo(f"{split}: {s['rows']} examples, {s['puzzles']} puzzles, {s['groups']} groups")
    click.echo(f"wrote {out}")
