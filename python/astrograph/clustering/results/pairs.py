"""Pair counts in (s, mu) bins and the two-point correlation estimators."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ...errors import InputError
from .. import plotting
from ..bins import Bins
from ..weights import WeightSums
from .norms import Norms
from .resampling import Resampling
from .twopoint import AUTO, TwoPointCounts


def sums_of(norms: Norms, regions: np.ndarray | None) -> WeightSums:
    """Weight sums of a catalogue from its power sums (and per-region power
    sums, (K, 5)), the weights with randoms being the weights themselves."""
    total = np.array([norms.n, norms.s1, norms.s2, norms.s3, norms.s4, norms.s1, norms.s2])
    per = None
    if regions is not None:
        per = np.column_stack([regions, regions[:, 1], regions[:, 2]])
    return WeightSums(total, per)


@dataclass(repr=False)
class PairCounts(TwoPointCounts):
    """Weighted pair counts in bins of separation s and of mu, the cosine
    to the line of sight: DD, DR, RR of one tracer (unordered pairs
    {i, j}, i != j) or D1D2, D1R2, R1D2, R1R2 of two (every pair of a point
    of tracer 1 and one of tracer 2, oriented from 1 to 2), each of shape
    (nbins, nmu). See :class:`~astrograph.clustering.results.twopoint.TwoPointCounts`
    for the attributes, normalisations and error bars.
    """

    @classmethod
    def from_raw(
        cls,
        bins: Bins,
        raw: Sequence[np.ndarray],
        data: Norms,
        randoms: Norms | None,
        boxsize: float | None,
        sums: tuple | None = None,
    ) -> PairCounts:
        """From the core's flat (nbins * nmu) DD, DR, RR arrays and resampling
        tables, and the per-region weight sums ``sums`` (data, randoms,
        (data weighted, randoms weighted)) when counted with regions (the
        pair counts that come with triangle and quad counts)."""
        shape = (bins.nbins, bins.nmu)
        names = AUTO if randoms is not None else AUTO[:1]
        counts = {
            n: np.asarray(raw[k], dtype=np.float64).reshape(shape) for k, n in enumerate(names)
        }
        rs = None
        if sums is not None and len(raw) > 3:
            rs = Resampling.from_raw(raw[3], (3, *shape), *sums)
            if rs is not None and randoms is None:
                rs = Resampling(
                    rs.touch[:, :1],
                    rs.low[:, :1],
                    rs.within[:, :1],
                    *(rs.data_sums, None, rs.weighted),
                )
        ws = {"D1": sums_of(data, None if sums is None else sums[0])}
        if randoms is not None:
            ws["R1.0"] = sums_of(randoms, None if sums is None else sums[1])
        return cls(bins, counts, ws, boxsize, rs, los="z" if boxsize else "midpoint")

    def _count(self, name: str) -> np.ndarray:
        c = self.counts.get(name)
        return np.zeros((self.bins.nbins, self.bins.nmu)) if c is None else c

    @property
    def dd(self) -> np.ndarray:
        """DD (D1D2 of a cross-correlation), (nbins, nmu)."""
        return self._count("D1D2" if self.is_cross else "DD")

    @property
    def dr(self) -> np.ndarray:
        """DR (D1R2 of a cross-correlation); zero without randoms."""
        return self._count("D1R2" if self.is_cross else "DR")

    @property
    def rr(self) -> np.ndarray:
        """RR (R1R2 of a cross-correlation); zero without randoms."""
        return self._count("R1R2" if self.is_cross else "RR")

    def _norm_or_nan(self, name: str) -> float:
        return self.norm(name) if name in self.counts else np.nan

    @property
    def dd_norm(self) -> float:
        """Weighted number of data pairs: (S1^2 - S2) / 2 (S1 S1' for two
        tracers; with PIP weights, their expected sum over all pairs)."""
        return self.norm("D1D2" if self.is_cross else "DD")

    @property
    def dr_norm(self) -> float:
        """Weighted number of data-random pairs; NaN without randoms."""
        return self._norm_or_nan("D1R2" if self.is_cross else "DR")

    @property
    def rr_norm(self) -> float:
        """Weighted number of random pairs; NaN without randoms."""
        return self._norm_or_nan("R1R2" if self.is_cross else "RR")

    # -- analytic randoms in a box -------------------------------------
    def _cell_fraction(self) -> np.ndarray:
        """Fraction of uniformly placed pairs in each (s, mu) bin of the box."""
        if self.boxsize is None:
            raise InputError("analytic RR needs a periodic box (boxsize=...)")
        shell = self.bins.shell_volumes() / self.boxsize**3
        return np.repeat((shell / self.bins.nmu)[:, None], self.bins.nmu, axis=1)

    def analytic_rr(self) -> np.ndarray:
        """Normalised random-random counts of the periodic box, (nbins, nmu)."""
        if self.boxsize is None:
            raise InputError("analytic RR needs a periodic box (boxsize=...)")
        return self._cell_fraction()

    def rr_analytic(self) -> np.ndarray:
        """Expected DD of an unclustered catalogue in the periodic box, (nbins, nmu)."""
        return self.dd_norm * self.analytic_rr()

    # -- estimators ------------------------------------------------------
    def xi(self, estimator: str | None = None) -> np.ndarray:
        """xi(s, mu), shape (nbins, nmu); see :meth:`TwoPointCounts.xi`."""
        return self._estimate(self.counts, self.norm, estimator, self._analytic(False))

    def _analytic(self, summed: bool) -> np.ndarray | None:
        if self.boxsize is None or self.has_randoms:
            return None
        a = self.analytic_rr()
        return a.sum(axis=1) if summed else a

    def xi_s(self, estimator: str | None = None) -> np.ndarray:
        """Angle-averaged xi(s) from the counts summed over mu, shape (nbins,)."""
        return self._estimate(self._summed(), self.norm, estimator, self._analytic(True))

    def multipoles(
        self, ells: tuple[int, ...] | None = None, estimator: str | None = None
    ) -> np.ndarray:
        """Legendre multipoles xi_l(s) = (2l+1)/(1 - mu_min) int xi(s, mu)
        P_l(mu) dmu over the mu range, shape (len(ells), nbins). Default
        ells: (0, 2, 4), and (0, 1, 2, 3, 4) with a signed mu."""
        if ells is None:
            ells = (0, 1, 2, 3, 4) if self.bins.signed else (0, 2, 4)
        xi = self.xi(estimator)
        mu = self.bins.mu_edges
        out = []
        for ell in ells:
            p = np.polynomial.legendre.Legendre.basis(ell).integ()
            weights = p(mu[1:]) - p(mu[:-1])
            out.append((2 * ell + 1) / (1.0 - self.bins.mu_min) * (xi * weights).sum(axis=1))
        return np.array(out)

    def _axes(self) -> dict[str, np.ndarray]:
        e, m = self.bins.edges, self.bins.mu_edges
        ib, im = np.divmod(np.arange(self.bins.nbins * self.bins.nmu), self.bins.nmu)
        return {"r_lo": e[ib], "r_hi": e[ib + 1], "mu_lo": m[im], "mu_hi": m[im + 1]}

    def save_ascii(self, path: str | Path) -> None:
        """A text table: s and mu edges, every count (DD, DR, RR or D1D2, ...)
        and xi per bin, with a header giving the binning, line of sight,
        every normalisation, the estimator and the package version."""
        super().save_ascii(path)

    def plot(self, kind: str = "xi", ax: Any = None, **kwargs: Any) -> Any:
        """Plots ``kind`` in {"xi", "s2xi", "multipoles", "xi_smu"}; returns the axes."""
        return plotting.plot_pairs(self, kind=kind, ax=ax, **kwargs)
