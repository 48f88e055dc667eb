"""Discovery tests run single-threaded: the machines they run on are shared, and OpenMP
(FAISS, BLAS) spinning on busy cores makes tiny problems 10x slower. Restored after each module."""

from __future__ import annotations

import faiss
import pytest
from threadpoolctl import threadpool_limits


@pytest.fixture(autouse=True, scope="module")
def _single_thread():
    before = faiss.omp_get_max_threads()
    faiss.omp_set_num_threads(1)
    with threadpool_limits(1):
        yield
    faiss.omp_set_num_threads(before)
