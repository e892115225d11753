"""Photometric redshifts from ugriz with scikit-learn tree models.

:class:`PhotoZRegressor` wraps a decision tree, random forest, extra trees or
gradient boosting behind one scikit-learn estimator. Features are the five
magnitudes plus the ten distinct colours (optionally the five errors), see
:func:`astrograph.ml.features.colour_features`.

The estimator follows the scikit-learn conventions (``fit(X, y)`` /
``predict(X)``, works in ``Pipeline`` and ``cross_val_score``): ``X`` is an
(N, 5) array of ugriz magnitudes, or (N, 10) with the five magnitude errors as
extra columns (see :func:`astrograph.ml.features.split_photometry`); ``y`` holds
the spectroscopic redshifts.

Per-object uncertainties and PDFs come from

* ``pdf="ensemble"`` - the spread of the per-tree predictions (forests), or
  of the training redshifts sharing the leaf (single tree);
* ``pdf="quantile"`` - extra gradient-boosted quantile regressors whose
  quantiles are turned into a CDF and differentiated on a redshift grid.
  Gradient boosting always uses this mode (its trees are not an ensemble of
  independent predictors).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import ArrayLike
from sklearn.base import BaseEstimator, RegressorMixin
from sklearn.ensemble import (
    ExtraTreesRegressor,
    GradientBoostingRegressor,
    HistGradientBoostingRegressor,
    RandomForestRegressor,
)
from sklearn.inspection import permutation_importance
from sklearn.tree import DecisionTreeRegressor

from ..errors import InputError
from .features import estimator_features, feature_names
from .metrics import photoz_metrics
from .validation import as_float_array, check_fitted

__all__ = ["PhotoZRegressor", "MODELS", "depth_study", "feature_importances"]

MODELS = ("random_forest", "extra_trees", "gradient_boosting", "tree")
_QUANTILES = (0.025, 0.05, 0.16, 0.3, 0.5, 0.7, 0.84, 0.95, 0.975)


class PhotoZRegressor(RegressorMixin, BaseEstimator):
    """Tree-based photometric-redshift estimator.

    Parameters
    ----------
    model : {"random_forest", "extra_trees", "gradient_boosting", "tree"}
    n_estimators : int
        Trees in the forest / boosting stages (ignored for ``"tree"``).
    max_depth : int or None
        Maximum depth of each tree (``None`` = grow fully; gradient boosting
        uses 4 when ``None``).
    min_samples_leaf : int or None
        Minimum training objects per leaf. ``None`` picks a model default
        (1 for random forest, 2 for extra trees, 5 for a tree, 1 for boosting).
    max_features : float, int, str or None
        Passed to scikit-learn (``None`` = all features).
    learning_rate : float
        Gradient boosting only.
    use_errors : bool
        Use the magnitude errors as features; then ``X`` must have 10 columns
        (ugriz, then their errors). Without it, error columns are ignored.
    pdf : {"ensemble", "quantile"}
        How uncertainties and PDFs are built (see module docs).
    random_state : int or None
        Seed for every random choice (bootstrap, splits, boosting subsamples).
    n_jobs : int or None
        Parallel jobs for the forests.

    Attributes
    ----------
    estimator_ : sklearn estimator
        The fitted tree model (it sees :attr:`feature_names_` as its columns).
    n_features_in_ : int
        Columns of ``X`` seen in ``fit`` (5, or 10 with errors).
    feature_names_ : list of str
        Names of the model's feature columns built from ``X``.
    z_range_ : (float, float)
        Range of the training redshifts.

    Notes
    -----
    Input rules: the magnitudes in ``X`` must be finite ugriz in (0, 50); rows
    with NaN or sentinels raise :class:`~astrograph.errors.InputError` (a
    ``ValueError``) listing them - nothing is dropped silently.
    """

    def __init__(
        self,
        model: str = "random_forest",
        n_estimators: int = 200,
        max_depth: int | None = None,
        min_samples_leaf: int | None = None,
        max_features: float | int | str | None = None,
        learning_rate: float = 0.05,
        use_errors: bool = False,
        pdf: str = "ensemble",
        random_state: int | None = 0,
        n_jobs: int | None = None,
    ) -> None:
        self.model = model
        self.n_estimators = n_estimators
        self.max_depth = max_depth
        self.min_samples_leaf = min_samples_leaf
        self.max_features = max_features
        self.learning_rate = learning_rate
        self.use_errors = use_errors
        self.pdf = pdf
        self.random_state = random_state
        self.n_jobs = n_jobs

    # -- construction -------------------------------------------------------------
    def _build(self) -> BaseEstimator:
        leaf_default = {"random_forest": 1, "extra_trees": 2, "tree": 5, "gradient_boosting": 1}
        if self.model not in MODELS:
            raise InputError(f"unknown model {self.model!r}; choose one of {MODELS}")
        if self.pdf not in ("ensemble", "quantile"):
            raise InputError(f"pdf must be 'ensemble' or 'quantile', got {self.pdf!r}")
        leaf = (
            self.min_samples_leaf if self.min_samples_leaf is not None else leaf_default[self.model]
        )
        common = {"max_depth": self.max_depth, "min_samples_leaf": leaf}
        if self.model == "random_forest":
            return RandomForestRegressor(
                n_estimators=self.n_estimators, max_features=self.max_features or 1.0,
                random_state=self.random_state, n_jobs=self.n_jobs, **common,
            )  # fmt: skip
        if self.model == "extra_trees":
            return ExtraTreesRegressor(
                n_estimators=self.n_estimators, max_features=self.max_features or 1.0,
                random_state=self.random_state, n_jobs=self.n_jobs, **common,
            )  # fmt: skip
        if self.model == "tree":
            return DecisionTreeRegressor(
                max_features=self.max_features, random_state=self.random_state, **common
            )
        return GradientBoostingRegressor(
            n_estimators=self.n_estimators, learning_rate=self.learning_rate,
            max_depth=self.max_depth or 4, min_samples_leaf=leaf, subsample=0.8,
            max_features=self.max_features, random_state=self.random_state,
        )  # fmt: skip

    def _features(self, X: ArrayLike) -> np.ndarray:
        """Feature columns of ``X`` for the fitted model (same width as in ``fit``)."""
        check_fitted(self, "estimator_")
        return estimator_features(X, self.use_errors, n_features_in=self.n_features_in_)[0]

    @property
    def _pdf_mode(self) -> str:
        return "quantile" if self.model == "gradient_boosting" else self.pdf

    # -- scikit-learn API -----------------------------------------------------------
    def fit(self, X: ArrayLike, y: ArrayLike) -> PhotoZRegressor:
        """Fit on ``X`` (N, 5) ugriz magnitudes [+ (N, 5) errors] and spectroscopic
        redshifts ``y`` (N,)."""
        X, width = estimator_features(X, self.use_errors)
        y = as_float_array(y, "y")
        if y.shape != (X.shape[0],):
            raise InputError(f"redshift vector z has shape {y.shape}; expected ({X.shape[0]},)")
        bad = np.flatnonzero(~np.isfinite(y))
        if bad.size:
            raise InputError(f"{bad.size} redshifts are NaN or inf (rows {bad[:10].tolist()})")
        self.estimator_ = self._build().fit(X, y)
        self.n_features_in_ = width
        self.feature_names_ = feature_names(errors=self.use_errors)
        self.z_range_ = (float(y.min()), float(y.max()))
        if self._pdf_mode == "ensemble" and self.model == "tree":
            # Training redshifts per leaf give the single tree an empirical PDF.
            self._train_leaves = self.estimator_.apply(X)
            self._train_z = y
        if self._pdf_mode == "quantile":
            self.quantiles_ = _QUANTILES
            self.quantile_models_ = [
                HistGradientBoostingRegressor(
                    loss="quantile", quantile=q, max_iter=100, learning_rate=0.15,
                    random_state=self.random_state,
                ).fit(X, y)
                for q in _QUANTILES
            ]  # fmt: skip
        return self

    def predict(self, X: ArrayLike) -> np.ndarray:
        """Point photo-z (N,) for ``X`` laid out as in ``fit``."""
        features = self._features(X)
        return self.estimator_.predict(features)

    def score(self, X: ArrayLike, y: ArrayLike, sample_weight: Any = None) -> float:
        """Negative sigma_NMAD (higher is better, so it works with model selection)."""
        return -photoz_metrics(self.predict(X), y)["sigma_nmad"]

    # -- uncertainties ---------------------------------------------------------------
    def _samples(self, X: np.ndarray) -> list[np.ndarray]:
        """Per-object sets of redshift 'draws' for the ensemble mode."""
        if self.model == "tree":
            leaves = self.estimator_.apply(X)
            order = np.argsort(self._train_leaves, kind="stable")
            sorted_leaves = self._train_leaves[order]
            out = []
            for leaf in leaves:
                lo, hi = np.searchsorted(sorted_leaves, [leaf, leaf + 1])
                out.append(self._train_z[order[lo:hi]])
            return out
        per_tree = np.stack([t.predict(X) for t in self.estimator_.estimators_], axis=1)
        return list(per_tree)

    def predict_quantiles(
        self, X: ArrayLike, quantiles: ArrayLike = (0.16, 0.5, 0.84)
    ) -> np.ndarray:
        """Photo-z quantiles, shape (N, len(quantiles))."""
        X = self._features(X)
        q = as_float_array(quantiles, "quantiles")
        if np.any((q <= 0) | (q >= 1)):
            raise InputError("quantiles must lie strictly between 0 and 1")
        if self._pdf_mode == "quantile":
            qs = np.sort(np.column_stack([m.predict(X) for m in self.quantile_models_]), axis=1)
            return np.stack([np.interp(q, self.quantiles_, row) for row in qs])
        return np.stack([np.quantile(s, q) for s in self._samples(X)])

    def predict_std(self, X: ArrayLike) -> np.ndarray:
        """Per-object 1-sigma photo-z uncertainty (N,).

        Ensemble mode: standard deviation of the per-tree predictions (or of the
        leaf's training redshifts for a single tree). Quantile mode: half the
        16-84 % interval.
        """
        if self._pdf_mode == "quantile":
            q = self.predict_quantiles(X, (0.16, 0.84))
            return 0.5 * (q[:, 1] - q[:, 0])
        return np.array([np.std(s) for s in self._samples(self._features(X))])

    def predict_pdf(
        self, X: ArrayLike, z_grid: ArrayLike | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """Photo-z PDFs on a redshift grid.

        Returns
        -------
        z_grid : numpy.ndarray, shape (M,)
        pdf : numpy.ndarray, shape (N, M)
            Each row integrates to 1 over ``z_grid`` (trapezoid rule).
        """
        check_fitted(self, "estimator_")
        if z_grid is None:
            lo, hi = self.z_range_
            pad = 0.1 * (hi - lo)
            z_grid = np.linspace(max(lo - pad, 0.0), hi + pad, 200)
        grid = as_float_array(z_grid, "z_grid")
        if grid.ndim != 1 or grid.size < 3 or np.any(np.diff(grid) <= 0):
            raise InputError("z_grid must be a 1-d increasing array of at least 3 points")
        X = self._features(X)
        dz = grid[1] - grid[0]
        if self._pdf_mode == "quantile":
            qs = np.sort(np.column_stack([m.predict(X) for m in self.quantile_models_]), axis=1)
            # Piecewise-linear CDF through the quantiles, flat tails beyond them.
            cdf = np.stack(
                [np.interp(grid, row, self.quantiles_, left=0.0, right=1.0) for row in qs]
            )
            pdf = np.gradient(cdf, grid, axis=1)
        else:
            # Gaussian kernel density of the draws; width >= one grid step.
            pdf = np.empty((X.shape[0], grid.size))
            for k, s in enumerate(self._samples(X)):
                bw = max(1.06 * np.std(s) * len(s) ** -0.2, dz)
                pdf[k] = np.exp(-0.5 * ((grid[:, None] - s[None, :]) / bw) ** 2).sum(axis=1)
        pdf = np.clip(pdf, 0.0, None)
        norm = np.trapezoid(pdf, grid, axis=1)
        norm[norm == 0] = 1.0
        return grid, pdf / norm[:, None]


def depth_study(
    X_train: ArrayLike,
    z_train: ArrayLike,
    X_test: ArrayLike,
    z_test: ArrayLike,
    depths: ArrayLike = (1, 2, 3, 4, 6, 8, 10, 12, 15, 20, 25),
    model: str = "tree",
    random_state: int = 0,
    **kwargs: Any,
) -> dict[str, np.ndarray]:
    """Train / test error against ``max_depth`` (shows over-fitting).

    ``X_train`` / ``X_test`` are laid out as for :meth:`PhotoZRegressor.fit`.

    Returns
    -------
    dict
        ``depth``, ``train_rms``, ``test_rms``, ``train_nmad``, ``test_nmad``
        (arrays over depths; errors are of dz = (zp - zs)/(1 + zs)).
    """
    out: dict[str, list[float]] = {
        k: [] for k in ("train_rms", "test_rms", "train_nmad", "test_nmad")
    }
    for d in depths:
        reg = PhotoZRegressor(
            model=model, max_depth=int(d), min_samples_leaf=1, random_state=random_state, **kwargs
        ).fit(X_train, z_train)
        m_tr = photoz_metrics(reg.predict(X_train), z_train)
        m_te = photoz_metrics(reg.predict(X_test), z_test)
        out["train_rms"].append(m_tr["rms"])
        out["test_rms"].append(m_te["rms"])
        out["train_nmad"].append(m_tr["sigma_nmad"])
        out["test_nmad"].append(m_te["sigma_nmad"])
    res = {k: np.asarray(v) for k, v in out.items()}
    res["depth"] = np.asarray(depths, dtype=int)
    return res


def feature_importances(
    reg: PhotoZRegressor,
    X: ArrayLike,
    z: ArrayLike,
    n_repeats: int = 5,
    random_state: int = 0,
) -> dict[str, np.ndarray | list[str]]:
    """Impurity-based and permutation importances of a fitted regressor.

    Permutation importance is the drop in R^2 on (``X``, ``z``) when one
    feature column of the model is shuffled (use held-out data).

    Returns
    -------
    dict
        ``names``, ``impurity`` (sums to 1), ``permutation_mean``, ``permutation_std``.
    """
    features = reg._features(X)
    perm = permutation_importance(
        reg.estimator_,
        features,
        as_float_array(z, "z"),
        n_repeats=n_repeats,
        random_state=random_state,
    )
    return {
        "names": reg.feature_names_,
        "impurity": np.asarray(reg.estimator_.feature_importances_),
        "permutation_mean": perm.importances_mean,
        "permutation_std": perm.importances_std,
    }
