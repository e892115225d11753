"""Scores of photo-z PDFs, as the field reports them.

Every function takes PDFs tabulated on a redshift grid - ``z_grid`` (M,) strictly
increasing and ``pdf`` (N, M) non-negative, as returned by
:meth:`astrograph.ml.photoz.PhotoZRegressor.predict_pdf` or
:meth:`astrograph.ml.nn.photoz.DensePhotoZRegressor.predict_pdf` - and the true
(spectroscopic) redshifts ``z_true`` (N,). Each row is normalised to unit
probability over the grid (trapezoid rule) before it is scored, and its CDF is the
running trapezoid integral, linear between grid points.

* :func:`pit` - probability integral transform, PIT = CDF(z_true); calibrated PDFs
  give uniform PIT (a U shape: PDFs too narrow; a hump: too wide; a slope: biased);
  :func:`pit_histogram`, and :func:`pit_uniformity` - Kolmogorov-Smirnov and
  Cramer-von Mises statistics of the PIT against U(0, 1);
* :func:`crps` - continuous ranked probability score,
  ``int (CDF(z) - H(z - z_true))^2 dz`` (lower is better; it reduces to |z_phot - z_true|
  for a point estimate); :func:`crps_gaussian` is its closed form for a normal PDF;
* :func:`interval_coverage` - fraction of true redshifts inside the central 68 % / 95 %
  intervals (calibrated PDFs: 0.68 / 0.95);
* :func:`nz_reconstruction` - the stacked PDFs (the sample's estimated N(z)) against
  the histogram of the true redshifts;
* :func:`pdf_scores` - all of the above as one flat dict.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike
from scipy import special, stats

from ..errors import InputError
from .validation import as_float_array, check_z_grid

__all__ = [
    "crps",
    "crps_gaussian",
    "interval_coverage",
    "nz_reconstruction",
    "pdf_cdf",
    "pdf_scores",
    "pit",
    "pit_histogram",
    "pit_uniformity",
]


def _check(z_grid: ArrayLike, pdf: ArrayLike, z_true: ArrayLike | None = None):
    grid = check_z_grid(z_grid)
    p = as_float_array(pdf, "pdf")
    if p.ndim != 2 or p.shape[1] != grid.size:
        raise InputError(f"pdf has shape {p.shape}; expected (N, {grid.size}) for z_grid")
    if p.shape[0] == 0:
        raise InputError("pdf is empty (0 objects)")
    if not np.isfinite(p).all():
        raise InputError(f"pdf row {np.flatnonzero(~np.isfinite(p).all(axis=1))[0]} has NaN or inf")
    if np.any(p < 0):
        raise InputError(f"pdf row {np.flatnonzero((p < 0).any(axis=1))[0]} has negative values")
    if z_true is None:
        return grid, p, None
    z = as_float_array(z_true, "z_true")
    if z.shape != (p.shape[0],):
        raise InputError(f"z_true has shape {z.shape}; expected ({p.shape[0]},), one per pdf row")
    if not np.isfinite(z).all():
        raise InputError(f"z_true entry {np.flatnonzero(~np.isfinite(z))[0]} is NaN or inf")
    return grid, p, z


def pdf_cdf(z_grid: ArrayLike, pdf: ArrayLike) -> np.ndarray:
    """CDFs (N, M) of the PDFs on the grid, each normalised to 1 at the last point.

    Raises :class:`~astrograph.errors.InputError` for a row with no probability on the grid.
    """
    grid, p, _ = _check(z_grid, pdf)
    steps = 0.5 * (p[:, 1:] + p[:, :-1]) * np.diff(grid)
    cdf = np.concatenate([np.zeros((len(p), 1)), np.cumsum(steps, axis=1)], axis=1)
    mass = cdf[:, -1]
    empty = np.flatnonzero(mass <= 0)
    if empty.size:
        raise InputError(
            f"{empty.size} PDFs have no probability on z_grid (rows {empty[:10].tolist()})"
        )
    return cdf / mass[:, None]


def _cdf_at(grid: np.ndarray, cdf: np.ndarray, z: np.ndarray) -> np.ndarray:
    """Row k's CDF at z[k], linear between grid points, 0 / 1 beyond the grid."""
    j = np.clip(np.searchsorted(grid, z, side="right") - 1, 0, grid.size - 2)
    rows = np.arange(len(z))
    t = np.clip((z - grid[j]) / (grid[j + 1] - grid[j]), 0.0, 1.0)
    return cdf[rows, j] + t * (cdf[rows, j + 1] - cdf[rows, j])


def pit(z_grid: ArrayLike, pdf: ArrayLike, z_true: ArrayLike) -> np.ndarray:
    """Probability integral transform: each PDF's CDF at its true redshift, (N,) in [0, 1]."""
    grid, p, z = _check(z_grid, pdf, z_true)
    return _cdf_at(grid, pdf_cdf(grid, p), z)


