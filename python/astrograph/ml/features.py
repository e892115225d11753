"""Photometric inputs and the one feature builder of the ML modules.

* :data:`BANDS` - the SDSS ugriz bands, in column order.
* :func:`split_photometry` - an estimator's ``X``: (N, 5) ugriz magnitudes, or
  (N, 10) ugriz magnitudes followed by their 1-sigma errors (eu, eg, ei, er, ez
  in band order).
* :func:`colour_features` / :func:`feature_names` - magnitudes plus colours
  (every distinct colour, or only the adjacent ones), optionally the colour
  curvatures and the errors.
* :func:`estimator_features` - what the photo-z estimators feed their models:
  :func:`split_photometry` then :func:`colour_features`.

Masking rule: nothing is ever dropped silently. Non-finite magnitudes
(NaN / inf) and SDSS-style sentinels (values <= 0 or >= 50, e.g. -9999) raise
:class:`~astrograph.errors.InputError` (a ``ValueError``) naming the offending
rows; callers who want to discard such objects must do so themselves, e.g. with
:func:`finite_rows`.
"""

from __future__ import annotations

from itertools import combinations

import numpy as np
from numpy.typing import ArrayLike

from ..errors import InputError
from .validation import as_float_array

__all__ = [
    "BANDS",
    "COLOURS",
    "check_mags",
    "colour_features",
    "estimator_features",
    "feature_names",
    "finite_rows",
    "split_photometry",
    "uses_errors",
]

BANDS = ("u", "g", "r", "i", "z")
#: Colour sets of :func:`colour_features`: every distinct pair, or neighbouring bands.
COLOURS = ("all", "adjacent")
_MAG_RANGE = (0.0, 50.0)


def _rows(idx: np.ndarray) -> str:
    shown = ", ".join(map(str, idx[:10]))
    return shown + (", ..." if idx.size > 10 else "")


def check_mags(mags: ArrayLike, name: str = "mags", n_bands: int = 5) -> np.ndarray:
    """Validate an (N, 5) ugriz array and return it as float64.

    Raises
    ------
    InputError
        Wrong shape, empty array, NaN / inf, or sentinel values (see module docs).
    """
    arr = as_float_array(mags, name)
    if arr.ndim != 2 or arr.shape[1] != n_bands:
        raise InputError(f"{name} has shape {arr.shape}; expected (N, {n_bands}) ugriz")
    if arr.shape[0] == 0:
        raise InputError(f"{name} is empty (0 rows); need at least one object")
    bad = np.flatnonzero(~np.isfinite(arr).all(axis=1))
    if bad.size == 1:
        raise InputError(f"1 row of {name} contains NaN or inf (row {bad[0]})")
    if bad.size:
        raise InputError(f"{bad.size} rows of {name} contain NaN or inf (rows {_rows(bad)})")
    if name.startswith("mag") or name == "mags":
        lo, hi = _MAG_RANGE
        bad = np.flatnonzero(((arr <= lo) | (arr >= hi)).any(axis=1))
        if bad.size:
            raise InputError(
                f"{bad.size} rows of {name} hold sentinel / unphysical magnitudes outside "
                f"({lo:g}, {hi:g}) (rows {_rows(bad)})"
            )
    return arr


def split_photometry(X: ArrayLike, name: str = "X") -> tuple[np.ndarray, np.ndarray | None]:
    """Split an estimator input into magnitudes and (optional) magnitude errors.

    Parameters
    ----------
    X : array_like, shape (N, 5) or (N, 10)
        ugriz magnitudes, optionally followed by their five 1-sigma errors.

    Returns
    -------
    mags : numpy.ndarray, shape (N, 5)
    errors : numpy.ndarray, shape (N, 5), or None for a 5-column ``X``
        Neither is validated here; :func:`colour_features` does that.
    """
    arr = as_float_array(X, name)
    n = len(BANDS)
    if arr.ndim != 2 or arr.shape[1] not in (n, 2 * n):
        raise InputError(
            f"{name} has shape {arr.shape}; expected (N, {n}) ugriz magnitudes "
            f"or (N, {2 * n}) ugriz magnitudes followed by their errors"
        )
    if arr.shape[1] == n:
        return arr, None
    return arr[:, :n], arr[:, n:]


def finite_rows(mags: ArrayLike) -> np.ndarray:
    """Boolean mask of rows with all-finite magnitudes inside (0, 50)."""
    arr = np.asarray(mags, dtype=float)
    with np.errstate(invalid="ignore"):
        ok = np.isfinite(arr) & (arr > _MAG_RANGE[0]) & (arr < _MAG_RANGE[1])
    return ok.all(axis=1)


def _colour_pairs(n_bands: int, colours: str) -> list[tuple[int, int]]:
    if colours == "all":
        return list(combinations(range(n_bands), 2))
    if colours == "adjacent":
        return [(i, i + 1) for i in range(n_bands - 1)]
    raise InputError(f"colours must be one of {COLOURS}, got {colours!r}")


