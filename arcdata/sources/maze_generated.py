"""Seeded maze generator as a source: Maze-Hard-style mazes with long shortest paths."""

from __future__ import annotations

from arcdata.errors import ConfigError
from arcdata.maze import board as maze_board
from arcdata.maze.generate import GenerationExhausted, generate_mazes
from arcdata.sources.base import Rejects, SourceResult, register
from arcdata.sources.puzzle_common import generated_file, one_pair_task, spec_float, spec_int


@register("maze_generated", family="maze")
def read_maze_generated(spec: dict, rejects: Rejects) -> SourceResult:
    """Seeded Maze-Hard-style mazes (random walls, shortest path longer than ``min_path``).

    Keys: count (1000 train mazes), test_count (0; evaluation tasks), size (30), min_path
    (110 steps), wall_min (0.3), wall_max (0.5), seed (0), subset.
    """
    count = spec_int(spec, "count", 1000)
    test_count = spec_int(spec, "test_count", 0)
    side = spec_int(spec, "size", maze_board.SIDE, minimum=2)
    min_path = spec_int(spec, "min_path", 110)
    walls = (spec_float(spec, "wall_min", 0.3), spec_float(spec, "wall_max", 0.5))
    seed = spec_int(spec, "seed", 0)
    subset = str(spec.get("subset") or f"maze{side}-generated")
    try:
        questions, answers, lengths = generate_mazes(
            count + test_count, seed=seed, side=side, min_path=min_path, walls=walls
        )
    except GenerationExhausted as e:
        raise ConfigError(
            f"sources: maze_generated: {e}; lower 'min_path' or change the wall range"
        ) from None
    except ValueError as e:
        raise ConfigError(f"sources: maze_generated: {e}") from None
    tasks = []
    for i in range(len(questions)):
        evaluation = i >= count
        split, k = ("test", i - count) if evaluation else ("train", i)
        tasks.append(
            one_pair_task(
                f"{subset}-s{seed}-{split}-{k}",
                questions[i],
                answers[i],
                evaluation=evaluation,
                subset=subset,
                origin=f"generated:maze_generated seed={seed} #{i}",
                meta={"rating": int(lengths[i]) - 1, "path_length": int(lengths[i])},
            )
        )
    params = {
        "count": count,
        "test_count": test_count,
        "size": side,
        "min_path": min_path,
        "wall_min": walls[0],
        "wall_max": walls[1],
        "seed": seed,
    }
    return SourceResult(
        tasks, files=[generated_file("maze_generated", params)], rejected=0, read=len(tasks)
    )
