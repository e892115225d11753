"""Triangle counts (DDD, DDR, DRR, RRR) and the 3-point estimators."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import pyarrow as pa

from ...errors import InputError
from .. import plotting
from ..bins import Bins
from .analytic import sorted_mask, triangle_probability
from .norms import Norms
from .pairs import PairCounts
from .resampling import Resampled, Resampling, load_regions, save_regions
from .table import (
    PAIRS_KEY,
    UNITS,
    ResultTable,
    column,
    embed,
    embedded,
    norms_json,
    norms_of,
    package_version,
    write,
    write_ascii,
)

TRIANGLE_TYPES = ("ddd", "ddr", "drr", "rrr")
#: Names of the counts in tables, files and headers, in TRIANGLE_TYPES order.
_NAMES = ("DDD", "DDR", "DRR", "RRR")
#: File format of :meth:`TriangleCounts.save` (key in the Parquet metadata).
FORMAT = "astrograph.triangles"
FORMAT_VERSION = 1
_FORMULAS = {
    "szapudi-szalay": "zeta = (DDD - 3 DDR + 3 DRR - RRR) / RRR, each count over its norm "
    "(Szapudi & Szalay 1998)",
    "natural": "zeta = DDD / RRR_analytic - 1 - (xi1 + xi2 + xi3), RRR_analytic = "
    "e3(data weights) x the periodic box's probability of the sides' bins",
}


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

    SAVE_FORMAT: ClassVar[str] = FORMAT
    SAVE_VERSION: ClassVar[int] = FORMAT_VERSION

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

    # -- outputs ------------------------------------------------------------
    @property
    def names(self) -> tuple[str, ...]:
        """Names of the counts held (DDD, DDR, DRR, RRR; DDD alone without
        randoms), as in tables and files."""
        return _NAMES if self.randoms is not None else _NAMES[:1]

    def norms(self) -> dict[str, float]:
        """Normalisation of every count held, by name (see :meth:`norm`)."""
        return {n: float(self.norm(n.lower())) for n in self.names}

    def default_estimator(self) -> str:
        """The estimator of :meth:`zeta`: "szapudi-szalay" with randoms,
        "natural" (over the analytic RRR of a periodic box) without."""
        return "szapudi-szalay" if self.randoms is not None else "natural"

    def _estimates(self) -> dict[str, np.ndarray]:
        """zeta and q (NaN where masked) and the analytic RRR, where they exist."""
        out: dict[str, np.ndarray] = {}
        try:
            if self.randoms is None:
                out["RRR_analytic"] = self.rrr_analytic()
            out["zeta"] = self.zeta().filled(np.nan)
            out["q"] = self.q().filled(np.nan)
        except InputError:  # no randoms and no usable box: counts only
            pass
        return out

    def _columns(self, rows: tuple, names: Sequence[str]) -> dict[str, Any]:
        e = self.bins.edges
        cols: dict[str, Any] = {}
        for s, side in enumerate(("r1", "r2", "r3")):
            cols[f"{side}_lo"] = e[rows[s]]
            cols[f"{side}_hi"] = e[rows[s] + 1]
        for name in names:
            cols[name] = getattr(self, name.lower())[rows]
        for name, value in self._estimates().items():
            cols[name] = value[rows]
        return cols

    def _header(self, complete: bool) -> dict[str, Any]:
        return {
            **self._identity(complete),
            "counts": list(self.names),
            "norms": self.norms(),
            "estimator": self.default_estimator(),
            "statistic": "zeta",
            "edges": self.bins.edges.tolist(),
            "units": UNITS,
            "boxsize": self.boxsize,
            "data": norms_json(self.data),
            "randoms": norms_json(self.randoms),
            "nregions": 0 if self.resampling is None else self.resampling.nregions,
        }

    def to_arrow(self) -> Any:
        """One row per valid configuration (b1 <= b2 <= b3, RRR > 0): side bin
        edges (r1_lo ... r3_hi), the counts held (DDD, DDR, DRR, RRR; without
        randoms DDD and RRR_analytic), zeta and q; the bins, units, norms,
        estimator and package version in the schema metadata (:meth:`save`
        keeps everything)."""
        try:
            rows = np.nonzero(self.valid)
        except InputError:  # no randoms and no usable box: every sorted configuration
            rows = np.nonzero(sorted_mask(self.nbins))
        header = self._header(complete=False)
        return pa.table(self._columns(rows, self.names)).replace_schema_metadata(
            {FORMAT: json.dumps(header, allow_nan=True)}
        )

    def save(self, path: str | Path) -> None:
        """Writes everything needed to recompute every estimator and error
        bar to one Parquet file: one row per sorted configuration (b1 <= b2
        <= b3; ``valid`` flags those of :meth:`to_arrow`) with the four counts,
        zeta, q and the region tables (``"touch:DDD"``, ... one value per
        region); in the metadata the bins, box, norms, per-region weight sums
        and the pair counts (a saved :class:`PairCounts`). :meth:`load` (or
        :func:`~astrograph.clustering.results.load_result`) reads it back."""
        nb = self.nbins
        arrays = [getattr(self, k) for k in TRIANGLE_TYPES]
        rs = self.resampling
        if rs is not None:
            arrays += [rs.touch, rs.low, rs.within]
        keep = sorted_mask(nb)
        full = all(not np.any(a[..., ~keep]) for a in arrays)
        if not full:  # not the core's layout: keep every configuration
            keep = np.ones_like(keep)
        rows = np.nonzero(keep)
        cols = self._columns(rows, _NAMES)
        try:
            cols["valid"] = self.valid[rows]
        except InputError:
            pass
        header = self._header(complete=True)
        header["configurations"] = "sorted" if full else "all"
        if rs is not None:
            save_regions(rs, list(_NAMES), rows, cols, header)
        write(pa.table(cols), header, path, {PAIRS_KEY: embed(self.pairs)})

    @classmethod
    def _from_saved(cls, table: Any, h: dict[str, Any], path: Any) -> TriangleCounts:
        bins = Bins(h["edges"])
        nb = bins.nbins
        keep = sorted_mask(nb)
        if h.get("configurations", "sorted") != "sorted":
            keep = np.ones_like(keep)
        rows = np.nonzero(keep)
        arrays = []
        for name in _NAMES:
            a = np.zeros((nb, nb, nb))
            a[rows] = column(table, name, path)
            arrays.append(a)
        pairs = embedded(table, path)
        if not isinstance(pairs, PairCounts):
            raise InputError(f"{path}: the embedded pair counts are a {type(pairs).__name__}")
        rs = load_regions(table, h, list(_NAMES), (nb, nb, nb), rows)
        data = norms_of(h["data"])
        return cls(bins, *arrays, pairs, data, norms_of(h["randoms"]), h["boxsize"], rs)  # type: ignore[arg-type]

    def _summary_line(self) -> str:
        box = "" if self.boxsize is None else f", periodic box {self.boxsize:g}"
        regions = "" if self.resampling is None else f", {self.resampling.nregions} regions"
        return f"{'/'.join(self.names)}, {self.nbins} bins per side{box}{regions}"

    def save_ascii(self, path: str | Path) -> None:
        """A text table of :meth:`to_arrow`: r1/r2/r3 bin edges, DDD, DDR,
        DRR, RRR (DDD and RRR_analytic without randoms), zeta and q per valid
        configuration, under a header giving the bins and their unit, the
        estimator, every normalisation, the box and the package version."""
        t = self.to_arrow()
        est = self.default_estimator()
        e = " ".join(f"{x:.12g}" for x in self.bins.edges)
        lines = [
            f"astrograph {package_version()} {type(self).__name__}: {self._summary_line()}",
            f"side bin edges {e} in {UNITS}; r1 <= r2 <= r3, one row per configuration "
            "that can close (RRR > 0)",
            f"estimator {est}: {_FORMULAS[est]}; q = zeta / (xi1 xi2 + xi2 xi3 + xi3 xi1)",
            f"boxsize {self.boxsize}",
            "norms " + "  ".join(f"{n} {v:.17g}" for n, v in self.norms().items()),
        ]
        write_ascii(path, t, t.column_names, lines)

    def plot(self, kind: str = "r1r2", ax: Any = None, **kwargs: Any) -> Any:
        """Plots ``kind`` in {"r1r2", "equilateral", "isosceles", "q"} (zeta
        against the opening angle for sides in bins ``b1``, ``b2``; zeta on
        equilateral or isosceles (two sides in bin ``b1``) configurations; Q
        on equilateral ones), with jackknife error bars when the counts carry
        regions; returns the axes."""
        return plotting.plot_triangles(self, kind=kind, ax=ax, **kwargs)

    @property
    def total(self) -> float:
        """Sum of DDD, DDR, DRR and RRR over all configurations."""
        return float(sum(getattr(self, k).sum() for k in TRIANGLE_TYPES))
