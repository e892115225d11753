"""Shared fixtures: where the real survey samples live."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = ROOT.parent / "shared" / "data"


@pytest.fixture(scope="session")
def shared_data() -> Path:
    if not SHARED_DATA.is_dir():
        pytest.fail(f"real test data not found at {SHARED_DATA} (../shared/data beside the repo)")
    return SHARED_DATA


@pytest.fixture(scope="module")
def one_thread():
    """BLAS / OpenMP pools of one thread: scikit-learn models run many times
    slower when their threads compete on a busy 2-core machine."""
    from threadpoolctl import threadpool_limits

    with threadpool_limits(1):
        yield


@pytest.fixture(scope="module")
def dr14(shared_data):
    from astrograph.datasets import load_sdss_dr14_classes

    return load_sdss_dr14_classes(shared_data)
