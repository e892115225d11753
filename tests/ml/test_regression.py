"""Linear / polynomial fits and which parameters matter, on SDSS MGS."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("sklearn")

from astrograph.ml.datasets import load_sdss_mgs_photoz  # noqa: E402
from astrograph.ml.features import colour_features, feature_names  # noqa: E402
from astrograph.ml.regression import (  # noqa: E402
    lasso_path_study,
    polynomial_fit,
    polynomial_loss_curve,
    standardised_coefficients,
)


def test_straight_line_exact():
    x = np.linspace(0, 1, 20)
    fit = polynomial_fit(x, 3 * x + 2, degree=1)
    assert fit["coef"][0] == pytest.approx(3) and fit["intercept"] == pytest.approx(2)
    assert fit["mse"] == pytest.approx(0, abs=1e-20)


def test_polynomial_loss_curve_overfits():
    rng = np.random.default_rng(0)
    x = rng.uniform(-1, 1, 15)
    xt = rng.uniform(-1, 1, 200)
    f = lambda t: np.sin(3 * t)  # noqa: E731
    res = polynomial_loss_curve(
        x, f(x) + rng.normal(0, 0.1, 15), xt, f(xt) + rng.normal(0, 0.1, 200), range(1, 13)
    )
    assert np.all(np.diff(res["train_mse"]) <= 1e-12)  # nested models: training loss never rises
    best = int(np.argmin(res["test_mse"]))
    assert 2 <= res["degree"][best] <= 8
    assert res["test_mse"][-1] > 3 * res["test_mse"][best]


def test_which_parameters_matter_for_redshift(shared_data):
    train = load_sdss_mgs_photoz(shared_data, "train")
    X = colour_features(train.mags)
    names = feature_names()
    res = lasso_path_study(X[:, 5:], train.z_spec, names[5:])  # the ten colours
    assert res["coefs"].shape == (10, res["alphas"].size)
    assert np.all(np.diff(res["alphas"]) < 0)
    assert np.all(res["coefs"][:, 0] == 0)  # nothing survives the largest alpha
    # g-r straddles the 4000 A break over 0 < z < 0.3: it enters first.
    assert res["entry_order"][0] == "g-r"
    full = lasso_path_study(X, train.z_spec, names)
    assert len(full["entry_order"]) == 15
    coef = standardised_coefficients(X[:, 5:9], train.z_spec)  # u-g, u-r, u-i, u-z
    assert coef.shape == (4,)
    line = polynomial_fit(train.mags[:, 1] - train.mags[:, 2], train.z_spec, 1)
    cubic = polynomial_fit(train.mags[:, 1] - train.mags[:, 2], train.z_spec, 3)
    assert cubic["mse"] < line["mse"]


def test_regression_bad_input():
    with pytest.raises(ValueError, match="NaN"):
        polynomial_fit([0.0, np.nan], [1.0, 2.0])
    with pytest.raises(ValueError, match="degree"):
        polynomial_fit([0.0, 1.0], [1.0, 2.0], degree=0)
    with pytest.raises(ValueError, match="feature names"):
        lasso_path_study(np.ones((5, 3)), np.ones(5), ["a"])
