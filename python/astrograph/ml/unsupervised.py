"""Unsupervised learning on photometric catalogues.

k-means with the elbow (WCSS) curve and silhouette, Gaussian mixtures with BIC
selection, PCA / t-SNE embeddings, label spreading from a few labels
("sprinkle labels onto the clumps"), and anomaly scores (isolation forest,
local outlier factor). All functions take a feature matrix ``X`` (N, D);
standardise it first (:func:`standardise`) when columns have different units.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import ArrayLike
from sklearn.cluster import KMeans
from sklearn.decomposition import PCA
from sklearn.ensemble import IsolationForest
from sklearn.manifold import TSNE
from sklearn.metrics import roc_auc_score, silhouette_score
from sklearn.mixture import GaussianMixture
from sklearn.neighbors import LocalOutlierFactor
from sklearn.preprocessing import StandardScaler
from sklearn.semi_supervised import LabelSpreading

from ..errors import InputError
from .validation import as_float_array

__all__ = [
    "standardise",
    "kmeans_elbow",
    "choose_elbow",
    "gmm_bic",
    "pca_embedding",
    "tsne_embedding",
    "sprinkle_labels",
    "anomaly_scores",
    "anomaly_benchmark",
]


def _check_X(X: ArrayLike, min_rows: int = 2) -> np.ndarray:
    A = as_float_array(X, "X")
    if A.ndim != 2:
        raise InputError(f"X has shape {A.shape}; expected a 2-d (N, D) feature matrix")
    if A.shape[0] < min_rows:
        raise InputError(f"X has {A.shape[0]} rows; need at least {min_rows}")
    bad = np.flatnonzero(~np.isfinite(A).all(axis=1))
    if bad.size:
        raise InputError(f"{bad.size} rows of X contain NaN or inf (rows {bad[:10].tolist()})")
    return A


def standardise(X: ArrayLike) -> np.ndarray:
    """Zero-mean, unit-variance columns (so no unit dominates distances)."""
    return StandardScaler().fit_transform(_check_X(X))


def choose_elbow(k: ArrayLike, wcss: ArrayLike) -> int:
    """Automatic elbow: the k farthest from the chord joining the curve's ends.

    Both axes are rescaled to [0, 1] first (the "kneedle" construction), so the
    choice does not depend on units.
    """
    kk = as_float_array(k, "k")
    w = as_float_array(wcss, "wcss")
    if kk.shape != w.shape or kk.size < 3:
        raise InputError("need k and wcss of equal length >= 3")
    x = (kk - kk[0]) / (kk[-1] - kk[0])
    y = (w - w[-1]) / (w[0] - w[-1])
    # Distance below the straight line from (0, 1) to (1, 0).
    dist = 1.0 - x - y
    return int(kk[int(np.argmax(dist))])


def kmeans_elbow(
    X: ArrayLike, k_range: ArrayLike = range(1, 11), random_state: int = 0, n_init: int = 5
) -> dict[str, Any]:
    """k-means for each k: within-cluster sum of squares and silhouette.

    Returns
    -------
    dict
        ``k``, ``wcss`` (inertia), ``silhouette`` (NaN for k = 1), ``elbow_k``
        (:func:`choose_elbow`), ``best_silhouette_k`` and ``models`` (fitted KMeans).
    """
    A = _check_X(X)
    ks = np.asarray(list(k_range), dtype=int)
    if ks.size < 3 or np.any(ks < 1) or np.any(np.diff(ks) <= 0):
        raise InputError("k_range must hold at least 3 increasing positive integers")
    # Silhouette on a fixed subsample keeps it O(n) for big catalogues.
    rng = np.random.default_rng(random_state)
    sub = rng.choice(A.shape[0], size=min(A.shape[0], 3000), replace=False)
    wcss, sil, models = [], [], []
    for k in ks:
        km = KMeans(n_clusters=int(k), n_init=n_init, random_state=random_state).fit(A)
        models.append(km)
        wcss.append(km.inertia_)
        sil.append(silhouette_score(A[sub], km.labels_[sub]) if k > 1 else np.nan)
    wcss_a, sil_a = np.asarray(wcss), np.asarray(sil)
    return {
        "k": ks,
        "wcss": wcss_a,
        "silhouette": sil_a,
        "elbow_k": choose_elbow(ks, wcss_a),
        "best_silhouette_k": int(ks[np.nanargmax(sil_a)]) if np.isfinite(sil_a).any() else 1,
        "models": models,
    }


def gmm_bic(
    X: ArrayLike,
    n_range: ArrayLike = range(1, 9),
    covariance_type: str = "full",
    random_state: int = 0,
) -> dict[str, Any]:
    """Gaussian mixtures for each component count; pick the lowest BIC.

    Returns
    -------
    dict
        ``n``, ``bic``, ``aic``, ``best_n`` and ``best_model``.
    """
    A = _check_X(X)
    ns = np.asarray(list(n_range), dtype=int)
    if ns.size == 0 or np.any(ns < 1):
        raise InputError("n_range must hold positive integers")
    models = [
        GaussianMixture(int(n), covariance_type=covariance_type, random_state=random_state).fit(A)
        for n in ns
    ]
    bic = np.array([m.bic(A) for m in models])
    aic = np.array([m.aic(A) for m in models])
    best = int(np.argmin(bic))
    return {"n": ns, "bic": bic, "aic": aic, "best_n": int(ns[best]), "best_model": models[best]}


def pca_embedding(X: ArrayLike, n_components: int = 2) -> tuple[np.ndarray, np.ndarray]:
    """PCA projection and explained-variance ratio of each component."""
    A = _check_X(X)
    pca = PCA(n_components=n_components, random_state=0).fit(A)
    return pca.transform(A), pca.explained_variance_ratio_


def tsne_embedding(
    X: ArrayLike, perplexity: float = 30.0, random_state: int = 0, max_iter: int = 500
) -> np.ndarray:
    """2-d t-SNE embedding (PCA initialisation, seeded)."""
    A = _check_X(X, min_rows=5)
    if perplexity >= A.shape[0]:
        raise InputError(f"perplexity {perplexity} must be below the number of rows {A.shape[0]}")
    return TSNE(
        n_components=2, perplexity=perplexity, init="pca", random_state=random_state,
        max_iter=max_iter,
    ).fit_transform(A)  # fmt: skip


def sprinkle_labels(
    X: ArrayLike,
    labels: ArrayLike,
    n_per_class: int = 5,
    random_state: int = 0,
    n_neighbors: int = 10,
    alpha: float = 0.2,
) -> dict[str, Any]:
    """Semi-supervised label spreading from a few labels per class.

    Keeps ``n_per_class`` randomly chosen labels of each class, hides the rest,
    spreads the kept labels over the k-nearest-neighbour graph and scores the
    result on the hidden objects.

    Returns
    -------
    dict
        ``seed_index`` (indices whose labels were kept), ``predicted`` (N,),
        ``accuracy`` on the hidden objects, ``model``.
    """
    A = _check_X(X)
    y = np.asarray(labels)
    if y.shape != (A.shape[0],):
        raise InputError(f"labels has shape {y.shape}; expected ({A.shape[0]},)")
    classes, y_int = np.unique(y, return_inverse=True)
    rng = np.random.default_rng(random_state)
    seeds = []
    for c in range(classes.size):
        idx = np.flatnonzero(y_int == c)
        if idx.size < n_per_class:
            raise InputError(
                f"class {classes[c]!r} has {idx.size} objects < n_per_class={n_per_class}"
            )
        seeds.append(rng.choice(idx, size=n_per_class, replace=False))
    seed = np.sort(np.concatenate(seeds))
    partial = np.full(A.shape[0], -1)
    partial[seed] = y_int[seed]
    model = LabelSpreading(kernel="knn", n_neighbors=n_neighbors, alpha=alpha, max_iter=100)
    model.fit(A, partial)
    pred = model.transduction_
    hidden = partial == -1
    return {
        "seed_index": seed,
        "predicted": classes[pred],
        "accuracy": float(np.mean(pred[hidden] == y_int[hidden])),
        "model": model,
    }


def anomaly_scores(
    X: ArrayLike, method: str = "isolation_forest", random_state: int = 0, **kwargs: Any
) -> np.ndarray:
    """Anomaly score per object (higher = more anomalous).

    ``method`` is ``"isolation_forest"`` or ``"lof"`` (local outlier factor,
    ``n_neighbors=20`` by default).
    """
    A = _check_X(X, min_rows=3)
    if method == "isolation_forest":
        kw = {"n_estimators": 200, "random_state": random_state} | kwargs
        return -IsolationForest(**kw).fit(A).score_samples(A)
    if method == "lof":
        kw = {"n_neighbors": 20} | kwargs
        lof = LocalOutlierFactor(**kw).fit(A)
        return -lof.negative_outlier_factor_
    raise InputError(f"unknown method {method!r}; use 'isolation_forest' or 'lof'")


def anomaly_benchmark(
    X: ArrayLike,
    is_anomaly: ArrayLike,
    methods: tuple[str, ...] = ("isolation_forest", "lof"),
    random_state: int = 0,
) -> dict[str, dict[str, float]]:
    """Score each method against known anomalies (e.g. QSOs among stars + galaxies).

    Returns
    -------
    dict
        Per method: ``roc_auc`` and ``precision_at_n`` (fraction of true
        anomalies among the top-n scores, n = number of anomalies).
    """
    A = _check_X(X, min_rows=3)
    truth = np.asarray(is_anomaly, dtype=bool)
    if truth.shape != (A.shape[0],):
        raise InputError(f"is_anomaly has shape {truth.shape}; expected ({A.shape[0]},)")
    n = int(truth.sum())
    if n == 0 or n == truth.size:
        raise InputError("is_anomaly must mark some, but not all, objects")
    out = {}
    for m in methods:
        s = anomaly_scores(A, m, random_state=random_state)
        top = np.argsort(-s, kind="stable")[:n]
        out[m] = {
            "roc_auc": float(roc_auc_score(truth, s)),
            "precision_at_n": float(truth[top].mean()),
        }
    return out
