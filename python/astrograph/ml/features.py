"""Photometric feature construction and input checks shared by the ML modules.

Masking rule: nothing is ever dropped silently. Non-finite magnitudes
(NaN / inf) and SDSS-style sentinels (values <= 0 or >= 50, e.g. -9999) raise
``ValueError`` naming the offending rows; callers who want to discard such
objects must do so themselves, e.g. with :func:`finite_rows`.
"""

from __future__ import annotations

from itertools import combinations

import numpy as np
from numpy.typing import ArrayLike

__all__ = ["BANDS", "check_mags", "colour_features", "feature_names", "finite_rows"]

BANDS = ("u", "g", "r", "i", "z")
_MAG_RANGE = (0.0, 50.0)


def _rows(idx: np.ndarray) -> str:
    shown = ", ".join(map(str, idx[:10]))
    return shown + (", ..." if idx.size > 10 else "")


def check_mags(mags: ArrayLike, name: str = "mags", n_bands: int = 5) -> np.ndarray:
    """Validate an (N, 5) ugriz array and return it as float64.

    Raises
    ------
    ValueError
        Wrong shape, empty array, NaN / inf, or sentinel values (see module docs).
    """
    try:
        arr = np.asarray(mags, dtype=float)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name} must be numeric: {exc}") from None
    if arr.ndim != 2 or arr.shape[1] != n_bands:
        raise ValueError(f"{name} has shape {arr.shape}; expected (N, {n_bands}) ugriz")
    if arr.shape[0] == 0:
        raise ValueError(f"{name} is empty (0 rows); need at least one object")
    bad = np.flatnonzero(~np.isfinite(arr).all(axis=1))
    if bad.size:
        raise ValueError(f"{bad.size} rows of {name} contain NaN or inf (rows {_rows(bad)})")
    if name.startswith("mag") or name == "mags":
        lo, hi = _MAG_RANGE
        bad = np.flatnonzero(((arr <= lo) | (arr >= hi)).any(axis=1))
        if bad.size:
            raise ValueError(
                f"{bad.size} rows of {name} hold sentinel / unphysical magnitudes outside "
                f"({lo:g}, {hi:g}) (rows {_rows(bad)})"
            )
    return arr


def finite_rows(mags: ArrayLike) -> np.ndarray:
    """Boolean mask of rows with all-finite magnitudes inside (0, 50)."""
    arr = np.asarray(mags, dtype=float)
    with np.errstate(invalid="ignore"):
        ok = np.isfinite(arr) & (arr > _MAG_RANGE[0]) & (arr < _MAG_RANGE[1])
    return ok.all(axis=1)


def feature_names(bands: tuple[str, ...] = BANDS, errors: bool = False) -> list[str]:
    """Names of the columns produced by :func:`colour_features`."""
    names = list(bands) + [f"{a}-{b}" for a, b in combinations(bands, 2)]
    if errors:
        names += ["e" + b for b in bands]
    return names


def colour_features(mags: ArrayLike, errors: ArrayLike | None = None) -> np.ndarray:
    """Magnitudes plus every distinct colour (10 for ugriz), optionally errors.

    Colours are ``m_i - m_j`` for ``i < j`` only, so a band is never differenced
    with itself and each colour appears once (u-g, u-r, ..., i-z).

    Parameters
    ----------
    mags : array_like, shape (N, 5)
        ugriz magnitudes.
    errors : array_like, shape (N, 5), optional
        1-sigma magnitude errors; appended as 5 extra columns.

    Returns
    -------
    numpy.ndarray, shape (N, 15) or (N, 20)
    """
    m = check_mags(mags)
    cols = [m] + [(m[:, i] - m[:, j])[:, None] for i, j in combinations(range(m.shape[1]), 2)]
    if errors is not None:
        e = check_mags(errors, name="errors")
        if e.shape[0] != m.shape[0]:
            raise ValueError(f"errors has {e.shape[0]} rows but mags has {m.shape[0]}")
        if np.any(e < 0):
            raise ValueError("errors must be non-negative")
        cols.append(e)
    return np.hstack(cols)
