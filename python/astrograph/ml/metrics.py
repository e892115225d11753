"""Quality metrics: photometric redshifts and Galaxy Zoo vote fractions.

The photo-z metrics use the normalised residual ``dz = (z_phot - z_spec) / (1 + z_spec)``;
:func:`galaxy_zoo_rmse` is the score of the Kaggle Galaxy Zoo challenge.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from ..errors import InputError
from .validation import as_float_array

__all__ = ["photoz_metrics", "photoz_residuals", "METRIC_KEYS", "galaxy_zoo_rmse"]

#: Keys of the dict returned by :func:`photoz_metrics`, in reporting order.
METRIC_KEYS = ("bias", "sigma_nmad", "rms", "eta_015", "eta_3sigma", "eta_005")


def _as_redshifts(z_phot: ArrayLike, z_spec: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    zp = as_float_array(z_phot, "z_phot")
    zs = as_float_array(z_spec, "z_spec")
    if zp.ndim != 1 or zs.ndim != 1:
        raise InputError(f"z_phot and z_spec must be 1-d; got shapes {zp.shape} and {zs.shape}")
    if zp.shape != zs.shape:
        raise InputError(f"z_phot has {zp.size} values but z_spec has {zs.size}")
    if zp.size == 0:
        raise InputError("z_phot and z_spec are empty; need at least one object")
    for name, arr in (("z_phot", zp), ("z_spec", zs)):
        bad = np.flatnonzero(~np.isfinite(arr))
        if bad.size:
            shown = ", ".join(map(str, bad[:10])) + (", ..." if bad.size > 10 else "")
            raise InputError(f"{bad.size} values of {name} are NaN or infinite (indices {shown})")
    if np.any(zs <= -1):
        raise InputError("z_spec must be > -1 so that 1 + z_spec is positive")
    return zp, zs


def photoz_residuals(z_phot: ArrayLike, z_spec: ArrayLike) -> np.ndarray:
    """Normalised photo-z residuals.

    Parameters
    ----------
    z_phot, z_spec : array_like, shape (N,)
        Photometric and spectroscopic redshifts.

    Returns
    -------
    numpy.ndarray, shape (N,)
        ``(z_phot - z_spec) / (1 + z_spec)``.
    """
    zp, zs = _as_redshifts(z_phot, z_spec)
    return (zp - zs) / (1.0 + zs)


def photoz_metrics(z_phot: ArrayLike, z_spec: ArrayLike) -> dict[str, float]:
    """Standard photometric-redshift quality metrics.

    Parameters
    ----------
    z_phot, z_spec : array_like, shape (N,)
        Photometric and spectroscopic redshifts. NaN / infinite values raise
        :class:`~astrograph.errors.InputError` (they are never silently dropped).

    Returns
    -------
    dict
        ``bias``        mean of dz;
        ``sigma_nmad``  1.4826 * median(|dz - median(dz)|);
        ``rms``         sqrt(mean(dz**2));
        ``eta_015``     fraction of objects with |dz| > 0.15;
        ``eta_3sigma``  fraction with |dz| > 3 * std(dz);
        ``eta_005``     fraction with |dz| > 0.05.
        Outlier fractions are fractions (0-1), not percentages.

    Examples
    --------
    >>> m = photoz_metrics([0.1, 0.2, 0.3], [0.1, 0.2, 0.3])
    >>> m["sigma_nmad"], m["eta_015"]
    (0.0, 0.0)
    """
    dz = photoz_residuals(z_phot, z_spec)
    adz = np.abs(dz)
    std = float(np.std(dz))
    return {
        "bias": float(np.mean(dz)),
        "sigma_nmad": float(1.4826 * np.median(np.abs(dz - np.median(dz)))),
        "rms": float(np.sqrt(np.mean(dz**2))),
        "eta_015": float(np.mean(adz > 0.15)),
        "eta_3sigma": float(np.mean(adz > 3.0 * std)),
        "eta_005": float(np.mean(adz > 0.05)),
    }


def galaxy_zoo_rmse(y_true: ArrayLike, y_pred: ArrayLike) -> float:
    """RMSE over all galaxies and answers, the metric of the Kaggle Galaxy Zoo challenge."""
    y_true, y_pred = as_float_array(y_true, "y_true"), as_float_array(y_pred, "y_pred")
    if y_true.shape != y_pred.shape:
        raise InputError(f"shape mismatch: {y_true.shape} vs {y_pred.shape}")
    return float(np.sqrt(np.mean((y_true - y_pred) ** 2)))
