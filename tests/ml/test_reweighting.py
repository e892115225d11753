"""Nearest-neighbour density-ratio weights (Lima et al. 2008) on known densities."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("sklearn")

from astrograph.errors import InputError  # noqa: E402
from astrograph.ml.reweighting import nn_density_ratio_weights, target_support  # noqa: E402


@pytest.fixture(scope="module")
def gaussians():
    rng = np.random.default_rng(0)
    train = rng.normal(0.0, 1.0, (20000, 2))
    target = rng.normal([0.5, -0.3], 0.8, (20000, 2))
    return train, target


def test_recovers_known_density_ratio(gaussians):
    train, target = gaussians
    w = nn_density_ratio_weights(train, target, k=20)
    assert w.shape == (len(train),) and np.all(w >= 0) and w.mean() == pytest.approx(1.0)

    def log_normal(x, mu, s):
        return -0.5 * np.sum(((x - mu) / s) ** 2, axis=1) - 2 * np.log(s)

    true = np.exp(log_normal(train, np.array([0.5, -0.3]), 0.8) - log_normal(train, 0.0, 1.0))
    core = np.linalg.norm(train, axis=1) < 1.5  # where both samples are dense
    ratio = w[core] / true[core]
    assert np.median(ratio) == pytest.approx(1.0, abs=0.1)
    assert np.corrcoef(w[core], true[core])[0, 1] > 0.8
    # the weighted training set has the target's moments
    mean = np.average(train, axis=0, weights=w)
    std = np.sqrt(np.average((train - mean) ** 2, axis=0, weights=w))
    np.testing.assert_allclose(mean, [0.5, -0.3], atol=0.04)
    np.testing.assert_allclose(std, [0.8, 0.8], atol=0.05)


def test_identical_samples_give_flat_weights(gaussians):
    train, _ = gaussians
    w = nn_density_ratio_weights(train[:5000], train[5000:10000], k=30)
    assert np.median(np.abs(w - 1)) < 0.2


def test_standardisation_makes_units_irrelevant(gaussians):
    train, target = gaussians
    scale = np.array([1.0, 1000.0])
    a = nn_density_ratio_weights(train[:3000], target[:3000], k=10)
    b = nn_density_ratio_weights(train[:3000] * scale, target[:3000] * scale, k=10)
    np.testing.assert_allclose(a, b, rtol=1e-9)


def test_disjoint_support_is_reported():
    rng = np.random.default_rng(1)
    bright = rng.normal(0.0, 1.0, (2000, 1))
    faint = rng.normal(0.0, 1.0, (2000, 1)) + np.where(rng.random((2000, 1)) < 0.5, 0.0, 20.0)
    covered = target_support(bright, faint, k=10)
    assert covered[faint[:, 0] < 5].mean() > 0.95 and covered[faint[:, 0] > 15].mean() < 0.01
    w = nn_density_ratio_weights(bright, faint, k=10)
    assert w.mean() == pytest.approx(1.0)  # only the overlapping half gets weight
    with pytest.raises(InputError, match="do not overlap"):
        nn_density_ratio_weights(bright, bright + 100.0)


GOOD = np.random.default_rng(2).normal(size=(50, 2))


@pytest.mark.parametrize(
    ("args", "kwargs", "msg"),
    [
        ((GOOD, GOOD[:, :1]), {}, "train_features has 2 features but target_features has 1"),
        ((np.empty((0, 2)), GOOD), {}, "train_features is empty"),
        ((GOOD, np.ones((2, 2, 2))), {}, "1-d or 2-d"),
        ((np.where(np.arange(100).reshape(50, 2) == 7, np.nan, GOOD), GOOD), {}, r"rows \[3\]"),
        ((GOOD, [["a", "b"]]), {}, "target_features must be numeric"),
        ((GOOD, GOOD), {"k": 0}, "k must be a positive integer"),
        ((GOOD, GOOD), {"k": 2.5}, "k must be a positive integer"),
        ((GOOD, GOOD), {"k": 50}, "more than k training objects"),
    ],
)
def test_bad_inputs(args, kwargs, msg):
    with pytest.raises(InputError, match=msg):
        nn_density_ratio_weights(*args, **kwargs)
