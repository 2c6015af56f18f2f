"""Mazes: parsing, batched shortest paths, the shortest-path validator, a generator."""

from arcdata.maze.board import GOAL, OPEN, PATH, START, WALL, parse, parse_many, to_string
from arcdata.maze.generate import GenerationExhausted, generate_mazes
from arcdata.maze.paths import (
    is_valid_shortest_path,
    path_lengths,
    shortest_path_length,
    solve_many,
    solve_maze,
    valid_shortest_paths,
)

__all__ = [
    "GOAL",
    "OPEN",
    "PATH",
    "START",
    "WALL",
    "GenerationExhausted",
    "generate_mazes",
    "is_valid_shortest_path",
    "parse",
    "parse_many",
    "path_lengths",
    "shortest_path_length",
    "solve_many",
    "solve_maze",
    "to_string",
    "valid_shortest_paths",
]
