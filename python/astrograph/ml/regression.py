"""Regression basics: linear / polynomial fits with their loss, and which
parameters matter (lasso path, standardised coefficients).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import ArrayLike
from sklearn.linear_model import LinearRegression, lasso_path
from sklearn.metrics import mean_squared_error
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import PolynomialFeatures, StandardScaler

from ..errors import InputError
from .validation import as_float_array

__all__ = [
    "polynomial_fit",
    "polynomial_loss_curve",
    "lasso_path_study",
    "standardised_coefficients",
]


def _xy(x: ArrayLike, y: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    X = as_float_array(x, "x")
    if X.ndim == 1:
        X = X[:, None]
    Y = as_float_array(y, "y")
    if X.ndim != 2 or Y.shape != (X.shape[0],):
        raise InputError(
            f"x has shape {np.shape(x)} and y {np.shape(y)}; need (N,) or (N, D) and (N,)"
        )
    if X.shape[0] == 0:
        raise InputError("x and y are empty")
    if not (np.isfinite(X).all() and np.isfinite(Y).all()):
        raise InputError("x or y contains NaN or inf")
    return X, Y


def polynomial_fit(x: ArrayLike, y: ArrayLike, degree: int = 1) -> dict[str, Any]:
    """Least-squares polynomial fit (degree 1 = straight line).

    Returns
    -------
    dict
        ``model`` (fitted pipeline), ``mse`` (mean squared error loss on the
        fitting data), ``coef`` and ``intercept``.
    """
    if degree < 1:
        raise InputError(f"degree must be >= 1, got {degree}")
    X, Y = _xy(x, y)
    model: Pipeline = make_pipeline(
        PolynomialFeatures(degree, include_bias=False), LinearRegression()
    ).fit(X, Y)
    lin = model[-1]
    return {
        "model": model,
        "mse": float(mean_squared_error(Y, model.predict(X))),
        "coef": np.asarray(lin.coef_),
        "intercept": float(lin.intercept_),
    }


def polynomial_loss_curve(
    x_train: ArrayLike,
    y_train: ArrayLike,
    x_test: ArrayLike,
    y_test: ArrayLike,
    degrees: ArrayLike = range(1, 10),
) -> dict[str, np.ndarray]:
    """Train and test MSE against polynomial degree (under- vs over-fitting)."""
    Xt, Yt = _xy(x_test, y_test)
    train, test = [], []
    for d in degrees:
        fit = polynomial_fit(x_train, y_train, int(d))
        train.append(fit["mse"])
        test.append(mean_squared_error(Yt, fit["model"].predict(Xt)))
    return {
        "degree": np.asarray(list(degrees)),
        "train_mse": np.asarray(train),
        "test_mse": np.asarray(test),
    }


def lasso_path_study(
    X: ArrayLike, y: ArrayLike, feature_names: list[str] | None = None, n_alphas: int = 50
) -> dict[str, Any]:
    """Lasso regularisation path on standardised features.

    Returns
    -------
    dict
        ``alphas`` (decreasing), ``coefs`` (D, n_alphas), ``names`` and
        ``entry_order``: features sorted by the largest alpha at which their
        coefficient first becomes non-zero (most important first).
    """
    A, Y = _xy(X, y)
    names = (
        list(feature_names) if feature_names is not None else [f"x{i}" for i in range(A.shape[1])]
    )
    if len(names) != A.shape[1]:
        raise InputError(f"{len(names)} feature names for {A.shape[1]} columns")
    Z = StandardScaler().fit_transform(A)
    yc = Y - Y.mean()
    # Explicit grid from the alpha at which the first feature enters down to 1e-3 of it.
    alpha_max = np.max(np.abs(Z.T @ yc)) / Z.shape[0]
    grid = np.logspace(np.log10(alpha_max), np.log10(alpha_max * 1e-3), n_alphas)
    alphas, coefs, _ = lasso_path(Z, yc, alphas=grid)
    nonzero = np.abs(coefs) > 0
    first = np.where(nonzero.any(axis=1), np.argmax(nonzero, axis=1), coefs.shape[1])
    order = [names[i] for i in np.argsort(first, kind="stable")]
    return {"alphas": alphas, "coefs": coefs, "names": names, "entry_order": order}


def standardised_coefficients(X: ArrayLike, y: ArrayLike) -> np.ndarray:
    """Linear-regression coefficients on standardised features (comparable sizes)."""
    A, Y = _xy(X, y)
    return LinearRegression().fit(StandardScaler().fit_transform(A), Y).coef_
