"""Projected pair counts DD(rp, pi), xi(rp, pi) and wp(rp)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ...errors import InputError
from .. import plotting
from ..bins import Bins
from .norms import Norms
from .pairs import PairCounts


@dataclass(repr=False)
class ProjectedCounts(PairCounts):
    """Weighted pair counts in bins of rp (across the line of sight) and pi
    (along it), of one tracer or two (as :class:`PairCounts`), each of shape
    (nrp, npi). ``bins`` holds the rp edges and ``bins.nmu`` = npi linear pi
    bins over [0, ``pimax``) of |pi|, or over [-pimax, pimax) of the signed pi
    (``bins.mu_min`` = -1). Along an axis (boxes): pi = the separation along
    it, rp^2 = the sum of the other two squares (Corrfunc's DDrppi
    convention, which counts ordered pairs: twice these); along the pair's
    line of sight l (surveys): pi = s.l/|l|, rp^2 = s^2 - pi^2.
    """

    pimax: float = 0.0

    @classmethod
    def from_raw(  # type: ignore[override]
        cls,
        bins: Bins,
        raw: Sequence[np.ndarray],
        data: Norms,
        randoms: Norms | None,
        boxsize: float | None,
        sums: tuple | None = None,
        pimax: float = 0.0,
    ) -> ProjectedCounts:
        pc = PairCounts.from_raw(bins, raw, data, randoms, boxsize, sums)
        return cls(
            pc.bins, pc.counts, pc.sums, boxsize, pc.resampling, los=pc.los, pimax=float(pimax)
        )

    @property
    def rp_edges(self) -> np.ndarray:
        """The rp bin edges."""
        return self.bins.edges

    @property
    def pi_edges(self) -> np.ndarray:
        """The ``npi + 1`` linear pi bin edges over [0, pimax] (or [-pimax, pimax])."""
        return np.linspace(self.bins.mu_min * self.pimax, self.pimax, self.bins.nmu + 1)

    def _cell_fraction(self) -> np.ndarray:
        """Fraction of uniform pairs in each (rp, pi) cell: the ring volume
        pi (rp_hi^2 - rp_lo^2) times dpi (twice: both signs of pi for |pi|)."""
        e = self.rp_edges
        sides = 1.0 if self.bins.signed else 2.0
        ring = np.pi * np.diff(e**2)[:, None] * sides * np.diff(self.pi_edges)[None, :]
        return ring / self.boxsize**3

    def xi_rppi(self, estimator: str | None = None) -> np.ndarray:
        """xi(rp, pi), shape (nrp, npi); see :meth:`PairCounts.xi` for the estimators."""
        return self.xi(estimator)

    def wp(self, estimator: str | None = None) -> np.ndarray:
        """wp(rp) = integral of xi(rp, pi) over pi from -pimax to pimax
        (2 sum_pi xi dpi over |pi| bins), shape (nrp,)."""
        sides = 1.0 if self.bins.signed else 2.0
        return sides * (self.xi(estimator) * np.diff(self.pi_edges)[None, :]).sum(axis=1)

    def xi_s(self, estimator: str | None = None) -> np.ndarray:
        raise InputError("projected counts have no xi(s): use wp() or xi_rppi()")

    def multipoles(self, ells: Any = None, estimator: str | None = None) -> np.ndarray:
        raise InputError("projected counts have no multipoles: use wp() or xi_rppi()")

    def _axes(self) -> dict[str, np.ndarray]:
        e, p = self.rp_edges, self.pi_edges
        ib, ip = np.divmod(np.arange(self.bins.nbins * self.bins.nmu), self.bins.nmu)
        return {"rp_lo": e[ib], "rp_hi": e[ib + 1], "pi_lo": p[ip], "pi_hi": p[ip + 1]}

    def _extra_header(self) -> dict[str, Any]:
        h: dict[str, Any] = {"pimax": self.pimax}
        try:
            h["wp"] = self.wp().tolist()
        except InputError:
            pass
        return h

    @classmethod
    def _from_header(cls, h, bins, counts, sums, rs, pip) -> ProjectedCounts:
        return cls(
            bins,
            counts,
            sums,
            h["boxsize"],
            rs,
            pip,
            h["los"],
            h.get("meta", {}),
            float(h["pimax"]),
        )

    def plot(self, kind: str = "wp", ax: Any = None, **kwargs: Any) -> Any:
        """Plots ``kind`` in {"wp", "xi_rppi"}; returns the axes."""
        return plotting.plot_projected(self, kind=kind, ax=ax, **kwargs)
