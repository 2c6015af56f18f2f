"""The ``arcdata`` command line: build, inspect, show, verify, export, import, train, evaluate.

Every command teaches itself through ``--help``; errors that a user can fix print one clear
line (which file, task or key) instead of a traceback.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from arcdata import __version__
from arcdata.errors import INTERRUPTED, USER_ERROR, ArcdataError, describe_os_error, one_line

LAZY_COMMANDS = {
    "verify": "arcdata.verify:verify_cmd",
    "export": "arcdata.formats.cli:export_cmd",
    "import": "arcdata.formats.cli:import_cmd",
    "train": "arcdata.hrm.cli:train_cmd",
    "evaluate": "arcdata.hrm.cli:evaluate_cmd",
    "report": "arcdata.hrm.cli:report_cmd",
    "adapt": "arcdata.hrm.cli:adapt_cmd",
}
"""Commands living in heavier modules (torch): imported only when used, so that ``arcdata
build`` starts fast and its process stays small."""


def _lazy(name: str) -> click.Command | None:
    import importlib

    module, attr = LAZY_COMMANDS[name].split(":")
    try:
        return getattr(importlib.import_module(module), attr, None)
    except ModuleNotFoundError as e:
        if e.name and e.name.startswith("arcdata"):
            return None
        raise


class OneLineErrors:
    """Every user error one ``error:`` line with exit status 2, Ctrl-C one line (a mixin for the
    group and for commands that are also run on their own)."""

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except KeyboardInterrupt:
            _interrupted(getattr(ctx, "invoked_subcommand", None) or ctx.info_name)
        except ArcdataError as e:
            _fail(str(e))
        except OSError as e:  # disk full, permissions, a vanished file: the user's to fix
            _fail(describe_os_error(e))

    def main(self, *args, standalone_mode: bool = True, **kwargs):
        """Click's usage errors as one ``error:`` line too (click prints three, and exits 1 for
        some); everything else as click does it."""
        if not standalone_mode:
            return super().main(*args, standalone_mode=False, **kwargs)
        try:
            result = super().main(*args, standalone_mode=False, **kwargs)
        except click.ClickException as e:
            command = e.ctx.command_path if getattr(e, "ctx", None) else None
            hint = f" (see {command} --help)" if isinstance(e, click.UsageError) and command else ""
            _fail(e.format_message() + hint)
        except click.Abort:  # KeyboardInterrupt outside a command (click turns it into Abort)
            _interrupted(None)
        sys.exit(result if isinstance(result, int) else 0)


class ArcdataCommand(OneLineErrors, click.Command):
    """A command with one-line errors even when run without the ``arcdata`` group."""


class ArcdataGroup(OneLineErrors, click.Group):
    """Lazy subcommands, with one-line errors."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        lazy = {n for n in LAZY_COMMANDS if _lazy(n) is not None}
        return sorted(set(super().list_commands(ctx)) | lazy)

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        cmd = super().get_command(ctx, name)
        if cmd is None and name in LAZY_COMMANDS:
            cmd = _lazy(name)
        return cmd


def _fail(message: str) -> None:
    click.secho(f"error: {one_line(message)}", fg="red", err=True)
    sys.exit(USER_ERROR)


def _interrupted(command: str | None) -> None:
    """One line instead of a traceback (and the workers' tracebacks) when Ctrl-C stops us."""
    hint = (
        ": finished units are kept; rerun the same command with --resume to continue"
        if command == "build"
        else ""
    )
    click.echo(f"interrupted{hint}", err=True)
    sys.exit(INTERRUPTED)


@click.group(cls=ArcdataGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="arcdata")
def main() -> None:
    """Build, check and train on HRM puzzle datasets (ARC-AGI, Sudoku, Maze).

    \b
    Typical session:
      arcdata build pipelines/arc-agi-1.yaml --out data/arc1     # Parquet shards + manifest
      arcdata inspect data/arc1                                  # what was built
      arcdata show data/arc1 007bbfb7 --version 3                # look at a task
      arcdata export data/arc1 --format hrm --out data/arc1-npy  # reference npy layout
      arcdata train data/arc1 --out runs/arc1                    # train the included HRM
    """


