"""Mock catalogues: clustered (Thomas / Neyman-Scott) points and uniform randoms."""

from __future__ import annotations

import numpy as np


def thomas_process(
    n_parents: int,
    mean_children: float,
    sigma: float,
    boxsize: float,
    *,
    seed: int | None = 0,
    periodic: bool = True,
) -> np.ndarray:
    """A Thomas cluster process in a cubic box.

    Parents are uniform; each gets Poisson(``mean_children``) children with
    Gaussian offsets of width ``sigma``. Its correlation function is known:
    xi(r) = exp(-r^2 / 4 sigma^2) / (n_parents / V * (4 pi sigma^2)^{3/2}).

    Parameters
    ----------
    n_parents : int
    mean_children : float
    sigma : float
        Gaussian offset per axis (same units as ``boxsize``).
    boxsize : float
        Side of the cube [0, boxsize).
    seed : int, optional
    periodic : bool
        Wrap children into the box (True) or drop those outside.

    Returns
    -------
    ndarray, shape (N, 3)
    """
    rng = np.random.default_rng(seed)
    parents = rng.uniform(0.0, boxsize, size=(n_parents, 3))
    k = rng.poisson(mean_children, size=n_parents)
    pts = np.repeat(parents, k, axis=0) + rng.normal(0.0, sigma, size=(int(k.sum()), 3))
    if periodic:
        pts = np.mod(pts, boxsize)
        pts[pts >= boxsize] = 0.0  # mod can round up to the box size itself
        return pts
    return pts[((pts >= 0) & (pts < boxsize)).all(axis=1)]


def thomas_xi(r: np.ndarray, n_parents: int, sigma: float, boxsize: float) -> np.ndarray:
    """The exact two-point function of :func:`thomas_process`."""
    density = n_parents / boxsize**3
    return np.exp(-(np.asarray(r) ** 2) / (4.0 * sigma**2)) / (
        density * (4.0 * np.pi * sigma**2) ** 1.5
    )


def uniform_randoms(n: int, boxsize: float, *, seed: int | None = 1) -> np.ndarray:
    """``n`` uniform points in [0, boxsize)^3."""
    return np.random.default_rng(seed).uniform(0.0, boxsize, size=(n, 3))
