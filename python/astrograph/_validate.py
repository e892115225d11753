"""Turning user input into the arrays the core expects, with clear errors."""

from __future__ import annotations

from typing import Any

import numpy as np

from .errors import BoxError, InputError


def positions(arr: Any, what: str) -> np.ndarray:
    """(N, 3) coordinates -> C-contiguous (3, N) float64, refusing bad values."""
    from .catalog import Catalog

    if isinstance(arr, Catalog):
        arr = arr.positions
    try:
        a = np.asarray(arr, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise InputError(f"{what} positions cannot be read as numbers: {exc}") from None
    if a.ndim != 2 or a.shape[1] != 3:
        raise InputError(f"{what} positions must have shape (N, 3), got {a.shape}")
    if a.shape[0] == 0:
        raise InputError(f"the {what} catalogue is empty")
    bad = ~np.isfinite(a).all(axis=1)
    if bad.any():
        idx = np.flatnonzero(bad)
        raise InputError(
            f"{what} positions contain NaN or inf in {idx.size} rows (first: row {idx[0]})"
        )
    return np.ascontiguousarray(a.T)


def weights(w: Any, n: int, what: str) -> np.ndarray | None:
    """Optional per-point weights: 1-D, length n, finite, >= 0."""
    if w is None:
        return None
    a = np.ascontiguousarray(np.asarray(w, dtype=np.float64))
    if a.ndim != 1 or a.size != n:
        raise InputError(
            f"{what} weights must have shape ({n},) to match the positions, got {a.shape}"
        )
    if not np.isfinite(a).all():
        raise InputError(
            f"{what} weights contain NaN or inf (first: {np.flatnonzero(~np.isfinite(a))[0]})"
        )
    if (a < 0).any():
        raise InputError(
            f"{what} weights must be >= 0 (first negative: {np.flatnonzero(a < 0)[0]})"
        )
    return a


def catalogue_weights(cat: Any, w: Any) -> Any:
    """Weights given explicitly win over those carried by a Catalog."""
    from .catalog import Catalog

    if w is None and isinstance(cat, Catalog):
        return cat.weights
    return w


def box_and_los(box: float | None, los: str | None) -> tuple[float | None, str]:
    """Resolves the default line of sight: midpoint for surveys, z for boxes."""
    if box is not None:
        box = float(box)
        if not (np.isfinite(box) and box > 0):
            raise BoxError(f"box must be a positive finite size, got {box}")
    if los is None:
        los = "z" if box is not None else "midpoint"
    if los not in ("midpoint", "z"):
        raise InputError(f"los must be 'midpoint' or 'z', got {los!r}")
    return box, los


def num_threads(n: int | None) -> int | None:
    if n is None:
        return None
    if int(n) != n or n < 1:
        raise InputError(f"num_threads must be a positive integer or None, got {n!r}")
    return int(n)


def catalogues(data, randoms, data_weights, random_weights, box, los):
    """Validates data, optional randoms, their weights, box and line of sight.

    Returns (d, dw, r, rw, box, los) with positions as (3, N) arrays.
    """
    box, los = box_and_los(box, los)
    d = positions(data, "data")
    dw = weights(catalogue_weights(data, data_weights), d.shape[1], "data")
    r = rw = None
    if randoms is not None:
        r = positions(randoms, "random")
        rw = weights(catalogue_weights(randoms, random_weights), r.shape[1], "random")
    return d, dw, r, rw, box, los