@main.command()
@click.argument("pipeline", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--out",
    "out",
    type=click.Path(file_okay=False, path_type=Path),
    help="Destination folder (default: data/<pipeline name>).",
)
@click.option(
    "--set",
    "overrides",
    multiple=True,
    metavar="KEY=VALUE",
    help="Override a pipeline key, e.g. --set augment.versions=100 "
    "--set sources.conceptarc.path=~/ConceptARC. Repeatable.",
)
@click.option(
    "--workers", type=int, default=None, help="Local worker processes (default: one per CPU core)."
)
@click.option(
    "--scheduler",
    default=None,
    metavar="ADDR",
    help="Use an existing Dask scheduler, e.g. tcp://10.0.0.5:8786 "
    "(or set DASK_SCHEDULER_ADDRESS). The output path must be shared.",
)
@click.option(
    "--overwrite",
    is_flag=True,
    help="Replace a dataset arcdata built at --out (anything else is refused).",
)
@click.option(
    "--resume",
    is_flag=True,
    help="Reuse shards an interrupted build of the same config and inputs finished.",
)
@click.option(
    "--on-error",
    type=click.Choice(["fail", "skip"]),
    default=None,
    help="fail (default): stop before writing anything on bad input. "
    "skip: build the rest and list rejects in the manifest.",
)
@click.option(
    "--fail-on-leak",
    is_flag=True,
    help="Refuse to build when an evaluation test pair also occurs in the train split "
    "(exactly or up to D4 and colours); without it they are listed in the manifest.",
)
@click.option("--quiet", is_flag=True, help="No progress bar.")
@click.option(
    "--dry-run",
    is_flag=True,
    help="Print the resolved config and what would be built (sources, tasks, versions, units, "
    "rows); write nothing.",
)
def build(
    pipeline,
    out,
    overrides,
    workers,
    scheduler,
    overwrite,
    resume,
    on_error,
    fail_on_leak,
    quiet,
    dry_run,
):
    """Build the dataset a PIPELINE file describes into sharded Parquet + manifest.json.

    Writes go to a hidden .partial folder next to --out and are renamed into place only when
    complete. The same pipeline and seed give byte-identical shards whatever the worker count.
    """
    from arcdata.builder.driver import build as run_build
    from arcdata.config import load_pipeline
    from arcdata.dataset import summary

    config = load_pipeline(pipeline, list(overrides))
    out = out or Path("data") / config["name"]
    if dry_run:
        from arcdata.builder.dry_run import describe_build

        click.echo(
            describe_build(
                {**config, "on_error": on_error or config.get("on_error")}, out, overwrite or resume
            )
        )
        return
    manifest = run_build(
        config,
        out,
        workers=workers,
        scheduler=scheduler,
        overwrite=overwrite,
        resume=resume,
        on_error=on_error,
        progress=not quiet,
        fail_on_leak=fail_on_leak,
    )
    click.echo(summary(out))
    click.echo(f"wrote {out} ({manifest['totals']['examples']:,} examples)")


@main.command()
@click.argument("dataset", type=click.Path(exists=True, file_okay=False, path_type=Path))
def inspect(dataset):
    """Summarise a built DATASET: sources, splits, shards, sizes, ids, short tasks, rejects."""
    from arcdata.dataset import summary

    click.echo(summary(dataset))


@main.command()
@click.argument("target", type=click.Path(exists=True, path_type=Path))
@click.argument("task")
@click.option(
    "--version",
    "version",
    type=int,
    default=0,
    show_default=True,
    help="Which augmented version (0 = the original).",
)
@click.option(
    "--png",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Also write a picture of the task to this PNG file.",
)
@click.option(
    "--set",
    "overrides",
    multiple=True,
    metavar="KEY=VALUE",
    help="Pipeline overrides (when TARGET is a pipeline file).",
)
@click.option(
    "--colour/--no-colour",
    "colour",
    default=None,
    help="Colour blocks or plain digits (default: colour on a terminal).",
)
def show(target, task, version, png, overrides, colour):
    """Show TASK of a built dataset folder or of a PIPELINE file, in colour.

    From a pipeline the version is computed on the fly (no build needed), so you can look at
    what an augmentation setting does before building.
    """
    from arcdata.show import show_task

    if colour is None:
        colour = sys.stdout.isatty()
    text = show_task(target, task, version, png=png, overrides=list(overrides), colour=colour)
    click.echo(text, color=colour)


@main.command()
@click.argument("dataset", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), required=True)
@click.option(
    "--versions",
    type=click.IntRange(1),
    default=3,
    show_default=True,
    help="Versions of each task to embed (the page's size grows with it).",
)
@click.option(
    "--max-tasks",
    type=click.IntRange(1),
    default=2000,
    show_default=True,
    help="Embed at most this many tasks (the first by id).",
)
def browse(dataset, out, versions, max_tasks):
    """Write a self-contained HTML browser of a built DATASET to OUT/index.html."""
    from arcdata.browse import write_site

    path = write_site(dataset, out, versions=versions, max_tasks=max_tasks)
    click.echo(f"wrote {path} ({path.stat().st_size / 2**20:.1f} MiB): open it in a browser")


@main.group()
def cache() -> None:
    """The stream's decoded cache ($ARCDATA_STREAM_CACHE, else a private folder in the temp
    directory): list or clear it. Entries are rebuilt on the next open, so clearing is safe."""


_CACHE_DIR = click.option(
    "--cache-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Cache folder (default: $ARCDATA_STREAM_CACHE or <tmp>/arcdata-stream-<uid>).",
)


@cache.command("list")
@_CACHE_DIR
@click.option("--verify", is_flag=True, help="Also recompute every file's checksum (slower).")
def cache_list(cache_dir, verify):
    """One line per cached split: status, size, rows, split, dataset it was read from."""
    from arcdata.stream.cache import list_entries, private_root

    root = private_root(cache_dir, create=False)
    entries = list_entries(root, full=verify)
    click.echo(f"{root}: {len(entries)} entries, {_mb(sum(e.bytes for e in entries))}")
    for e in entries:
        rows = f"{e.rows:,} rows" if isinstance(e.rows, int) else "? rows"
        click.echo(f"  {e.name}  {_mb(e.bytes)}  {rows}  {e.split}  {e.dataset}  {e.status}")


def _mb(n: int) -> str:
    return f"{n / 1e6:,.1f} MB" if n >= 1e5 else f"{n / 1e3:,.1f} kB"


@cache.command("clear")
@_CACHE_DIR
def cache_clear(cache_dir):
    """Delete every cache entry (files arcdata did not write are left alone)."""
    from arcdata.stream.cache import clear, private_root

    root = private_root(cache_dir, create=False)
    entries, freed = clear(root)
    click.echo(f"{root}: removed {entries} entries, {_mb(freed)}")


if __name__ == "__main__":
    main()
