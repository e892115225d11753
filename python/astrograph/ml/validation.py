"""Input and state checks shared by the ML modules: numeric arrays, fitted state,
image batches."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..errors import InputError, NotFittedError

__all__ = ["as_float_array", "check_fitted", "check_images", "check_redshifts", "check_z_grid"]


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


def check_redshifts(z: Any, n: int, name: str = "y") -> np.ndarray:
    """Validate a training redshift vector for ``n`` objects and return it as float64.

    Raises :class:`~astrograph.errors.InputError` for a wrong shape, NaN / inf values
    (naming the rows) or redshifts that are all equal: a regressor fitted on one value
    predicts that value for every galaxy and has no PDF width to learn.
    """
    arr = as_float_array(z, name)
    if arr.shape != (n,):
        raise InputError(
            f"redshift vector {name} has shape {arr.shape}; expected ({n},): "
            f"X has {n} samples but {name} has {arr.size}"
        )
    bad = np.flatnonzero(~np.isfinite(arr))
    if bad.size:
        raise InputError(
            f"{bad.size} redshifts in {name} are NaN or inf (rows {bad[:10].tolist()})"
        )
    if n and np.ptp(arr) == 0:
        raise InputError(
            f"all {n} training redshifts in {name} are equal (z = {arr[0]:g}); "
            "a photo-z model needs galaxies spanning a range of redshifts"
        )
    return arr


def check_z_grid(z_grid: Any, z_range: tuple[float, float] | None = None) -> np.ndarray:
    """Validate a redshift grid for PDFs: 1-d, finite, strictly increasing, >= 3 points.

    With ``z_range`` = the (min, max) of the training redshifts, a grid that does not
    overlap that range raises :class:`~astrograph.errors.InputError`: a model knows
    nothing about redshifts it never saw, so it has no PDF to give there.
    """
    grid = as_float_array(z_grid, "z_grid")
    if grid.ndim != 1 or grid.size < 3:
        raise InputError(f"z_grid must be a 1-d array of at least 3 points, got shape {grid.shape}")
    if not np.isfinite(grid).all():
        raise InputError("z_grid contains NaN or inf")
    if np.any(np.diff(grid) <= 0):
        raise InputError("z_grid must be strictly increasing")
    if z_range is not None:
        lo, hi = z_range
        if grid[-1] < lo or grid[0] > hi:
            raise InputError(
                f"z_grid [{grid[0]:g}, {grid[-1]:g}] misses the training redshift range "
                f"[{lo:g}, {hi:g}]: the model has no probability to place there; "
                "pass a grid that overlaps the training range"
            )
    return grid
