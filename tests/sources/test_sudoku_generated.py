"""The ``sudoku_generated`` source."""

from __future__ import annotations

import numpy as np
import pytest

from arcdata.errors import ConfigError
from arcdata.sources.base import Rejects, read_source
from arcdata.sudoku.canonical import canonical_form
from arcdata.sudoku.solver import solve


def test_sudoku_generated_splits_are_disjoint_classes():
    spec = {"type": "sudoku_generated", "count": 4, "test_count": 2, "min_rating": 2, "seed": 9}
    result = read_source(spec, Rejects())
    train = [t for t in result.tasks if not t.evaluation]
    test = [t for t in result.tasks if t.evaluation]
    assert len(train) == 4 and len(test) == 2
    assert all(t.train and not t.test for t in train)
    assert all(t.test and not t.train for t in test)
    forms = [canonical_form(t.pairs()[0][2].input) for t in result.tasks]
    assert len(set(forms)) == 6
    for t in result.tasks:
        pair = t.pairs()[0][2]
        res = solve(pair.input)
        assert res.unique and np.array_equal(res.solutions[0], pair.output)
        assert t.meta["rating"] == res.guesses >= 2
    again = read_source(spec, Rejects())
    assert [t.id for t in again.tasks] == [t.id for t in result.tasks]
    assert all(
        np.array_equal(x.pairs()[0][2].input, y.pairs()[0][2].input)
        for x, y in zip(again.tasks, result.tasks, strict=True)
    )
    assert result.files[0]["path"] == "generated:sudoku_generated"


def test_sudoku_generated_4x4_and_errors():
    result = read_source({"type": "sudoku_generated", "count": 3, "size": 4}, Rejects())
    assert [t.train[0].input.shape for t in result.tasks] == [(4, 4)] * 3
    with pytest.raises(ConfigError, match="min_rating"):
        read_source(
            {
                "type": "sudoku_generated",
                "count": 1,
                "size": 4,
                "min_rating": 40,
                "max_attempts": 5,
            },
            Rejects(),
        )
    with pytest.raises(ConfigError, match="count"):
        read_source({"type": "sudoku_generated", "count": -1}, Rejects())
