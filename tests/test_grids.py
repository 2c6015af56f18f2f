"""Raw grids are validated with errors that name the file, task, pair and field."""

import pytest

from arcdata.errors import InputError
from arcdata.grids import validate_grid


@pytest.mark.parametrize(
    ("value", "fragment"),
    [
        ([], "non-empty"),
        ([[1, 2], [3]], "ragged"),
        ([[1, 10]], "0..9"),
        ([[1, -1]], "0..9"),
        ([[1.0]], "not an integer"),
        ([[True]], "not an integer"),
        ([[0] * 31], "at most 30"),
        ([[0]] * 31, "at most 30"),
        ("grid", "non-empty list"),
        ([[]], "non-empty"),
    ],
)
def test_validate_grid_names_the_place(value, fragment):
    with pytest.raises(InputError) as info:
        validate_grid(value, file="f.json", task="t1", pair="train[0]", field="input")
    msg = str(info.value)
    assert fragment in msg
    assert "f.json" in msg and "task t1" in msg and "train[0]" in msg and "'input'" in msg
