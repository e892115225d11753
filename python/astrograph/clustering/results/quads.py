"""Quad counts (DDDD ... RRRR) by canonical shape, and the 4-point estimators."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from math import comb
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa

from ...errors import InputError
from .. import plotting
from ..bins import Bins
from .norms import Norms
from .pairs import PairCounts
from .resampling import Resampled, Resampling
from .table import ResultTable

QUAD_TYPES = ("dddd", "dddr", "ddrr", "drrr", "rrrr")
#: Edge order of a quad's six side bins: vertex pairs (01, 02, 03, 12, 13, 23).
QUAD_EDGES = ((0, 1), (0, 2), (0, 3), (1, 2), (1, 3), (2, 3))
#: The three ways to split four vertices into two pairs, as slots of QUAD_EDGES.
QUAD_PAIRINGS = ((0, 5), (1, 4), (2, 3))


@dataclass
class QuadCounts(ResultTable, Resampled):
    """Weighted counts of unordered quadruples whose six separations are all binned.

    ``shapes[s]`` is a canonical 6-tuple of side bins (in QUAD_EDGES order,
    the lexicographically smallest over relabellings of the four vertices);
    ``counts[t, s]`` sums w_i w_j w_k w_l over quads of shape s with t random
    vertices (t = 0..4: DDDD ... RRRR).

    Attributes
    ----------
    bins : Bins
    shapes : ndarray, shape (nshapes, 6), uint8
    counts : ndarray, shape (5, nshapes)
    pairs : PairCounts
        DD, DR, RR on the same bins (for the disconnected terms).
    data, randoms : Norms
    boxsize : float or None
    resampling : Resampling or None
        Per-region tables for error bars (see :meth:`cov`).
    """

    bins: Bins
    shapes: np.ndarray
    counts: np.ndarray
    pairs: PairCounts
    data: Norms
    randoms: Norms | None
    boxsize: float | None = None
    resampling: Resampling | None = None
    odd: np.ndarray | None = None
    chiral: np.ndarray | None = None

    @classmethod
    def from_raw(
        cls,
        shapes: np.ndarray,
        counts: Sequence[np.ndarray],
        jk: np.ndarray,
        odd: np.ndarray,
        chiral: np.ndarray,
        pairs: PairCounts,
    ) -> QuadCounts:
        """From the core's shapes (nshapes, 6), five count arrays, resampling
        tables ``jk``, parity-odd counts (flat (5, nshapes), empty without
        parity) and chiral flags, and the pair counts of the same bins (whose
        norms, box and region sums they share)."""
        c = np.array([np.asarray(a, dtype=np.float64) for a in counts])
        o = np.asarray(odd, dtype=np.float64)
        o = o.reshape(c.shape) if o.size else None
        rs = Resampling.like(
            pairs.resampling, jk, (c.shape[0] * (2 if o is not None else 1), c.shape[1])
        )
        s = np.asarray(shapes)
        ch = np.asarray(chiral, dtype=bool)
        return cls(pairs.bins, s, c, pairs, pairs.data, pairs.randoms, pairs.boxsize, rs, o, ch)

    VERTICES = 4

    def _stacked(self) -> np.ndarray:
        return self.counts if self.odd is None else np.concatenate([self.counts, self.odd])

    def _companions(self, method: str, nboot: int, seed: int, correction: str | None) -> list:
        return self.pairs._realisations(method, nboot, seed, correction)

    def _realisation(self, counts, data, randoms, pairs=None) -> QuadCounts:
        even, odd = (counts, None) if self.odd is None else (counts[:5], counts[5:])
        return replace(
            self, counts=even, odd=odd, pairs=pairs, data=data, randoms=randoms, resampling=None
        )

    def __getattr__(self, name: str) -> np.ndarray:
        if name in QUAD_TYPES:
            return self.counts[QUAD_TYPES.index(name)]
        raise AttributeError(name)

    def norm(self, t: int) -> float:
        """Weighted number of quadruples with ``t`` random vertices (NaN without randoms)."""
        d = self.data.combinations(4 - t)
        if t == 0:
            return d
        return d * self.randoms.combinations(t) if self.randoms is not None else np.nan

    @property
    def valid(self) -> np.ndarray:
        """Shapes with random quads (RRRR > 0), where the estimators are defined."""
        return self.counts[4] > 0 if self.randoms is not None else np.zeros(len(self.shapes), bool)

    def eta(self) -> np.ma.MaskedArray:
        """Full 4-point function (D - R)^4 / RRRR with normalised counts.

        Its expectation is the connected 4PCF plus the disconnected
        xi xi terms (see :meth:`disconnected`); 2- and 3-point terms cancel.
        """
        if self.randoms is None:
            raise InputError("the 4-point estimator needs randoms")
        with np.errstate(divide="ignore", invalid="ignore"):
            n = np.array([self.counts[t] / self.norm(t) for t in range(5)])
            full = sum((-1) ** t * comb(4, t) * n[t] for t in range(5)) / n[4]
        v = self.valid
        return np.ma.masked_array(np.where(v, full, 0.0), mask=~v)

    def zeta_even(self) -> np.ma.MaskedArray:
        """The parity-even 4-point function: :meth:`eta`."""
        return self.eta()

    def zeta_odd(self) -> np.ma.MaskedArray:
        """The parity-odd 4-point function per shape: the (D - R)^4 combination
        of the handedness-weighted counts over RRRR, masked where the shape is
        its own mirror image (no handedness) or has no random quads. Isotropic
        and mirror-symmetric fields give zero; mirroring the catalogue flips
        its sign."""
        if self.odd is None:
            raise InputError("no parity-odd counts: count with parity=True")
        if self.randoms is None:
            raise InputError("the 4-point estimator needs randoms")
        with np.errstate(divide="ignore", invalid="ignore"):
            n4 = self.counts[4] / self.norm(4)
            full = sum((-1) ** t * comb(4, t) * self.odd[t] / self.norm(t) for t in range(5)) / n4
        v = self.valid & self.chiral
        return np.ma.masked_array(np.where(v, full, 0.0), mask=~v)

    def chi2_odd(
        self, method: str = "jackknife", correction: str | None = None
    ) -> tuple[float, int, float]:
        """chi^2 of zeta_odd against zero with its covariance over the regions
        (jackknife, Hartlap-corrected; ``correction`` as in :meth:`cov`), its
        degrees of freedom and p-value."""
        from scipy.stats import chi2  # lazy: scipy only for this p-value

        z = self.zeta_odd()
        ok = ~np.ma.getmaskarray(z)
        cov = self.cov("zeta_odd", method=method, correction=correction)[np.ix_(ok, ok)]
        x = z.compressed()
        k = self._tables().nregions
        p = len(x)
        if p == 0 or k <= p + 2:
            raise InputError(
                f"chi^2 of {p} configurations needs more than {p + 2} regions, got {k}"
            )
        hartlap = (k - p - 2) / (k - 1)
        value = float(hartlap * x @ np.linalg.solve(cov, x))
        return value, p, float(chi2.sf(value, p))

    def disconnected(self) -> np.ndarray:
        """xi(r01) xi(r23) + xi(r02) xi(r13) + xi(r03) xi(r12) per shape (bin-averaged xi)."""
        xi = self.pairs.xi_s()
        s = self.shapes.astype(int)
        return sum(xi[s[:, a]] * xi[s[:, b]] for a, b in QUAD_PAIRINGS)

    def connected(self) -> np.ma.MaskedArray:
        """eta minus the disconnected xi xi terms."""
        return self.eta() - self.disconnected()

    def tetrahedra(self) -> np.ndarray:
        """Indices of regular-tetrahedron shapes (all six sides in one bin)."""
        return np.flatnonzero((self.shapes == self.shapes[:, :1]).all(axis=1))

    def to_arrow(self) -> Any:
        """One row per shape: its six side bins (b01 ... b23), the five counts
        and, with randoms, eta and the disconnected terms."""
        cols: dict[str, Any] = {
            f"b{a}{b}": self.shapes[:, s] for s, (a, b) in enumerate(QUAD_EDGES)
        }
        for t, name in enumerate(QUAD_TYPES):
            cols[name] = self.counts[t]
        if self.odd is not None:
            for t, name in enumerate(QUAD_TYPES):
                cols[f"{name}_odd"] = self.odd[t]
            cols["chiral"] = self.chiral
        if self.randoms is not None:
            cols["eta"] = self.eta().filled(np.nan)
            cols["disconnected"] = self.disconnected()
            if self.odd is not None:
                cols["zeta_odd"] = self.zeta_odd().filled(np.nan)
        meta = {"boxsize": "" if self.boxsize is None else str(self.boxsize)}
        return pa.table(cols).replace_schema_metadata(meta)

    def save_ascii(self, path: str | Path) -> None:
        """One row per shape: the six side bins, DDDD ... RRRR (and eta with randoms)."""
        t = self.to_arrow()
        names = [n for n in t.column_names if n != "disconnected"]
        np.savetxt(
            path,
            np.column_stack([t.column(c).to_numpy() for c in names]),
            header=" ".join(names),
            fmt="%.10g",
        )

    def plot(self, kind: str = "tetrahedra", ax: Any = None, **kwargs: Any) -> Any:
        """Plots ``kind`` in {"tetrahedra", "counts"}; returns the axes."""
        return plotting.plot_quads(self, kind=kind, ax=ax, **kwargs)

    @property
    def total(self) -> float:
        """Sum of all counts (every type, every shape)."""
        return float(self.counts.sum())
