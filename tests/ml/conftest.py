"""Fixtures of the machine-learning tests (``shared_data`` comes from tests/conftest.py)."""

from __future__ import annotations

import pytest


@pytest.fixture(scope="module")
def one_thread():
    """BLAS / OpenMP pools of one thread: scikit-learn models run many times
    slower when their threads compete on a busy 2-core machine."""
    # lazy: threadpoolctl comes with scikit-learn, which these tests skip without
    from threadpoolctl import threadpool_limits

    with threadpool_limits(1):
        yield


@pytest.fixture(scope="module")
def dr14(shared_data):
    # lazy: the readers need pandas / scikit-learn (optional [ml] extra)
    from astrograph.ml.datasets import load_sdss_dr14_classes

    return load_sdss_dr14_classes(shared_data)
