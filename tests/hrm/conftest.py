"""HRM tests run on one CPU thread: the CI box has two cores, and tiny models only lose from
thread hand-offs, especially when other jobs share the machine."""

from __future__ import annotations

import pytest
import torch


@pytest.fixture(autouse=True, scope="session")
def _one_thread():
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)
