"""Separation and line-of-sight bins."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ..errors import BinningError


class Bins:
    """Separation bins, optionally split in mu, the cosine to the line of sight.

    A separation d falls in bin b when ``edges[b] <= d < edges[b + 1]``; pairs
    outside ``[edges[0], edges[-1])`` are not counted. mu bins are ``nmu``
    linear bins over [0, 1] of mu = |cos| (the default), with mu = 1 in the
    last one, or over [-1, 1] of the signed cosine (``mu_min=-1``, pycorr's
    convention, for odd multipoles and first- or end-point lines of sight).

    Parameters
    ----------
    edges : array_like
        Strictly increasing, finite, non-negative separation bin edges.
    nmu : int, optional
        Number of mu bins (1: no split).
    mu_min : {0, -1}, optional
        The lower end of the mu range.
    """

    def __init__(
        self, edges: Sequence[float] | np.ndarray, nmu: int = 1, *, mu_min: float = 0.0
    ) -> None:
        e = np.asarray(edges, dtype=np.float64)
        if e.ndim != 1 or e.size < 2:
            raise BinningError(
                f"bin edges must be a 1-D array of at least 2 values, got shape {e.shape}"
            )
        if not np.all(np.isfinite(e)):
            raise BinningError(f"bin edges must be finite, got {e.tolist()}")
        if e[0] < 0:
            raise BinningError(f"bin edges must be >= 0, got {e[0]}")
        if np.any(np.diff(e) <= 0):
            raise BinningError(f"bin edges must be strictly increasing, got {e.tolist()}")
        if e.size - 1 > 254:
            raise BinningError(f"at most 254 separation bins are supported, got {e.size - 1}")
        if int(nmu) != nmu or nmu < 1:
            raise BinningError(f"nmu must be a positive integer, got {nmu!r}")
        if mu_min not in (0, -1):
            raise BinningError(f"mu_min must be 0 (mu = |cos|) or -1 (signed mu), got {mu_min!r}")
        self._edges = e
        self._edges.flags.writeable = False
        self.nmu = int(nmu)
        self.mu_min = float(mu_min)

    @classmethod
    def linear(
        cls, rmin: float, rmax: float, nbins: int, nmu: int = 1, *, mu_min: float = 0.0
    ) -> Bins:
        """``nbins`` equal-width bins from ``rmin`` to ``rmax``."""
        _check_range(rmin, rmax, nbins)
        return cls(np.linspace(rmin, rmax, int(nbins) + 1), nmu, mu_min=mu_min)

    @classmethod
    def log(
        cls, rmin: float, rmax: float, nbins: int, nmu: int = 1, *, mu_min: float = 0.0
    ) -> Bins:
        """``nbins`` logarithmic bins from ``rmin`` (> 0) to ``rmax``."""
        _check_range(rmin, rmax, nbins)
        if rmin <= 0:
            raise BinningError(f"logarithmic bins need rmin > 0, got {rmin}")
        return cls(np.geomspace(rmin, rmax, int(nbins) + 1), nmu, mu_min=mu_min)

    @property
    def signed(self) -> bool:
        """Whether mu is the signed cosine over [-1, 1]."""
        return self.mu_min < 0

    @property
    def edges(self) -> np.ndarray:
        """The separation bin edges (read-only)."""
        return self._edges

    @property
    def nbins(self) -> int:
        """Number of separation bins."""
        return self._edges.size - 1

    @property
    def rmin(self) -> float:
        """The first edge: smaller separations are not counted."""
        return float(self._edges[0])

    @property
    def rmax(self) -> float:
        """The last edge: separations from it on are not counted."""
        return float(self._edges[-1])

    @property
    def centers(self) -> np.ndarray:
        """Bin mid-points (arithmetic)."""
        return 0.5 * (self._edges[1:] + self._edges[:-1])

    @property
    def mu_edges(self) -> np.ndarray:
        """The ``nmu + 1`` linear mu bin edges over [mu_min, 1]."""
        return np.linspace(self.mu_min, 1.0, self.nmu + 1)

    def shell_volumes(self) -> np.ndarray:
        """Volume of each spherical shell, 4/3 pi (r_hi^3 - r_lo^3)."""
        return 4.0 / 3.0 * np.pi * np.diff(self._edges**3)

    def __eq__(self, other: object) -> bool:
        return (
            isinstance(other, Bins)
            and self.nmu == other.nmu
            and self.mu_min == other.mu_min
            and np.array_equal(self._edges, other._edges)
        )

    def __hash__(self) -> int:
        return hash((self._edges.tobytes(), self.nmu, self.mu_min))

    def __repr__(self) -> str:
        signed = ", mu_min=-1" if self.signed else ""
        return f"Bins(edges={np.array2string(self._edges, precision=4)}, nmu={self.nmu}{signed})"


def _check_range(rmin: float, rmax: float, nbins: int) -> None:
    if not (np.isfinite(rmin) and np.isfinite(rmax)):
        raise BinningError(f"rmin and rmax must be finite, got {rmin}, {rmax}")
    if rmin >= rmax:
        raise BinningError(f"rmin ({rmin}) must be smaller than rmax ({rmax})")
    if int(nbins) != nbins or nbins < 1:
        raise BinningError(f"nbins must be a positive integer, got {nbins!r}")


def as_bins(bins: Bins | Sequence[float] | np.ndarray) -> Bins:
    """Accepts a Bins or plain edges."""
    return bins if isinstance(bins, Bins) else Bins(bins)
