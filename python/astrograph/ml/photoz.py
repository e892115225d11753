"""Photometric redshifts from ugriz with scikit-learn tree models.

:class:`PhotoZRegressor` wraps a decision tree, random forest, extra trees or
gradient boosting behind one scikit-learn estimator. Features are the five
magnitudes plus the ten distinct colours (optionally the five errors), see
:func:`astrograph.features.colour_features`.

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
from sklearn.utils.validation import check_is_fitted

from .features import colour_features, feature_names
from .metrics import photoz_metrics

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
        Append the magnitude errors as features; then ``fit`` / ``predict``
        require ``errors``.
    pdf : {"ensemble", "quantile"}
        How uncertainties and PDFs are built (see module docs).
    random_state : int or None
        Seed for every random choice (bootstrap, splits, boosting subsamples).
    n_jobs : int or None
        Parallel jobs for the forests.

    Notes
    -----
    Input rules: ``mags`` must be (N, 5) finite ugriz in (0, 50); rows with NaN
    or sentinels raise ``ValueError`` listing them - nothing is dropped silently.
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
            raise ValueError(f"unknown model {self.model!r}; choose one of {MODELS}")
        if self.pdf not in ("ensemble", "quantile"):
            raise ValueError(f"pdf must be 'ensemble' or 'quantile', got {self.pdf!r}")
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

    def _features(self, mags: ArrayLike, errors: ArrayLike | None) -> np.ndarray:
        if self.use_errors and errors is None:
            raise ValueError("this PhotoZRegressor uses errors as features; pass errors=")
        return colour_features(mags, errors if self.use_errors else None)

    @property
    def feature_names_(self) -> list[str]:
        """Names of the feature columns the model was trained on."""
        return feature_names(errors=self.use_errors)

    @property
    def _pdf_mode(self) -> str:
        return "quantile" if self.model == "gradient_boosting" else self.pdf

    # -- scikit-learn API -----------------------------------------------------------
    def fit(
        self, mags: ArrayLike, z: ArrayLike, errors: ArrayLike | None = None
    ) -> PhotoZRegressor:
        """Fit on (N, 5) ugriz magnitudes and spectroscopic redshifts ``z`` (N,)."""
        X = self._features(mags, errors)
        y = np.asarray(z, dtype=float)
        if y.shape != (X.shape[0],):
            raise ValueError(f"z has shape {y.shape}; expected ({X.shape[0]},) to match mags")
        bad = np.flatnonzero(~np.isfinite(y))
        if bad.size:
            raise ValueError(f"{bad.size} redshifts are NaN or inf (rows {bad[:10].tolist()})")
        self.estimator_ = self._build().fit(X, y)
        self.n_features_in_ = X.shape[1]
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

    def predict(self, mags: ArrayLike, errors: ArrayLike | None = None) -> np.ndarray:
        """Point photo-z (N,) for (N, 5) ugriz magnitudes."""
        check_is_fitted(self, "estimator_")
        return self.estimator_.predict(self._features(mags, errors))

    def score(self, mags: ArrayLike, z: ArrayLike, sample_weight: Any = None) -> float:
        """Negative sigma_NMAD (higher is better, so it works with model selection)."""
        return -photoz_metrics(self.predict(mags), z)["sigma_nmad"]

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
        self,
        mags: ArrayLike,
        quantiles: ArrayLike = (0.16, 0.5, 0.84),
        errors: ArrayLike | None = None,
    ) -> np.ndarray:
        """Photo-z quantiles, shape (N, len(quantiles))."""
        check_is_fitted(self, "estimator_")
        X = self._features(mags, errors)
        q = np.asarray(quantiles, dtype=float)
        if np.any((q <= 0) | (q >= 1)):
            raise ValueError("quantiles must lie strictly between 0 and 1")
        if self._pdf_mode == "quantile":
            qs = np.sort(np.column_stack([m.predict(X) for m in self.quantile_models_]), axis=1)
            return np.stack([np.interp(q, self.quantiles_, row) for row in qs])
        return np.stack([np.quantile(s, q) for s in self._samples(X)])

    def predict_std(self, mags: ArrayLike, errors: ArrayLike | None = None) -> np.ndarray:
        """Per-object 1-sigma photo-z uncertainty (N,).

        Ensemble mode: standard deviation of the per-tree predictions (or of the
        leaf's training redshifts for a single tree). Quantile mode: half the
        16-84 % interval.
        """
        check_is_fitted(self, "estimator_")
        if self._pdf_mode == "quantile":
            q = self.predict_quantiles(mags, (0.16, 0.84), errors)
            return 0.5 * (q[:, 1] - q[:, 0])
        return np.array([np.std(s) for s in self._samples(self._features(mags, errors))])

    def predict_pdf(
        self, mags: ArrayLike, z_grid: ArrayLike | None = None, errors: ArrayLike | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """Photo-z PDFs on a redshift grid.

        Returns
        -------
        z_grid : numpy.ndarray, shape (M,)
        pdf : numpy.ndarray, shape (N, M)
            Each row integrates to 1 over ``z_grid`` (trapezoid rule).
        """
        check_is_fitted(self, "estimator_")
        if z_grid is None:
            lo, hi = self.z_range_
            pad = 0.1 * (hi - lo)
            z_grid = np.linspace(max(lo - pad, 0.0), hi + pad, 200)
        grid = np.asarray(z_grid, dtype=float)
        if grid.ndim != 1 or grid.size < 3 or np.any(np.diff(grid) <= 0):
            raise ValueError("z_grid must be a 1-d increasing array of at least 3 points")
        X = self._features(mags, errors)
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
    mags_train: ArrayLike,
    z_train: ArrayLike,
    mags_test: ArrayLike,
    z_test: ArrayLike,
    depths: ArrayLike = (1, 2, 3, 4, 6, 8, 10, 12, 15, 20, 25),
    model: str = "tree",
    random_state: int = 0,
    **kwargs: Any,
) -> dict[str, np.ndarray]:
    """Train / test error against ``max_depth`` (shows over-fitting).

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
        ).fit(mags_train, z_train)
        m_tr = photoz_metrics(reg.predict(mags_train), z_train)
        m_te = photoz_metrics(reg.predict(mags_test), z_test)
        out["train_rms"].append(m_tr["rms"])
        out["test_rms"].append(m_te["rms"])
        out["train_nmad"].append(m_tr["sigma_nmad"])
        out["test_nmad"].append(m_te["sigma_nmad"])
    res = {k: np.asarray(v) for k, v in out.items()}
    res["depth"] = np.asarray(depths, dtype=int)
    return res


def feature_importances(
    reg: PhotoZRegressor,
    mags: ArrayLike,
    z: ArrayLike,
    errors: ArrayLike | None = None,
    n_repeats: int = 5,
    random_state: int = 0,
) -> dict[str, np.ndarray | list[str]]:
    """Impurity-based and permutation importances of a fitted regressor.

    Permutation importance is the drop in R^2 on (``mags``, ``z``) when one
    feature column is shuffled (use held-out data).

    Returns
    -------
    dict
        ``names``, ``impurity`` (sums to 1), ``permutation_mean``, ``permutation_std``.
    """
    check_is_fitted(reg, "estimator_")
    X = reg._features(mags, errors)
    perm = permutation_importance(
        reg.estimator_, X, np.asarray(z, float), n_repeats=n_repeats, random_state=random_state
    )
    return {
        "names": reg.feature_names_,
        "impurity": np.asarray(reg.estimator_.feature_importances_),
        "permutation_mean": perm.importances_mean,
        "permutation_std": perm.importances_std,
    }