def pit_histogram(pit_values: ArrayLike, bins: int = 10) -> tuple[np.ndarray, np.ndarray]:
    """Histogram of PIT values on [0, 1] as a density (1 everywhere when calibrated).

    Returns
    -------
    edges : numpy.ndarray, shape (bins + 1,)
    density : numpy.ndarray, shape (bins,)
    """
    u = _check_pit(pit_values)
    if isinstance(bins, bool) or not isinstance(bins, (int, np.integer)) or bins < 1:
        raise InputError(f"bins must be a positive integer, got {bins!r}")
    density, edges = np.histogram(u, bins=int(bins), range=(0.0, 1.0), density=True)
    return edges, density


def _check_pit(pit_values: ArrayLike) -> np.ndarray:
    u = as_float_array(pit_values, "pit_values")
    if u.ndim != 1 or u.size == 0:
        raise InputError(f"pit_values must be a non-empty 1-d array, got shape {u.shape}")
    if not np.isfinite(u).all() or np.any((u < 0) | (u > 1)):
        raise InputError("pit_values must be finite and lie in [0, 1]")
    return u


def pit_uniformity(pit_values: ArrayLike) -> dict[str, float]:
    """Kolmogorov-Smirnov and Cramer-von Mises tests of the PIT against U(0, 1).

    Returns
    -------
    dict
        ``ks``, ``ks_pvalue``, ``cvm``, ``cvm_pvalue`` (scipy's one-sample tests; with
        tens of thousands of objects any real PDF is "rejected": compare the
        statistics between models rather than reading the p-values literally).
    """
    u = _check_pit(pit_values)
    ks = stats.kstest(u, "uniform")
    cvm = stats.cramervonmises(u, "uniform")
    return {
        "ks": float(ks.statistic),
        "ks_pvalue": float(ks.pvalue),
        "cvm": float(cvm.statistic),
        "cvm_pvalue": float(cvm.pvalue),
    }


def crps(z_grid: ArrayLike, pdf: ArrayLike, z_true: ArrayLike) -> np.ndarray:
    """Continuous ranked probability score of each PDF, (N,), in redshift units.

    ``int (F(z) - H(z - z_true))^2 dz`` with the CDF F linear between grid points,
    integrated exactly on each grid interval; a true redshift off the grid adds the
    distance to the grid's end (where F is 0 or 1).
    """
    grid, p, z = _check(z_grid, pdf, z_true)
    cdf = pdf_cdf(grid, p)
    # Split every interval at z_true: insert it as an extra knot per row.
    n, m = cdf.shape
    zc = np.clip(z, grid[0], grid[-1])
    knots = np.concatenate([np.broadcast_to(grid, (n, m)), zc[:, None]], axis=1)
    values = np.concatenate([cdf, _cdf_at(grid, cdf, zc)[:, None]], axis=1)
    order = np.argsort(knots, axis=1, kind="stable")
    knots = np.take_along_axis(knots, order, axis=1)
    values = np.take_along_axis(values, order, axis=1)
    a, b = values[:, :-1], values[:, 1:]
    mid = 0.5 * (knots[:, 1:] + knots[:, :-1])
    step = np.where(mid >= zc[:, None], 1.0, 0.0)  # Heaviside on each sub-interval
    # exact integral of (linear - constant)^2 over each sub-interval
    da, db = a - step, b - step
    total = np.sum(np.diff(knots, axis=1) * (da * da + da * db + db * db) / 3.0, axis=1)
    return total + np.clip(grid[0] - z, 0.0, None) + np.clip(z - grid[-1], 0.0, None)


def crps_gaussian(mu: ArrayLike, sigma: ArrayLike, z_true: ArrayLike) -> np.ndarray:
    """Closed-form CRPS of normal PDFs N(mu, sigma) at ``z_true`` (Gneiting et al. 2005).

    ``sigma * (x (2 Phi(x) - 1) + 2 phi(x) - 1 / sqrt(pi))`` with ``x = (z - mu) / sigma``.
    """
    mu, sigma, z = (
        as_float_array(v, n) for v, n in ((mu, "mu"), (sigma, "sigma"), (z_true, "z_true"))
    )
    if np.any(~np.isfinite(sigma) | (sigma <= 0)):
        raise InputError("sigma must be finite and > 0")
    x = (z - mu) / sigma
    phi = np.exp(-0.5 * x * x) / np.sqrt(2.0 * np.pi)
    return sigma * (x * (2.0 * special.ndtr(x) - 1.0) + 2.0 * phi - 1.0 / np.sqrt(np.pi))


def _quantiles(grid: np.ndarray, cdf: np.ndarray, levels: np.ndarray) -> np.ndarray:
    """Per-row redshifts at the CDF levels (N, L), linear inverse interpolation."""
    out = np.empty((len(cdf), levels.size))
    for k, row in enumerate(cdf):
        # flat stretches of the CDF: take their first point (np.interp needs increasing x)
        keep = np.concatenate([[True], np.diff(row) > 0])
        out[k] = np.interp(levels, row[keep], grid[keep])
    return out


