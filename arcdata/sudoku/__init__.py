"""Sudoku: parsing and checks, a fast solver/rater, canonical forms, a generator."""

from arcdata.sudoku.board import agrees, box_side, has_conflict, is_valid_solution, parse, to_string
from arcdata.sudoku.canonical import canonical_form, equivalent
from arcdata.sudoku.generate import Generated, GenerationExhausted, generate
from arcdata.sudoku.solver import SolveResult, count_solutions, rate, solve

__all__ = [
    "Generated",
    "GenerationExhausted",
    "SolveResult",
    "agrees",
    "box_side",
    "canonical_form",
    "count_solutions",
    "equivalent",
    "generate",
    "has_conflict",
    "is_valid_solution",
    "parse",
    "rate",
    "solve",
    "to_string",
]
