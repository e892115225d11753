"""Pair counts (DD, DR, RR) and the two-point correlation estimators."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa

from ...errors import InputError
from .. import plotting
from ..bins import Bins
from .norms import Norms
from .resampling import Resampled, Resampling
from .table import ResultTable


@dataclass
class PairCounts(ResultTable, Resampled):
    """Weighted pair counts over unordered pairs {i, j}, i != j.

    Attributes
    ----------
    bins : Bins
    dd, dr, rr : ndarray, shape (nbins, nmu)
        Sums of w_i w_j (plain counts without weights). ``dr`` and ``rr`` are
        zero when no randoms were given.
    data, randoms : Norms
        Weight sums used for the normalisations.
    boxsize : float or None
        Periodic box size; with no randoms, RR is computed analytically.
    resampling : Resampling or None
        Per-region tables for error bars (counted with ``regions=``); see
        :meth:`cov`, :meth:`std` and :meth:`realisations`.
    """

    bins: Bins
    dd: np.ndarray
    dr: np.ndarray
    rr: np.ndarray
    data: Norms
    randoms: Norms | None
    boxsize: float | None = None
    resampling: Resampling | None = None

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
        (data weighted, randoms weighted)) when counted with regions."""
        shape = (bins.nbins, bins.nmu)
        dd, dr, rr = (np.asarray(a, dtype=np.float64).reshape(shape) for a in raw[:3])
        rs = None
        if sums is not None and len(raw) > 3:
            rs = Resampling.from_raw(raw[3], (3, *shape), *sums)
        return cls(bins, dd, dr, rr, data, randoms, boxsize, rs)

    def _stacked(self) -> np.ndarray:
        return np.stack([self.dd, self.dr, self.rr])

    def _realisation(self, counts, data, randoms, index=None) -> PairCounts:
        dd, dr, rr = counts
        return replace(self, dd=dd, dr=dr, rr=rr, data=data, randoms=randoms, resampling=None)

    @property
    def has_randoms(self) -> bool:
        """Whether the counts include randoms (DR, RR)."""
        return self.randoms is not None

    @property
    def dd_norm(self) -> float:
        """Weighted number of data pairs: (S1^2 - S2) / 2."""
        return self.data.pairs

    @property
    def dr_norm(self) -> float:
        """Weighted number of data-random pairs: S1(data) S1(randoms); NaN without randoms."""
        return self.data.s1 * self.randoms.s1 if self.randoms else np.nan

    @property
    def rr_norm(self) -> float:
        """Weighted number of random pairs; NaN without randoms."""
        return self.randoms.pairs if self.randoms else np.nan

    def rr_analytic(self) -> np.ndarray:
        """Expected DD of an unclustered catalogue in the periodic box, (nbins, nmu)."""
        if self.boxsize is None:
            raise InputError("analytic RR needs a periodic box (boxsize=...)")
        shell = self.bins.shell_volumes() / self.boxsize**3
        return np.repeat((self.dd_norm * shell / self.bins.nmu)[:, None], self.bins.nmu, axis=1)

    def _normalised(self, dd: np.ndarray, dr: np.ndarray, rr: np.ndarray) -> tuple[np.ndarray, ...]:
        return dd / self.dd_norm, dr / self.dr_norm, rr / self.rr_norm

    def xi(self, estimator: str = "landy-szalay") -> np.ndarray:
        """xi(s, mu), shape (nbins, nmu).

        Parameters
        ----------
        estimator : {"landy-szalay", "natural", "davis-peebles", "hamilton"}
            With no randoms in a periodic box only "natural" (DD / RR_analytic - 1)
            is available and is used whatever is asked.

        Bins with RR = 0 are NaN (nothing to normalise by).
        """
        return self._xi(
            self.dd, self.dr, self.rr, estimator, self.rr_analytic if self.boxsize else None
        )

    def _xi(self, dd, dr, rr, estimator, analytic) -> np.ndarray:
        with np.errstate(divide="ignore", invalid="ignore"):
            if not self.has_randoms:
                if analytic is None:
                    raise InputError("xi needs randoms (or a periodic box for analytic RR)")
                ra = analytic()
                if dd.ndim == 1:
                    ra = ra.sum(axis=1)
                return np.where(ra > 0, dd / ra - 1.0, np.nan)
            d, x, r = self._normalised(dd, dr, rr)
            est = estimator.lower().replace("_", "-")
            if est in ("landy-szalay", "ls"):
                out = (d - 2.0 * x + r) / r
            elif est == "natural":
                out = d / r - 1.0
            elif est in ("davis-peebles", "dp"):
                out = d / x - 1.0
            elif est == "hamilton":
                out = d * r / (x * x) - 1.0
            else:
                raise InputError(f"unknown estimator {estimator!r}")
        return np.where(rr > 0, out, np.nan)

    def xi_s(self, estimator: str = "landy-szalay") -> np.ndarray:
        """Angle-averaged xi(s) from the counts summed over mu, shape (nbins,)."""
        a = self.rr_analytic if self.boxsize else None
        return self._xi(self.dd.sum(1), self.dr.sum(1), self.rr.sum(1), estimator, a)

    def multipoles(
        self, ells: tuple[int, ...] = (0, 2, 4), estimator: str = "landy-szalay"
    ) -> np.ndarray:
        """Legendre multipoles xi_l(s) = (2l+1) int_0^1 xi(s, mu) P_l(mu) dmu, shape (len(ells), nbins)."""
        xi = self.xi(estimator)
        mu = self.bins.mu_edges
        out = []
        for ell in ells:
            p = np.polynomial.legendre.Legendre.basis(ell).integ()
            weights = p(mu[1:]) - p(mu[:-1])
            out.append((2 * ell + 1) * (xi * weights).sum(axis=1))
        return np.array(out)

    def to_arrow(self) -> Any:
        """One row per (s, mu) bin: edges, counts, normalisations and xi."""
        e, m = self.bins.edges, self.bins.mu_edges
        nb, nmu = self.bins.nbins, self.bins.nmu
        ib, im = np.divmod(np.arange(nb * nmu), nmu)
        xi = self.xi().ravel() if (self.has_randoms or self.boxsize) else np.full(nb * nmu, np.nan)
        table = pa.table(
            {
                "r_lo": e[ib],
                "r_hi": e[ib + 1],
                "mu_lo": m[im],
                "mu_hi": m[im + 1],
                "dd": self.dd.ravel(),
                "dr": self.dr.ravel(),
                "rr": self.rr.ravel()
                if self.has_randoms
                else (self.rr_analytic().ravel() if self.boxsize else self.rr.ravel()),
                "xi": xi,
            }
        )
        meta = {
            "dd_norm": str(self.dd_norm),
            "dr_norm": str(self.dr_norm),
            "rr_norm": str(self.rr_norm),
            "boxsize": "" if self.boxsize is None else str(self.boxsize),
        }
        return table.replace_schema_metadata(meta)

    def save_ascii(self, path: str | Path) -> None:
        """The column layout of the classic graph code: r edges, mu edges, NN, RR, xi."""
        t = self.to_arrow()
        cols = [
            t.column(c).to_numpy() for c in ("r_lo", "r_hi", "mu_lo", "mu_hi", "dd", "rr", "xi")
        ]
        header = (
            f"r_lo r_hi mu_lo mu_hi NN RR xi\n"
            f"NN norm {self.dd_norm:.17g}  RR norm {self.rr_norm:.17g}  DR norm {self.dr_norm:.17g}"
        )
        np.savetxt(path, np.column_stack(cols), header=header, fmt="%.10g")

    def plot(self, kind: str = "xi", ax: Any = None, **kwargs: Any) -> Any:
        """Plots ``kind`` in {"xi", "s2xi", "multipoles", "xi_smu"}; returns the axes."""
        return plotting.plot_pairs(self, kind=kind, ax=ax, **kwargs)
