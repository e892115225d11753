"""Exact pair counts (DD, DR, RR) and two-point correlation estimators."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from . import _validate
from ._progress import progress_bar
from .bins import Bins, as_bins
from .errors import InputError


@dataclass(frozen=True)
class Norms:
    """Power sums of one catalogue's weights: S_k = sum w^k, k = 1..4."""

    n: int
    s1: float
    s2: float
    s3: float
    s4: float

    @classmethod
    def of(cls, n: int, w: np.ndarray | None) -> Norms:
        if w is None:
            return cls(n, float(n), float(n), float(n), float(n))
        return cls(n, *(float((w**k).sum()) for k in (1, 2, 3, 4)))

    @property
    def pairs(self) -> float:
        """sum over unordered pairs i != j of w_i w_j."""
        return 0.5 * (self.s1 * self.s1 - self.s2)

    @property
    def triples(self) -> float:
        """sum over unordered triples of w_i w_j w_k."""
        return (self.s1**3 - 3.0 * self.s1 * self.s2 + 2.0 * self.s3) / 6.0

    @property
    def quadruples(self) -> float:
        """sum over unordered quadruples of w_i w_j w_k w_l."""
        s1, s2, s3, s4 = self.s1, self.s2, self.s3, self.s4
        return (s1**4 - 6 * s1 * s1 * s2 + 3 * s2 * s2 + 8 * s1 * s3 - 6 * s4) / 24.0

    def combinations(self, k: int) -> float:
        """Elementary symmetric sum of order k (0..4) of the weights."""
        return (1.0, self.s1, self.pairs, self.triples, self.quadruples)[k]


@dataclass
class PairCounts:
    """Weighted pair counts over unordered pairs {i, j}, i != j.

    Attributes
    ----------
    bins : Bins
    dd, dr, rr : ndarray, shape (nbins, nmu)
        Sums of w_i w_j (plain counts without weights). ``dr`` and ``rr`` are
        zero when no randoms were given.
    data, randoms : Norms
        Weight sums used for the normalisations.
    box : float or None
        Periodic box size; with no randoms, RR is computed analytically.
    """

    bins: Bins
    dd: np.ndarray
    dr: np.ndarray
    rr: np.ndarray
    data: Norms
    randoms: Norms | None
    box: float | None = None

    @property
    def has_randoms(self) -> bool:
        return self.randoms is not None

    @property
    def dd_norm(self) -> float:
        return self.data.pairs

    @property
    def dr_norm(self) -> float:
        return self.data.s1 * self.randoms.s1 if self.randoms else np.nan

    @property
    def rr_norm(self) -> float:
        return self.randoms.pairs if self.randoms else np.nan

    def rr_analytic(self) -> np.ndarray:
        """Expected DD of an unclustered catalogue in the periodic box, (nbins, nmu)."""
        if self.box is None:
            raise InputError("analytic RR needs a periodic box (box=...)")
        shell = self.bins.shell_volumes() / self.box**3
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
            self.dd, self.dr, self.rr, estimator, self.rr_analytic if self.box else None
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
        a = self.rr_analytic if self.box else None
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
        import pyarrow as pa

        e, m = self.bins.edges, self.bins.mu_edges
        nb, nmu = self.bins.nbins, self.bins.nmu
        ib, im = np.divmod(np.arange(nb * nmu), nmu)
        xi = self.xi().ravel() if (self.has_randoms or self.box) else np.full(nb * nmu, np.nan)
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
                else (self.rr_analytic().ravel() if self.box else self.rr.ravel()),
                "xi": xi,
            }
        )
        meta = {
            "dd_norm": str(self.dd_norm),
            "dr_norm": str(self.dr_norm),
            "rr_norm": str(self.rr_norm),
            "box": "" if self.box is None else str(self.box),
        }
        return table.replace_schema_metadata(meta)

    def to_pandas(self) -> Any:
        return self.to_arrow().to_pandas()

    def save_parquet(self, path: str | Path) -> None:
        import pyarrow.parquet as pq

        pq.write_table(self.to_arrow(), path)

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
        from . import plotting

        return plotting.plot_pairs(self, kind=kind, ax=ax, **kwargs)


def _reshape(pc: tuple[np.ndarray, np.ndarray, np.ndarray], bins: Bins) -> tuple[np.ndarray, ...]:
    return tuple(a.reshape(bins.nbins, bins.nmu) for a in pc)


def count_pairs(
    data: Any,
    randoms: Any = None,
    *,
    bins: Bins | Any,
    data_weights: Any = None,
    random_weights: Any = None,
    box: float | None = None,
    los: str | None = None,
    num_threads: int | None = None,
    progress: bool = False,
    comm: Any = None,
    allreduce: bool = False,
) -> PairCounts:
    """Exact DD, DR and RR pair counts straight from a cell grid (no stored graph).

    Parameters
    ----------
    data, randoms : ndarray (N, 3) or Catalog
        Comoving positions; ``randoms`` is optional.
    bins : Bins or array_like of edges
    data_weights, random_weights : ndarray, optional
        Per-point weights (taken from a Catalog when not given).
    box : float, optional
        Periodic box size: minimum-image separations; rmax must be < box/2.
    los : {"midpoint", "z"}, optional
        Line of sight for mu; "midpoint" for surveys, "z" (default) in a box.
    num_threads : int, optional
        Threads to use (None: all cores).
    progress : bool
        Show a progress bar.
    comm : mpi4py communicator, optional
        Spread the work over MPI ranks (see :mod:`astrograph.parallel`): the
        result is returned on rank 0 (None on the other ranks).
    allreduce : bool
        With ``comm``, return the result on every rank.

    Returns
    -------
    PairCounts
    """
    if comm is not None:
        from .parallel import count_mpi

        return count_mpi(
            "pairs",
            data,
            randoms,
            bins=bins,
            data_weights=data_weights,
            random_weights=random_weights,
            box=box,
            los=los,
            num_threads=num_threads,
            comm=comm,
            allreduce=allreduce,
        )
    from . import _lib

    b = as_bins(bins)
    d, dw, r, rw, box, los = _validate.catalogues(
        data, randoms, data_weights, random_weights, box, los
    )
    with progress_bar("pair counts", progress) as cb:
        raw = _lib.count_pairs(
            d,
            dw,
            r,
            rw,
            b.edges.tolist(),
            b.nmu,
            box,
            los,
            num_threads=_validate.num_threads(num_threads),
            progress=cb,
        )
    dd, dr, rr = _reshape(raw, b)
    return PairCounts(
        b,
        dd,
        dr,
        rr,
        Norms.of(d.shape[1], dw),
        None if r is None else Norms.of(r.shape[1], rw),
        box,
    )
