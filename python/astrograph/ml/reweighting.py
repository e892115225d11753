"""Reweighting a biased training set to a target sample (covariate shift).

Spectroscopic training sets are brighter than the photometric samples a photo-z
model is applied to. Where both populate the same colour-magnitude space, weights
``w(x) = p_target(x) / p_train(x)`` make the training set look like the target
(Lima et al. 2008, MNRAS 390, 118; Sheldon et al. 2012):
:func:`nn_density_ratio_weights` estimates the ratio with nearest neighbours.

What reweighting cannot do: where the target has galaxies but the training set has
none (fainter than its magnitude limit), no weight can create them - those target
objects remain extrapolations, whatever the weights. :func:`nn_density_ratio_weights`
reports this through :func:`target_support`, the fraction of target objects with
training galaxies nearby.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike
from sklearn.neighbors import KDTree

from ..errors import InputError
from .validation import as_float_array

__all__ = ["nn_density_ratio_weights", "target_support"]


def _check_pair(train: ArrayLike, target: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    a = as_float_array(train, "train_features")
    b = as_float_array(target, "target_features")
    a = a[:, None] if a.ndim == 1 else a
    b = b[:, None] if b.ndim == 1 else b
    for name, arr in (("train_features", a), ("target_features", b)):
        if arr.ndim != 2:
            raise InputError(
                f"{name} must be 1-d or 2-d (objects, features), got shape {arr.shape}"
            )
        if arr.shape[0] == 0:
            raise InputError(f"{name} is empty")
        bad = np.flatnonzero(~np.isfinite(arr).all(axis=1))
        if bad.size:
            raise InputError(
                f"{bad.size} rows of {name} hold NaN or inf (rows {bad[:10].tolist()})"
            )
    if a.shape[1] != b.shape[1]:
        raise InputError(
            f"train_features has {a.shape[1]} features but target_features has {b.shape[1]}"
        )
    return a, b


def _check_k(k: int, n_train: int) -> int:
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 1:
        raise InputError(f"k must be a positive integer, got {k!r}")
    if k >= n_train:
        raise InputError(f"k = {k} needs more than k training objects; got {n_train}")
    return int(k)


def _scaled(a: np.ndarray, b: np.ndarray, standardize: bool) -> tuple[np.ndarray, np.ndarray]:
    if not standardize:
        return a, b
    both = np.vstack([a, b])
    scale = both.std(axis=0)
    scale[scale == 0] = 1.0
    centre = both.mean(axis=0)
    return (a - centre) / scale, (b - centre) / scale


def nn_density_ratio_weights(
    train_features: ArrayLike,
    target_features: ArrayLike,
    k: int = 10,
    standardize: bool = True,
) -> np.ndarray:
    """Nearest-neighbour weights that make a training set match a target sample.

    For training object i, let r_i be the distance to its k-th nearest training
    neighbour (itself excluded) and m_i the number of target objects within r_i. The
    weight ``(m_i / N_target) / (k / N_train)`` estimates the density ratio
    p_target / p_train at x_i in the same volume (Lima et al. 2008, eq. 4).

    Parameters
    ----------
    train_features, target_features : array_like, shape (N, d) and (M, d)
        The same features (e.g. magnitudes and colours) of the training and the target
        objects.
    k : int
        Training neighbours per volume: larger k is smoother and less noisy, smaller k
        follows sharper changes of the ratio.
    standardize : bool
        Scale each feature by the mean and standard deviation of both samples
        together first (the distance treats features alike).

    Returns
    -------
    numpy.ndarray, shape (N,)
        Non-negative weights, normalised to mean 1 over the training set. Training
        objects in regions with no target objects get weight 0.

    Raises
    ------
    InputError
        Non-numeric, NaN / inf or empty features, mismatched feature counts,
        ``k`` not an integer in [1, N_train), or no target object near any training
        object (the samples do not overlap: nothing to reweight).
    """
    a, b = _check_pair(train_features, target_features)
    k = _check_k(k, len(a))
    a, b = _scaled(a, b, standardize)
    dist, _ = KDTree(a).query(a, k=k + 1)
    radius = dist[:, k]
    # a training object with k+1 identical copies has radius 0: count targets on it
    radius = np.where(radius > 0, radius, np.finfo(float).tiny)
    counts = KDTree(b).query_radius(a, r=radius, count_only=True).astype(float)
    if counts.sum() == 0:
        raise InputError(
            "no target object lies near any training object: the samples do not overlap "
            "in feature space, so no reweighting can make one look like the other"
        )
    w = (counts / len(b)) / (k / len(a))
    return w / w.mean()


def target_support(
    train_features: ArrayLike,
    target_features: ArrayLike,
    k: int = 10,
    standardize: bool = True,
) -> np.ndarray:
    """Which target objects the training set covers.

    A target object is covered when at least one training object lies within the
    distance to its k-th nearest target neighbour (the volume it shares with k
    others). Uncovered objects are where reweighting cannot help.

    Returns
    -------
    numpy.ndarray of bool, shape (M,)
    """
    a, b = _check_pair(train_features, target_features)
    k = _check_k(k, len(b))
    a, b = _scaled(a, b, standardize)
    dist, _ = KDTree(b).query(b, k=k + 1)
    return (
        KDTree(a).query_radius(b, r=np.maximum(dist[:, k], np.finfo(float).tiny), count_only=True)
        > 0
    )