def feature_names(
    bands: tuple[str, ...] = BANDS,
    errors: bool = False,
    colours: str = "all",
    curvature: bool = False,
) -> list[str]:
    """Names of the columns produced by :func:`colour_features` (same arguments)."""
    names = list(bands) + [f"{bands[i]}-{bands[j]}" for i, j in _colour_pairs(len(bands), colours)]
    if curvature:
        names += [
            f"({a}-{b})-({b}-{c})"
            for a, b, c in zip(bands[:-2], bands[1:-1], bands[2:], strict=True)
        ]
    if errors:
        names += ["e" + b for b in bands]
    return names


def colour_features(
    mags: ArrayLike,
    errors: ArrayLike | None = None,
    colours: str = "all",
    curvature: bool = False,
) -> np.ndarray:
    """Magnitudes plus colours, optionally colour curvatures and magnitude errors.

    Columns, in order: the 5 magnitudes; the colours ``m_i - m_j``; with
    ``curvature`` the differences of adjacent colours (u-g)-(g-r), (g-r)-(r-i),
    (r-i)-(i-z); with ``errors`` the 5 errors.

    Parameters
    ----------
    mags : array_like, shape (N, 5)
        ugriz magnitudes.
    errors : array_like, shape (N, 5), optional
        1-sigma magnitude errors; appended as 5 extra columns.
    colours : {"all", "adjacent"}
        ``"all"``: every distinct colour, ``m_i - m_j`` for ``i < j`` only, so a
        band is never differenced with itself and each colour appears once
        (u-g, u-r, ..., i-z: 10 for ugriz). ``"adjacent"``: u-g, g-r, r-i, i-z.
    curvature : bool
        Append the three colour curvatures, which trace the curvature of the
        spectrum (a QSO power law versus a stellar black body) along directions
        that axis-aligned tree splits cannot form from the colours themselves.

    Returns
    -------
    numpy.ndarray, shape (N, 15) for the defaults
        (N, 9) with adjacent colours; 3 more columns with ``curvature``, 5 more
        with ``errors``.
    """
    m = check_mags(mags)
    cols = [m] + [(m[:, i] - m[:, j])[:, None] for i, j in _colour_pairs(m.shape[1], colours)]
    if curvature:
        adjacent = m[:, :-1] - m[:, 1:]  # u-g, g-r, r-i, i-z
        cols.append(adjacent[:, :-1] - adjacent[:, 1:])
    if errors is not None:
        e = check_mags(errors, name="errors")
        if e.shape[0] != m.shape[0]:
            raise InputError(f"errors has {e.shape[0]} rows but mags has {m.shape[0]}")
        if np.any(e < 0):
            raise InputError("errors must be non-negative")
        cols.append(e)
    return np.hstack(cols)


def uses_errors(use_errors: bool | str, n_columns: int) -> bool:
    """Whether an estimator with this ``use_errors`` setting feeds the errors to its model.

    ``True`` / ``False`` as given; ``"auto"``: when ``X`` has the 10 columns of
    magnitudes followed by errors.
    """
    if use_errors == "auto":
        return n_columns == 2 * len(BANDS)
    if not isinstance(use_errors, (bool, np.bool_)):
        raise InputError(f"use_errors must be True, False or 'auto', got {use_errors!r}")
    return bool(use_errors)


def estimator_features(
    X: ArrayLike,
    use_errors: bool | str = False,
    colours: str = "all",
    n_features_in: int | None = None,
) -> tuple[np.ndarray, int]:
    """Feature columns that a photo-z estimator builds from its input ``X``.

    Parameters
    ----------
    X : array_like, shape (N, 5) or (N, 10)
        ugriz magnitudes, optionally followed by their errors (:func:`split_photometry`).
    use_errors : bool or "auto"
        Append the errors as features (then ``X`` must have 10 columns); without
        it, error columns are ignored; ``"auto"``: use them when ``X`` has them.
    colours : {"all", "adjacent"}
        See :func:`colour_features`.
    n_features_in : int, optional
        The width of ``X`` seen in ``fit``; a different width raises.

    Returns
    -------
    features : numpy.ndarray, shape (N, len(feature_names(...)))
    n_features : int
        Number of columns of ``X``.
    """
    arr = as_float_array(X, "X")
    if n_features_in is not None and arr.ndim == 2 and arr.shape[1] != n_features_in:
        raise InputError(f"X has {arr.shape[1]} features; the model was fitted on {n_features_in}")
    mags, errors = split_photometry(arr)
    use_errors = uses_errors(use_errors, arr.shape[1])
    if use_errors and errors is None:
        raise InputError(
            "use_errors=True takes the magnitude errors as features: pass errors as 5 more "
            "columns of X, shape (N, 10) = ugriz magnitudes followed by their errors"
        )
    return colour_features(mags, errors if use_errors else None, colours), arr.shape[1]
