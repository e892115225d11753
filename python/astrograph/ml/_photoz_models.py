"""The models behind :class:`~astrograph.ml.photoz.PhotoZRegressor`: their
construction (the stack and the single tree models) and the quantile-forest
and quantile-regression machinery its PDFs are made of."""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy import sparse
from sklearn.base import BaseEstimator
from sklearn.compose import TransformedTargetRegressor
from sklearn.ensemble import (
    ExtraTreesRegressor,
    GradientBoostingRegressor,
    HistGradientBoostingRegressor,
    RandomForestRegressor,
    StackingRegressor,
)
from sklearn.linear_model import HuberRegressor
from sklearn.model_selection import KFold
from sklearn.neural_network import MLPRegressor
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer, StandardScaler
from sklearn.tree import DecisionTreeRegressor

#: Internal: the public names live in :mod:`astrograph.ml.photoz`.
__all__: list[str] = []

MODELS = ("stacked", "random_forest", "extra_trees", "gradient_boosting", "tree")
#: Ways to build per-object PDFs (see the module docs).
PDF_MODES = ("auto", "quantile_forest", "ensemble", "quantile")
QUANTILES = (0.025, 0.05, 0.16, 0.3, 0.5, 0.7, 0.84, 0.95, 0.975)
#: Histogram gradient boosting member of the stack: the absolute-error loss (a
#: conditional median, robust to the outliers that sigma_NMAD ignores) and the
#: settings chosen by an inner CV on a held-out tuning subset (benchmarks/ml_cv.py).
_STACK_BOOSTING = {
    "loss": "absolute_error", "max_iter": 200, "learning_rate": 0.05, "min_samples_leaf": 40,
}  # fmt: skip
#: Neural-network member: 3 x 128 ReLU on standardised magnitudes + adjacent colours
#: [+ errors], standardised target, Adam, early stopping on 15 % of its data.
_STACK_MLP = {
    "hidden_layer_sizes": (128, 128, 128), "alpha": 1e-4, "batch_size": 64, "max_iter": 300,
    "early_stopping": True, "n_iter_no_change": 20, "validation_fraction": 0.15,
}  # fmt: skip


def adjacent_columns(features: np.ndarray) -> np.ndarray:
    """From :func:`colour_features` columns (ugriz, the 10 colours [, 5 errors]) keep
    ugriz, the adjacent colours u-g, g-r, r-i, i-z [and the errors]."""
    keep = [0, 1, 2, 3, 4, 5, 9, 12, 14] + list(range(15, features.shape[1]))
    return features[:, keep]


def build_model(p: Any) -> BaseEstimator:
    """The unfitted model of a PhotoZRegressor ``p`` (its parameters are read, not changed)."""
    leaf_default = {"random_forest": 1, "extra_trees": 2, "tree": 5, "gradient_boosting": 1,
                    "stacked": 2}  # fmt: skip
    leaf = p.min_samples_leaf if p.min_samples_leaf is not None else leaf_default[p.model]
    common = {"max_depth": p.max_depth, "min_samples_leaf": leaf}
    if p.model == "random_forest":
        return RandomForestRegressor(
            n_estimators=p.n_estimators, max_features=p.max_features or 1.0,
            random_state=p.random_state, n_jobs=p.n_jobs, **common,
        )  # fmt: skip
    if p.model in ("extra_trees", "stacked"):
        forest = ExtraTreesRegressor(
            n_estimators=p.n_estimators, max_features=p.max_features or 1.0,
            random_state=p.random_state, n_jobs=p.n_jobs, **common,
        )  # fmt: skip
        return forest if p.model == "extra_trees" else _stack(p, forest)
    if p.model == "tree":
        return DecisionTreeRegressor(
            max_features=p.max_features, random_state=p.random_state, **common
        )
    return GradientBoostingRegressor(
        n_estimators=p.n_estimators, learning_rate=p.learning_rate,
        max_depth=p.max_depth or 4, min_samples_leaf=leaf, subsample=0.8,
        max_features=p.max_features, random_state=p.random_state,
    )  # fmt: skip


def _stack(p: Any, forest: BaseEstimator) -> StackingRegressor:
    """Forest + L1 boosting + neural network, combined on 5-fold out-of-fold predictions."""
    boost = HistGradientBoostingRegressor(**_STACK_BOOSTING, random_state=p.random_state)
    mlp = TransformedTargetRegressor(
        make_pipeline(
            FunctionTransformer(adjacent_columns),
            StandardScaler(),
            MLPRegressor(**_STACK_MLP, random_state=p.random_state),
        ),
        transformer=StandardScaler(),
    )
    return StackingRegressor(
        [("forest", forest), ("boost", boost), ("mlp", mlp)],
        final_estimator=HuberRegressor(epsilon=1.2, alpha=0.0),
        cv=KFold(5, shuffle=True, random_state=p.random_state),
    )


def leaf_weights(forest: BaseEstimator, train: np.ndarray, X: np.ndarray) -> sparse.csr_matrix:
    """Quantile-regression-forest weights (Meinshausen 2006), shape (n, n_train).

    Row k holds, for each training galaxy i, the mean over trees of
    1[i shares object k's leaf] / (training galaxies in that leaf); rows sum to 1.
    """
    test = forest.apply(X).reshape(len(X), -1)
    n, n_train, n_trees = len(test), len(train), train.shape[1]
    n_nodes = np.maximum(train.max(axis=0), test.max(axis=0)) + 1
    offset = np.concatenate([[0], np.cumsum(n_nodes)[:-1]])
    g_train, g_test = (train + offset).ravel(), (test + offset).ravel()
    size = np.bincount(g_train, minlength=int(n_nodes.sum()))
    shape = (n_train, int(n_nodes.sum()))
    rows = np.repeat(np.arange(n_train), n_trees)
    member = sparse.csr_matrix((1.0 / size[g_train], (rows, g_train)), shape=shape)
    rows = np.repeat(np.arange(n), n_trees)
    leaf = sparse.csr_matrix(
        (np.full(n * n_trees, 1.0 / n_trees), (rows, g_test)), shape=(n, shape[1])
    )
    return (leaf @ member.T).tocsr()


def quantile_knots(models: list, levels: Any, X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Knots (n, K + 2) and levels (K + 2,) of the piecewise-linear quantile-mode CDF.

    The fitted quantiles are made strictly increasing, and each tail gets the
    density of its neighbouring segment until its probability is used up, so the
    CDF runs from exactly 0 to exactly 1 with no point masses.
    """
    qs = np.sort(np.column_stack([m.predict(X) for m in models]), axis=1)
    qs = qs + 1e-6 * np.arange(qs.shape[1])  # strictly increasing knots
    p = np.asarray(levels)
    low = qs[:, 0] - (qs[:, 1] - qs[:, 0]) * p[0] / (p[1] - p[0])
    high = qs[:, -1] + (qs[:, -1] - qs[:, -2]) * (1 - p[-1]) / (p[-1] - p[-2])
    return np.column_stack([low, qs, high]), np.concatenate([[0.0], p, [1.0]])
