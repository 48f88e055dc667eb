"""Transfer tests run single-threaded (BLAS, torch): the machines are shared and tiny problems
get slower, not faster, with threads spinning on busy cores. Restored after each module."""

from __future__ import annotations

import pytest
import torch
from threadpoolctl import threadpool_limits


@pytest.fixture(autouse=True, scope="module")
def _single_thread():
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    with threadpool_limits(1):
        yield
    torch.set_num_threads(before)
