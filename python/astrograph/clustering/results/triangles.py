"""Triangle counts (DDD, DDR, DRR, RRR) and the 3-point estimators."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa

from ...errors import InputError
from .. import plotting
from ..bins import Bins
from .analytic import sorted_mask, triangle_probability
from .norms import Norms
from .pairs import PairCounts
from .resampling import Resampled, Resampling
from .table import ResultTable

TRIANGLE_TYPES = ("ddd", "ddr", "drr", "rrr")


@dataclass
class TriangleCounts(ResultTable, Resampled):
    """Weighted counts of unordered triangles by sorted side bins.

    Each triangle {i, j, k} whose three sides lie in ``[edges[0], edges[-1])``
    adds w_i w_j w_k once, to the array chosen by its number of random
    vertices, at [b1, b2, b3] with b1 <= b2 <= b3 (other entries stay zero).

    Attributes
    ----------
    bins : Bins
    ddd, ddr, drr, rrr : ndarray, shape (nbins, nbins, nbins)
    pairs : PairCounts
        DD, DR, RR on the same bins from the same graph (for xi and Q).
    data, randoms : Norms
    boxsize : float or None
    """

    bins: Bins
    ddd: np.ndarray
    ddr: np.ndarray
    drr: np.ndarray
    rrr: np.ndarray
    pairs: PairCounts
    data: Norms
    randoms: Norms | None
    boxsize: float | None = None
    resampling: Resampling | None = None
    _rrr_box: np.ndarray | None = field(default=None, repr=False)

    @classmethod
    def from_raw(
        cls, raw: Sequence[np.ndarray], jk: np.ndarray, pairs: PairCounts
    ) -> TriangleCounts:
        """From the core's flat (nbins^3) DDD, DDR, DRR, RRR arrays and
        resampling tables ``jk``, and the pair counts of the same bins (whose
        norms, box and region sums they share)."""
        nb = pairs.bins.nbins
        arrays = [np.asarray(a, dtype=np.float64).reshape(nb, nb, nb) for a in raw]
        rs = Resampling.like(pairs.resampling, jk, (4, nb, nb, nb))
        return cls(pairs.bins, *arrays, pairs, pairs.data, pairs.randoms, pairs.boxsize, rs)

    VERTICES = 3

    def _stacked(self) -> np.ndarray:
        return np.stack([self.ddd, self.ddr, self.drr, self.rrr])

    def _companions(self, method: str, nboot: int, seed: int, correction: str | None) -> list:
        return self.pairs._realisations(method, nboot, seed, correction)

    def _realisation(self, counts, data, randoms, pairs=None) -> TriangleCounts:
        ddd, ddr, drr, rrr = counts
        return replace(
            self,
            ddd=ddd,
            ddr=ddr,
            drr=drr,
            rrr=rrr,
            pairs=pairs,
            data=data,
            randoms=randoms,
            resampling=None,
            _rrr_box=None,
        )

    @property
    def nbins(self) -> int:
        """Number of separation bins per side."""
        return self.bins.nbins

    def norm(self, kind: str) -> float:
        """Number of weighted unordered combinations for ``kind`` ('ddd', 'ddr', ...)."""
        nr = kind.count("r")
        d = self.data.combinations(3 - nr)
        if nr == 0:
            return d
        if self.randoms is None:
            return np.nan
        return d * self.randoms.combinations(nr)

    def rrr_analytic(self) -> np.ndarray:
        """Expected DDD of an unclustered catalogue in the periodic box."""
        if self.boxsize is None:
            raise InputError("analytic RRR needs a periodic box (boxsize=...)")
        if self._rrr_box is None:
            self._rrr_box = self.data.triples * triangle_probability(self.bins, self.boxsize)
        return self._rrr_box

    @property
    def valid(self) -> np.ndarray:
        """Configurations that are sorted and can hold triangles (RRR > 0)."""
        ref = self.rrr if self.randoms is not None else self.rrr_analytic()
        return sorted_mask(self.nbins) & (ref > 0)

    def zeta(self) -> np.ma.MaskedArray:
        """Connected 3PCF, masked where no triangle can close.

        With randoms: Szapudi-Szalay (DDD - 3DDR + 3DRR - RRR) / RRR, each
        count normalised by its number of combinations (the factor 3 is
        already in DDR and DRR, which sum over which vertex is random).
        In a periodic box without randoms: DDD / RRR_analytic - 1 - (xi1 + xi2 + xi3).
        """
        valid = self.valid
        with np.errstate(divide="ignore", invalid="ignore"):
            if self.randoms is not None:
                n = {k: getattr(self, k) / self.norm(k) for k in TRIANGLE_TYPES}
                z = (n["ddd"] - 3.0 * n["ddr"] + 3.0 * n["drr"] - n["rrr"]) / n["rrr"]
            else:
                xi = self.pairs.xi_s()
                b1, b2, b3 = np.indices((self.nbins,) * 3)
                z = self.ddd / self.rrr_analytic() - 1.0 - (xi[b1] + xi[b2] + xi[b3])
        return np.ma.masked_array(np.where(valid, z, 0.0), mask=~valid)

    def q(self) -> np.ma.MaskedArray:
        """Reduced 3PCF Q = zeta / (xi1 xi2 + xi2 xi3 + xi3 xi1)."""
        xi = self.pairs.xi_s()
        b1, b2, b3 = np.indices((self.nbins,) * 3)
        den = xi[b1] * xi[b2] + xi[b2] * xi[b3] + xi[b3] * xi[b1]
        z = self.zeta()
        ok = ~z.mask & np.isfinite(den) & (den != 0)
        with np.errstate(divide="ignore", invalid="ignore"):
            q = np.where(ok, z.filled(0.0) / np.where(ok, den, 1.0), 0.0)
        return np.ma.masked_array(q, mask=~ok)

    def equilateral(self) -> np.ma.MaskedArray:
        """zeta on configurations with all three sides in one bin, shape (nbins,)."""
        z = self.zeta()
        i = np.arange(self.nbins)
        return z[i, i, i]

    def isosceles(self, b: int) -> np.ma.MaskedArray:
        """zeta for two sides in bin ``b`` against the third side's bin, shape (nbins,)."""
        z = self.zeta()
        return z[
            tuple(
                np.sort(
                    np.stack(
                        [np.full(self.nbins, b), np.full(self.nbins, b), np.arange(self.nbins)]
                    ),
                    axis=0,
                )
            )
        ]

    def zeta_r1r2(self, b1: int, b2: int) -> tuple[np.ndarray, np.ndarray, np.ma.MaskedArray]:
        """zeta(r1, r2, theta): for sides in bins b1 and b2, against the third side.

        Returns (r3 bin centres, opening angle theta in radians from the bin
        centres by the law of cosines, zeta), masked where no triangle closes.
        """
        z = self.zeta()
        c = self.bins.centers
        r3 = c
        cos = (c[b1] ** 2 + c[b2] ** 2 - r3**2) / (2.0 * c[b1] * c[b2])
        theta = np.arccos(np.clip(cos, -1.0, 1.0))
        k = np.arange(self.nbins)
        idx = np.sort(np.stack([np.full_like(k, b1), np.full_like(k, b2), k]), axis=0)
        return r3, theta, z[tuple(idx)]

    def to_arrow(self) -> Any:
        """One row per valid configuration: side bin edges, counts, zeta, Q."""
        e = self.bins.edges
        idx = np.argwhere(self.valid)
        z, q = self.zeta(), self.q()
        cols: dict[str, Any] = {}
        for s, name in enumerate(("r1", "r2", "r3")):
            cols[f"{name}_lo"] = e[idx[:, s]]
            cols[f"{name}_hi"] = e[idx[:, s] + 1]
        sel = tuple(idx.T)
        for k in TRIANGLE_TYPES:
            cols[k] = getattr(self, k)[sel]
        if self.randoms is None and self.boxsize is not None:
            cols["rrr"] = self.rrr_analytic()[sel]
        cols["zeta"] = z.filled(np.nan)[sel]
        cols["q"] = q.filled(np.nan)[sel]
        return pa.table(cols)

    def save_ascii(self, path: str | Path) -> None:
        """The classic graph-code layout: r1/r2/r3 bin edges, NNN, RRR, zeta."""
        t = self.to_arrow()
        names = ["r1_lo", "r1_hi", "r2_lo", "r2_hi", "r3_lo", "r3_hi", "ddd", "rrr", "zeta"]
        np.savetxt(
            path,
            np.column_stack([t.column(c).to_numpy() for c in names]),
            header="r1_lo r1_hi r2_lo r2_hi r3_lo r3_hi NNN RRR zeta",
            fmt="%.10g",
        )

    def plot(self, kind: str = "r1r2", ax: Any = None, **kwargs: Any) -> Any:
        """Plots ``kind`` in {"r1r2", "equilateral", "isosceles", "q"}."""
        return plotting.plot_triangles(self, kind=kind, ax=ax, **kwargs)

    @property
    def total(self) -> float:
        """Sum of DDD, DDR, DRR and RRR over all configurations."""
        return float(sum(getattr(self, k).sum() for k in TRIANGLE_TYPES))
