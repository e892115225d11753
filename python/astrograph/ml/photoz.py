"""Photometric redshifts from ugriz with scikit-learn tree models.

:class:`PhotoZRegressor` wraps a stack of models (the default), a decision tree,
random forest, extra trees or gradient boosting behind one scikit-learn
estimator. Features are the five magnitudes plus the ten distinct colours
(optionally the five errors), see :func:`astrograph.ml.features.colour_features`.

``model="stacked"`` (the default) is a :class:`~sklearn.ensemble.StackingRegressor`
of extra trees, histogram gradient boosting with the absolute-error loss and a
3 x 128 multilayer perceptron (on the magnitudes and adjacent colours, target
standardised), combined by a robust (Huber) linear fit on 5-fold out-of-fold
predictions. Under repeated 5-fold cross-validation it beats a plain
scikit-learn random forest on colours + r by the margins given in
``benchmarks/ml.md`` (``benchmarks/ml_cv.py`` measures them; a k-nearest-neighbour
member was tried and added nothing).

The estimator follows the scikit-learn conventions (``fit(X, y)`` /
``predict(X)``, works in ``Pipeline`` and ``cross_val_score``): ``X`` is an
(N, 5) array of ugriz magnitudes, or (N, 10) with the five magnitude errors as
extra columns (see :func:`astrograph.ml.features.split_photometry`); ``y`` holds
the spectroscopic redshifts.

Per-object uncertainties and PDFs come from

* ``pdf="quantile_forest"`` - a quantile regression forest (Meinshausen 2006):
  the training redshifts that share the object's leaves, weighted by
  1 / leaf size and averaged over trees (for the stacked model, its forest);
* ``pdf="ensemble"`` - the spread of the per-tree predictions (forests only);
* ``pdf="quantile"`` - extra gradient-boosted quantile regressors whose
  quantiles are turned into a piecewise-linear CDF. Gradient boosting always
  uses this mode (its trees are not an ensemble of independent predictors).

``pdf="auto"`` (the default) picks the quantile forest for the tree models and
the quantile mode for gradient boosting; their PIT, CRPS and interval coverage
are in ``benchmarks/ml.md`` (:mod:`astrograph.ml.pdf_metrics` scores them).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import ArrayLike
from scipy import sparse, special
from sklearn.base import BaseEstimator, RegressorMixin
from sklearn.ensemble import (
    HistGradientBoostingRegressor,
)
from sklearn.inspection import permutation_importance

from ..errors import InputError
from ._photoz_models import (
    MODELS,
    PDF_MODES,
    QUANTILES,
    build_model,
    leaf_weights,
    quantile_knots,
)
from .features import estimator_features, feature_names, uses_errors
from .metrics import photoz_metrics
from .validation import as_float_array, check_fitted, check_redshifts, check_z_grid

__all__ = ["PhotoZRegressor", "MODELS", "PDF_MODES", "depth_study", "feature_importances"]


class PhotoZRegressor(RegressorMixin, BaseEstimator):
    """Tree-based photometric-redshift estimator.

    Parameters
    ----------
    model : {"stacked", "random_forest", "extra_trees", "gradient_boosting", "tree"}
        ``"stacked"`` (default): extra trees + L1 gradient boosting + a neural
        network, stacked by a Huber linear fit (see module docs); six fits of each
        member (5-fold out-of-fold predictions + the final fit).
    n_estimators : int
        Trees in the forest / boosting stages (ignored for ``"tree"``; for
        ``"stacked"`` the trees of its forest).
    max_depth : int or None
        Maximum depth of each tree (``None`` = grow fully; gradient boosting
        uses 4 when ``None``).
    min_samples_leaf : int or None
        Minimum training objects per leaf. ``None`` picks a model default
        (1 for random forest, 2 for extra trees and the stack's forest, 5 for a
        tree, 1 for boosting).
    max_features : float, int, str or None
        Passed to scikit-learn (``None`` = all features).
    learning_rate : float
        Gradient boosting only.
    use_errors : bool or "auto"
        Use the magnitude errors as features; then ``X`` must have 10 columns
        (ugriz, then their errors). ``False``: error columns are ignored.
        ``"auto"`` (default): use the errors when ``X`` has them - they tell the
        model how far to trust each colour (a gain measured in ``benchmarks/ml.md``).
    pdf : {"auto", "quantile_forest", "ensemble", "quantile"}
        How uncertainties and PDFs are built (see module docs).
    random_state : int or None
        Seed for every random choice (bootstrap, splits, boosting subsamples).
    n_jobs : int or None
        Parallel jobs for the forests.

    Attributes
    ----------
    estimator_ : sklearn estimator
        The fitted model (it sees :attr:`feature_names_` as its columns).
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
    ``ValueError``) listing them - nothing is dropped silently. Training
    redshifts must be finite and not all equal.
    """

    def __init__(
        self,
        model: str = "stacked",
        n_estimators: int = 200,
        max_depth: int | None = None,
        min_samples_leaf: int | None = None,
        max_features: float | int | str | None = None,
        learning_rate: float = 0.05,
        use_errors: bool | str = "auto",
        pdf: str = "auto",
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
    def _check_pdf_mode(self) -> None:
        if self.model not in MODELS:
            raise InputError(f"unknown model {self.model!r}; choose one of {MODELS}")
        if self.pdf not in PDF_MODES:
            raise InputError(f"pdf must be one of {PDF_MODES}, got {self.pdf!r}")
        if self.pdf == "ensemble" and self.model == "stacked":
            raise InputError(
                "pdf='ensemble' needs a forest's per-tree predictions, which the stacked "
                "model's output is not: use pdf='quantile_forest' or 'quantile'"
            )
        value = self.n_estimators
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
            raise InputError(f"n_estimators must be an integer >= 1, got {value!r}")

    def _build(self) -> BaseEstimator:
        self._check_pdf_mode()
        return build_model(self)

    def _features(self, X: ArrayLike) -> np.ndarray:
        """Feature columns of ``X`` for the fitted model (same width as in ``fit``)."""
        check_fitted(self, "estimator_")
        return estimator_features(X, self.use_errors, n_features_in=self.n_features_in_)[0]

    @property
    def _pdf_mode(self) -> str:
        if self.model == "gradient_boosting":
            return "quantile"
        if self.pdf == "auto" or (self.pdf == "ensemble" and self.model == "tree"):
            # a single tree's "ensemble" is its leaf's training redshifts: a 1-tree QRF
            return "quantile_forest"
        return self.pdf

    @property
    def _fitted_pdf_mode(self) -> str:
        check_fitted(self, "estimator_")
        mode = self._pdf_mode
        if mode == "quantile" and not hasattr(self, "quantile_models_"):
            raise InputError(
                "pdf='quantile' needs the quantile models that fit() trains in that mode: "
                "this model was fitted with another pdf mode; refit it with pdf='quantile'"
            )
        return mode

    # -- scikit-learn API -----------------------------------------------------------
    def fit(self, X: ArrayLike, y: ArrayLike) -> PhotoZRegressor:
        """Fit on ``X`` (N, 5) ugriz magnitudes [+ (N, 5) errors] and spectroscopic
        redshifts ``y`` (N,).

        Raises :class:`~astrograph.errors.InputError` for bad magnitudes, NaN / inf
        redshifts, or redshifts that are all equal.
        """
        self._check_pdf_mode()
        X, width = estimator_features(X, self.use_errors)
        y = check_redshifts(y, X.shape[0], "z")
        self.estimator_ = self._build().fit(X, y)
        self.n_features_in_ = width
        self.feature_names_ = feature_names(errors=uses_errors(self.use_errors, width))
        self.z_range_ = (float(y.min()), float(y.max()))
        mode = self._pdf_mode
        if self.model != "gradient_boosting":
            # leaves of the training galaxies: the quantile-forest PDFs (kept for every
            # tree model, so pdf can be switched between tree modes after fitting)
            self._train_leaves = self._forest().apply(X).reshape(len(X), -1)
            self._train_z = y
        if mode == "quantile":
            self.quantiles_ = QUANTILES
            self.quantile_models_ = [
                HistGradientBoostingRegressor(
                    loss="quantile", quantile=q, max_iter=100, learning_rate=0.15,
                    random_state=self.random_state,
                ).fit(X, y)
                for q in QUANTILES
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
    def _forest(self) -> BaseEstimator:
        """The tree model whose leaves define the quantile-forest weights."""
        if self.model == "stacked":
            return self.estimator_.named_estimators_["forest"]
        return self.estimator_

    def _leaf_weights(self, X: np.ndarray) -> sparse.csr_matrix:
        """Quantile-regression-forest weights (see :func:`astrograph.ml._photoz_models.leaf_weights`)."""
        return leaf_weights(self._forest(), self._train_leaves, X)

    def _samples(self, X: np.ndarray) -> list[np.ndarray]:
        """Per-object per-tree predictions (the ``"ensemble"`` mode of the forests)."""
        per_tree = np.stack([t.predict(X) for t in self.estimator_.estimators_], axis=1)
        return list(per_tree)

    def _quantile_knots(self, X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return quantile_knots(self.quantile_models_, self.quantiles_, X)

    def predict_quantiles(
        self, X: ArrayLike, quantiles: ArrayLike = (0.16, 0.5, 0.84)
    ) -> np.ndarray:
        """Photo-z quantiles, shape (N, len(quantiles))."""
        q = as_float_array(quantiles, "quantiles")
        if q.ndim != 1 or q.size == 0 or np.any((q <= 0) | (q >= 1)):
            raise InputError("quantiles must be a 1-d array of levels strictly between 0 and 1")
        X = self._features(X)
        mode = self._fitted_pdf_mode
        if mode == "quantile":
            knots, levels = self._quantile_knots(X)
            return np.stack([np.interp(q, levels, row) for row in knots])
        if mode == "ensemble":
            return np.stack([np.quantile(s, q) for s in self._samples(X)])
        weights = self._leaf_weights(X)
        order = np.argsort(self._train_z, kind="stable")
        weights = weights[:, order].tocsr()
        weights.sort_indices()
        z_sorted = self._train_z[order]
        out = np.empty((X.shape[0], q.size))
        for k in range(X.shape[0]):
            lo, hi = weights.indptr[k], weights.indptr[k + 1]
            cdf = np.cumsum(weights.data[lo:hi])
            idx = np.minimum(np.searchsorted(cdf, q * cdf[-1]), hi - lo - 1)
            out[k] = z_sorted[weights.indices[lo:hi][idx]]
        return out

    def predict_std(self, X: ArrayLike) -> np.ndarray:
        """Per-object 1-sigma photo-z uncertainty (N,).

        Quantile-forest mode: weighted standard deviation of the training redshifts
        sharing the object's leaves. Ensemble mode: standard deviation of the per-tree
        predictions. Quantile mode: half the 16-84 % interval.
        """
        mode = self._fitted_pdf_mode
        if mode == "quantile":
            q = self.predict_quantiles(X, (0.16, 0.84))
            return 0.5 * (q[:, 1] - q[:, 0])
        features = self._features(X)
        if mode == "ensemble":
            return np.array([np.std(s) for s in self._samples(features)])
        weights = self._leaf_weights(features)
        mean = weights @ self._train_z
        return np.sqrt(np.clip(weights @ self._train_z**2 - mean**2, 0.0, None))

    def predict_pdf(
        self, X: ArrayLike, z_grid: ArrayLike | None = None, normalize: bool = False
    ) -> tuple[np.ndarray, np.ndarray]:
        """Photo-z PDFs on a redshift grid.

        Parameters
        ----------
        X : array_like
            Laid out as in ``fit``.
        z_grid : array_like, optional
            Strictly increasing redshifts (>= 3). Default: 200 points over the
            training range padded by 10 % on each side (not below 0).
        normalize : bool
            ``False`` (default): each row is the model's density, whose integral over
            the whole real line is 1, evaluated on the grid - so a row integrates over
            the grid to the probability that the grid holds (1 to 1e-6 on the default
            grid; less when the grid cuts the PDF). ``True``: rows are rescaled to unit
            integral over the grid (the PDF given that z lies on the grid); a row with
            no probability on the grid then raises.

        Returns
        -------
        z_grid : numpy.ndarray, shape (M,)
        pdf : numpy.ndarray, shape (N, M)

        Raises
        ------
        InputError
            A grid that is not 1-d increasing, or that misses the training redshift
            range (the model has no knowledge there: it never returns a made-up PDF),
            or ``normalize=True`` with objects whose probability on the grid is zero.
        """
        check_fitted(self, "estimator_")
        if z_grid is None:
            lo, hi = self.z_range_
            pad = 0.1 * (hi - lo)
            z_grid = np.linspace(max(lo - pad, 0.0), hi + pad, 200)
        grid = check_z_grid(z_grid, self.z_range_)
        X = self._features(X)
        mode = self._fitted_pdf_mode
        # cell edges halfway between grid points; the outer cells are symmetric
        edges = np.concatenate(
            [[1.5 * grid[0] - 0.5 * grid[1]], 0.5 * (grid[1:] + grid[:-1]),
             [1.5 * grid[-1] - 0.5 * grid[-2]]]
        )  # fmt: skip
        width = np.diff(edges)
        if mode == "quantile":
            knots, levels = self._quantile_knots(X)
            # exact cell averages of the piecewise-constant density
            cdf = np.stack([np.interp(edges, row, levels) for row in knots])
            pdf = np.diff(cdf, axis=1) / width
        elif mode == "ensemble":
            pdf = np.empty((X.shape[0], grid.size))
            step = float(np.min(np.diff(grid)))
            for k, s in enumerate(self._samples(X)):
                bw = max(1.06 * np.std(s) * len(s) ** -0.2, step)
                kern = np.exp(-0.5 * ((grid[:, None] - s[None, :]) / bw) ** 2)
                pdf[k] = kern.sum(axis=1) / (len(s) * bw * np.sqrt(2.0 * np.pi))
        else:
            # weighted training redshifts, each smoothed by a Gaussian of one grid step
            step = float(np.min(np.diff(grid)))
            cdf_train = special.ndtr((edges[None, :] - self._train_z[:, None]) / step)
            pdf = (self._leaf_weights(X) @ np.diff(cdf_train, axis=1)) / width
        pdf = np.clip(pdf, 0.0, None)
        if normalize:
            mass = np.trapezoid(pdf, grid, axis=1)
            empty = np.flatnonzero(mass <= 1e-12)
            if empty.size:
                raise InputError(
                    f"{empty.size} objects have no probability on z_grid "
                    f"[{grid[0]:g}, {grid[-1]:g}] (rows {empty[:10].tolist()}): "
                    "cannot normalise their PDFs to the grid; widen the grid"
                )
            pdf = pdf / mass[:, None]
        return grid, pdf


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
    feature column of the model is shuffled (use held-out data). For the stacked
    model the impurity importances are those of its forest.

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
        "impurity": np.asarray(reg._forest().feature_importances_),
        "permutation_mean": perm.importances_mean,
        "permutation_std": perm.importances_std,
    }