def interval_coverage(
    z_grid: ArrayLike, pdf: ArrayLike, z_true: ArrayLike, levels: ArrayLike = (0.68, 0.95)
) -> dict[float, float]:
    """Fraction of true redshifts inside each PDF's central interval of probability ``level``.

    Returns ``{level: fraction}``; calibrated PDFs give fraction ~ level.
    """
    grid, p, z = _check(z_grid, pdf, z_true)
    lv = as_float_array(levels, "levels")
    if lv.ndim != 1 or lv.size == 0 or np.any((lv <= 0) | (lv >= 1)):
        raise InputError("levels must be a 1-d array of probabilities strictly between 0 and 1")
    bounds = _quantiles(grid, pdf_cdf(grid, p), np.concatenate([(1 - lv) / 2, (1 + lv) / 2]))
    lo, hi = bounds[:, : lv.size], bounds[:, lv.size :]
    inside = (z[:, None] >= lo) & (z[:, None] <= hi)
    return {float(level): float(f) for level, f in zip(lv, inside.mean(axis=0), strict=True)}


def nz_reconstruction(
    z_grid: ArrayLike, pdf: ArrayLike, z_true: ArrayLike, bins: int | ArrayLike = 30
) -> dict[str, np.ndarray | float]:
    """The sample's redshift distribution N(z) from stacked PDFs against the true one.

    Parameters
    ----------
    bins : int or array_like
        Number of equal bins over the grid, or the bin edges.

    Returns
    -------
    dict
        ``edges`` (B + 1,); ``nz_pdf`` and ``nz_true`` (B,) as densities over the
        bins (the stacked PDFs' probability per bin / width; the true redshifts'
        histogram); ``mean_shift`` = mean z of the stacked PDFs - mean true z;
        ``ks`` = the largest difference between the two cumulative N(z) on the edges;
        ``l1`` = the integrated |nz_pdf - nz_true| (0 = identical, 2 = disjoint).
    """
    grid, p, z = _check(z_grid, pdf, z_true)
    if isinstance(bins, (int, np.integer)) and not isinstance(bins, bool):
        if bins < 1:
            raise InputError(f"bins must be >= 1, got {bins}")
        edges = np.linspace(grid[0], grid[-1], int(bins) + 1)
    else:
        edges = check_z_grid(bins)
    cdf = pdf_cdf(grid, p)
    stacked = np.array([np.interp(edges, grid, row) for row in cdf]).mean(axis=0)
    widths = np.diff(edges)
    nz_pdf = np.diff(stacked) / widths
    counts, _ = np.histogram(z, bins=edges)
    nz_true = counts / (len(z) * widths)
    true_cdf = np.searchsorted(np.sort(z), edges, side="right") / len(z)
    stacked_mass = 0.5 * (p[:, 1:] + p[:, :-1]) * np.diff(grid)
    mid = 0.5 * (grid[1:] + grid[:-1])
    mean_pdf = float(np.mean(stacked_mass @ mid / stacked_mass.sum(axis=1)))
    return {
        "edges": edges,
        "nz_pdf": nz_pdf,
        "nz_true": nz_true,
        "mean_shift": mean_pdf - float(np.mean(z)),
        "ks": float(np.max(np.abs(stacked - true_cdf))),
        "l1": float(np.sum(np.abs(nz_pdf - nz_true) * widths)),
    }


def pdf_scores(z_grid: ArrayLike, pdf: ArrayLike, z_true: ArrayLike) -> dict[str, float]:
    """Every PDF score as one flat dict of floats.

    Keys: ``pit_ks``, ``pit_cvm`` (statistics, lower is better) and their p-values,
    ``pit_outliers`` (fraction with PIT < 0.001 or > 0.999: true redshifts in the far
    tails), ``crps`` (mean), ``coverage_68``, ``coverage_95``, ``nz_mean_shift``,
    ``nz_ks``, ``nz_l1``.
    """
    grid, p, z = _check(z_grid, pdf, z_true)
    u = pit(grid, p, z)
    uni = pit_uniformity(u)
    cov = interval_coverage(grid, p, z, (0.68, 0.95))
    nz = nz_reconstruction(grid, p, z)
    return {
        "pit_ks": uni["ks"],
        "pit_ks_pvalue": uni["ks_pvalue"],
        "pit_cvm": uni["cvm"],
        "pit_cvm_pvalue": uni["cvm_pvalue"],
        "pit_outliers": float(np.mean((u < 0.001) | (u > 0.999))),
        "crps": float(np.mean(crps(grid, p, z))),
        "coverage_68": cov[0.68],
        "coverage_95": cov[0.95],
        "nz_mean_shift": float(nz["mean_shift"]),
        "nz_ks": float(nz["ks"]),
        "nz_l1": float(nz["l1"]),
    }
