"""Machine learning for astronomy: scikit-learn models, JAX / Flax networks, data sets.

Needs the ``[ml]`` extra. Importing :mod:`astrograph.ml` is cheap: the names
below are resolved from their modules on first use, so scikit-learn and JAX are
only imported when a model is.

Modules, from the bottom layer up (a module imports only modules of the layers
below it, and nothing of :mod:`astrograph.clustering`; the shared helpers are
:mod:`astrograph.errors` and :mod:`astrograph._lazy`):

1. :mod:`~astrograph.ml.features` - :data:`~astrograph.ml.features.BANDS`,
   magnitude checks and the one photometric feature builder;
   :mod:`~astrograph.ml.metrics` - photo-z metrics and the Galaxy Zoo RMSE;
   :mod:`~astrograph.ml.pdf_metrics` - photo-z PDF scores (PIT, KS / CvM, CRPS,
   interval coverage, N(z) reconstruction);
   :mod:`~astrograph.ml.validation` - fitted-state and image-batch checks.
2. :mod:`~astrograph.ml.datasets` - readers of the real SDSS / Galaxy Zoo samples,
   image folders and Galaxy10, and cached downloaders;
   :mod:`~astrograph.ml.plots` - matplotlib figures.
3. scikit-learn models: :mod:`~astrograph.ml.photoz` (:class:`PhotoZRegressor`,
   tree-based photo-z with PDFs), :mod:`~astrograph.ml.classify` (star / galaxy /
   QSO and morphology classifiers, entropy), :mod:`~astrograph.ml.unsupervised`
   (clustering, embeddings, anomalies), :mod:`~astrograph.ml.regression` (linear and
   polynomial fits, lasso path), :mod:`~astrograph.ml.association` (Apriori through
   mlxtend, Eclat on sorted transaction-id lists), :mod:`~astrograph.ml.reweighting`
   (nearest-neighbour density-ratio weights for biased training sets).
4. :mod:`astrograph.ml.nn` - JAX / Flax NNX / optax: the shared training loop,
   image augmentation, the CNN, a from-scratch multilayer network and
   :class:`~astrograph.ml.nn.photoz.DensePhotoZRegressor`.
5. :mod:`~astrograph.ml.morphology` - :class:`GalaxyCNN`, the scikit-learn-style
   estimator for galaxy images.

The photo-z estimators follow the scikit-learn conventions: ``fit(X, y)`` /
``predict(X)`` with ``X`` of shape (N, 5) (ugriz magnitudes) or (N, 10) (ugriz
then their errors), so they work inside ``Pipeline`` and ``cross_val_score``.
"""

from __future__ import annotations

from .._lazy import attach

_MODULES = {
    "astrograph.ml.features": (
        "BANDS",
        "COLOURS",
        "check_mags",
        "colour_features",
        "estimator_features",
        "feature_names",
        "finite_rows",
        "split_photometry",
        "uses_errors",
    ),
    "astrograph.ml.metrics": (
        "METRIC_KEYS",
        "galaxy_zoo_rmse",
        "photoz_metrics",
        "photoz_residuals",
    ),
    "astrograph.ml.pdf_metrics": (
        "crps",
        "crps_gaussian",
        "interval_coverage",
        "nz_reconstruction",
        "pdf_cdf",
        "pdf_scores",
        "pit",
        "pit_histogram",
        "pit_uniformity",
    ),
    "astrograph.ml.photoz": (
        "MODELS",
        "PDF_MODES",
        "PhotoZRegressor",
        "depth_study",
        "feature_importances",
    ),
    "astrograph.ml.reweighting": ("nn_density_ratio_weights", "target_support"),
    "astrograph.ml.association": (
        "RULE_COLUMNS",
        "apriori_rules",
        "discretise",
        "eclat",
        "intersect_sorted",
        "rules_from_itemsets",
    ),
    "astrograph.ml.classify": (
        "CLASSIFIERS",
        "PhotometricClassifier",
        "check_labels",
        "entropy",
        "evaluate_classifier",
        "information_gain",
        "make_classifier",
    ),
    "astrograph.ml.unsupervised": (
        "anomaly_benchmark",
        "anomaly_scores",
        "choose_elbow",
        "gmm_bic",
        "kmeans_elbow",
        "pca_embedding",
        "sprinkle_labels",
        "standardise",
        "tsne_embedding",
    ),
    "astrograph.ml.regression": (
        "lasso_path_study",
        "polynomial_fit",
        "polynomial_loss_curve",
        "standardised_coefficients",
    ),
    "astrograph.ml.morphology": ("GZ2_PRESETS", "GalaxyCNN"),
    "astrograph.ml.plots": (
        "plot_bic",
        "plot_confusion",
        "plot_depth_study",
        "plot_elbow",
        "plot_embedding",
        "plot_importances",
        "plot_photoz",
        "plot_roc",
        "plot_tree_png",
    ),
}
_LAZY = {name: module for module, names in _MODULES.items() for name in names}

__all__ = sorted(_LAZY)


__getattr__, __dir__ = attach("astrograph.ml", _LAZY, globals())
