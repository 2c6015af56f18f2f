"""Seeded Sudoku generator as a source: hard puzzles with unique solutions."""

from __future__ import annotations

import sys

from arcdata.errors import ConfigError
from arcdata.progress import progress
from arcdata.sources.base import Rejects, SourceResult, register
from arcdata.sources.puzzle_common import generated_file, one_pair_task, spec_int, sudoku_size
from arcdata.sudoku.generate import DEFAULT_MIN_RATING, GenerationExhausted, distinct_puzzles
from arcdata.sudoku.generate import generate as generate_sudoku


@register("sudoku_generated", family="sudoku")
def read_sudoku_generated(spec: dict, rejects: Rejects) -> SourceResult:
    """Seeded hard puzzles with unique solutions; train and test never hold two puzzles that
    are equivalent under the validity-preserving moves.

    Keys: count (1000 train puzzles), test_count (0; evaluation tasks), size (9 or 4),
    min_rating (8 for 9x9, 0 for 4x4), seed (0), max_attempts (200 per puzzle), subset.
    """
    count = spec_int(spec, "count", 1000)
    test_count = spec_int(spec, "test_count", 0)
    n = sudoku_size(spec)
    min_rating = spec_int(spec, "min_rating", DEFAULT_MIN_RATING.get(n, 0))
    seed = spec_int(spec, "seed", 0)
    max_attempts = spec_int(spec, "max_attempts", None, minimum=1)
    subset = str(spec.get("subset") or f"sudoku{n}-generated")
    where = f"sources.{spec['name']}" if spec.get("name") else "sources"
    _refuse_impossible(where, n, count + test_count, min_rating)
    try:
        with progress(
            count + test_count,
            f"{where}: generating {n}x{n} Sudoku",
            "puzzle",
            terminal=_on_terminal(),
        ) as bar:
            made = generate_sudoku(
                count + test_count,
                seed=seed,
                size=n,
                min_rating=min_rating,
                max_attempts=max_attempts,
                progress=lambda found, attempts: _advance(bar, found, attempts),
            )
    except GenerationExhausted as e:
        raise ConfigError(
            f"{where}: sudoku_generated: {e}; lower 'min_rating' or 'count', or "
            "raise 'max_attempts'"
        ) from None
    tasks = []
    for i, g in enumerate(made):
        evaluation = i >= count
        split, k = ("test", i - count) if evaluation else ("train", i)
        tasks.append(
            one_pair_task(
                f"{subset}-s{seed}-{split}-{k}",
                g.puzzle,
                g.solution,
                evaluation=evaluation,
                subset=subset,
                origin=f"generated:sudoku_generated seed={seed} #{i}",
                meta={
                    "rating": g.rating,
                    "clues": int((g.puzzle > 0).sum()),
                    "canonical": g.canonical,
                },
            )
        )
    params = {
        "count": count,
        "test_count": test_count,
        "size": n,
        "min_rating": min_rating,
        "seed": seed,
    }
    return SourceResult(
        tasks, files=[generated_file("sudoku_generated", params)], rejected=0, read=len(tasks)
    )


def _refuse_impossible(where: str, size: int, wanted: int, min_rating: int) -> None:
    """Fail at once when more distinct puzzles are asked for than exist."""
    exist = distinct_puzzles(size, min_rating)
    if exist is None or wanted <= exist:
        return
    if exist == 0:
        raise ConfigError(
            f"{where}: sudoku_generated: no {size}x{size} puzzle has rating >= {min_rating} "
            "(singles alone solve every one); set 'min_rating: 0' or 'size: 9'"
        )
    raise ConfigError(
        f"{where}: sudoku_generated: count + test_count = {wanted:,}, but only {exist} "
        f"non-equivalent {size}x{size} puzzles exist; ask for at most {exist}, or use 'size: 9'"
    )


def _on_terminal() -> bool:
    return sys.stderr.isatty()


def _advance(bar, found: int, attempts: int) -> None:
    bar.update(found - bar.n)
    bar.set_postfix_str(f"{attempts:,} attempts", refresh=False)
