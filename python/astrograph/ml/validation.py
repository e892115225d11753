"""Input and state checks shared by the ML modules: numeric arrays, fitted state,
image batches."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..errors import InputError, NotFittedError

__all__ = ["as_float_array", "check_fitted", "check_images"]


def as_float_array(values: Any, name: str, dtype: Any = float) -> np.ndarray:
    """``np.asarray(values, dtype)``, raising :class:`~astrograph.errors.InputError`
    (a ``ValueError``) that names the argument when the values are not numeric."""
    try:
        return np.asarray(values, dtype=dtype)
    except (TypeError, ValueError) as exc:
        raise InputError(f"{name} must be numeric: {exc}") from None


def check_fitted(estimator: Any, attribute: str) -> None:
    """Raise :class:`~astrograph.errors.NotFittedError` unless ``fit`` (or ``load``)
    has set ``attribute`` on ``estimator``."""
    if not hasattr(estimator, attribute):
        how = "fit() or load()" if hasattr(type(estimator), "load") else "fit()"
        raise NotFittedError(f"this {type(estimator).__name__} is not fitted yet: call {how} first")


def check_images(images: Any, name: str = "images") -> np.ndarray:
    """Validate an image batch and return it as float32 ``(n, h, w, c)``.

    Raises :class:`~astrograph.errors.InputError` (a ``ValueError``) naming the first
    bad image index (NaN / inf values) or describing the wrong shape.
    """
    arr = np.asarray(images)
    if arr.dtype == object:
        raise InputError(f"{name} must be a numeric array, got dtype=object (ragged image sizes?)")
    if arr.ndim == 3:
        arr = arr[..., None]
    if arr.ndim != 4:
        raise InputError(
            f"{name} must have shape (n, height, width, channels) or (n, height, width), "
            f"got shape {arr.shape}"
        )
    if arr.shape[0] == 0:
        raise InputError(f"{name} is empty")
    if arr.shape[1] != arr.shape[2]:
        raise InputError(f"{name} must be square, got {arr.shape[1]}x{arr.shape[2]} pixels")
    arr = arr.astype(np.float32, copy=False)
    bad = ~np.isfinite(arr).reshape(len(arr), -1).all(axis=1)
    if bad.any():
        idx = np.flatnonzero(bad)
        raise InputError(
            f"{name}: image {idx[0]} contains NaN or inf values ({len(idx)} bad images in total)"
        )
    return arr
