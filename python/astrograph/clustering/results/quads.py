"""Quad counts (DDDD ... RRRR) by canonical shape, and the 4-point estimators."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, replace
from math import comb
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import pyarrow as pa

from ...errors import InputError
from .. import plotting
from ..bins import Bins
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

QUAD_TYPES = ("dddd", "dddr", "ddrr", "drrr", "rrrr")
#: Edge order of a quad's six side bins: vertex pairs (01, 02, 03, 12, 13, 23).
QUAD_EDGES = ((0, 1), (0, 2), (0, 3), (1, 2), (1, 3), (2, 3))
#: The three ways to split four vertices into two pairs, as slots of QUAD_EDGES.
QUAD_PAIRINGS = ((0, 5), (1, 4), (2, 3))
#: Names of the counts in tables, files and headers, in QUAD_TYPES order.
_NAMES = ("DDDD", "DDDR", "DDRR", "DRRR", "RRRR")
_ODD = tuple(f"{n}_odd" for n in _NAMES)
#: File format of :meth:`QuadCounts.save` (key in the Parquet metadata).
FORMAT = "astrograph.quads"
FORMAT_VERSION = 1


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

    SAVE_FORMAT: ClassVar[str] = FORMAT
    SAVE_VERSION: ClassVar[int] = FORMAT_VERSION

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

    # -- outputs ------------------------------------------------------------
    @property
    def names(self) -> tuple[str, ...]:
        """Names of the counts held (DDDD ... RRRR; DDDD alone without
        randoms), as in tables and files; parity-odd counts add ``_odd``."""
        return _NAMES if self.randoms is not None else _NAMES[:1]

    def norms(self) -> dict[str, float]:
        """Normalisation of every count held, by name (see :meth:`norm`; the
        parity-odd counts share their type's)."""
        return {n: float(self.norm(t)) for t, n in enumerate(self.names)}

    def _columns(self, names: Sequence[str], summary: bool) -> dict[str, Any]:
        cols: dict[str, Any] = {
            f"b{a}{b}": self.shapes[:, s] for s, (a, b) in enumerate(QUAD_EDGES)
        }
        for name in names:
            cols[name] = self.counts[_NAMES.index(name)]
        if self.odd is not None:
            for name in names:
                cols[f"{name}_odd"] = self.odd[_NAMES.index(name)]
        ok = self.chiral is not None and len(self.chiral) == len(self.shapes)
        if ok and (self.odd is not None or not summary):
            cols["chiral"] = self.chiral
        if self.randoms is not None:
            cols["eta"] = self.eta().filled(np.nan)
            cols["disconnected"] = self.disconnected()
            if self.odd is not None:
                cols["zeta_odd"] = self.zeta_odd().filled(np.nan)
        return cols

    def _header(self, complete: bool) -> dict[str, Any]:
        return {
            **self._identity(complete),
            "counts": list(self.names),
            "parity": self.odd is not None,
            "norms": self.norms(),
            "estimator": "eta" if self.randoms is not None else None,
            "statistic": "eta",
            "edges": self.bins.edges.tolist(),
            "units": UNITS,
            "shape_edges": [f"{a}{b}" for a, b in QUAD_EDGES],
            "boxsize": self.boxsize,
            "data": norms_json(self.data),
            "randoms": norms_json(self.randoms),
            "nregions": 0 if self.resampling is None else self.resampling.nregions,
        }

    def to_arrow(self) -> Any:
        """One row per shape: its six side bins (b01 ... b23, 0-based bin
        indices), the counts held (DDDD ... RRRR), with parity the
        handedness-weighted counts (DDDD_odd ...) and the chiral flag, and with
        randoms eta, the disconnected terms (and zeta_odd); the bins, units,
        norms and package version in the schema metadata (:meth:`save` keeps
        everything)."""
        header = self._header(complete=False)
        return pa.table(self._columns(self.names, True)).replace_schema_metadata(
            {FORMAT: json.dumps(header, allow_nan=True)}
        )

    def save(self, path: str | Path) -> None:
        """Writes everything needed to recompute every estimator and error
        bar to one Parquet file: one row per shape with its side bins, the five
        counts (and the parity-odd ones), the chiral flags, eta and the region
        tables (``"touch:DDDD"``, ... one value per region); in the metadata
        the bins, box, norms, per-region weight sums and the pair counts (a
        saved :class:`PairCounts`). :meth:`load` (or
        :func:`~astrograph.clustering.results.load_result`) reads it back."""
        cols = self._columns(_NAMES, False)
        header = self._header(complete=True)
        header["shapes_dtype"] = self.shapes.dtype.str
        if self.chiral is not None and len(self.chiral) != len(self.shapes):
            header["chiral"] = np.asarray(self.chiral, dtype=bool).tolist()
        else:
            header["chiral"] = "column" if self.chiral is not None else None
        if self.resampling is not None:
            names = list(_NAMES) + (list(_ODD) if self.odd is not None else [])
            save_regions(self.resampling, names, (slice(None),), cols, header)
        write(pa.table(cols), header, path, {PAIRS_KEY: embed(self.pairs)})

    @classmethod
    def _from_saved(cls, table: Any, h: dict[str, Any], path: Any) -> QuadCounts:
        bins = Bins(h["edges"])
        dtype = np.dtype(h.get("shapes_dtype", "|u1"))
        shapes = np.column_stack(
            [column(table, f"b{a}{b}", path).astype(dtype) for a, b in QUAD_EDGES]
        ).reshape(-1, 6)
        counts = np.array([column(table, n, path) for n in _NAMES], dtype=np.float64)
        counts = counts.reshape(len(_NAMES), len(shapes))
        odd = None
        if h["parity"]:
            odd = np.array([column(table, n, path) for n in _ODD], dtype=np.float64)
            odd = odd.reshape(counts.shape)
        chiral = h.get("chiral")
        if chiral == "column":
            chiral = column(table, "chiral", path).astype(bool)
        elif chiral is not None:
            chiral = np.asarray(chiral, dtype=bool)
        pairs = embedded(table, path)
        if not isinstance(pairs, PairCounts):
            raise InputError(f"{path}: the embedded pair counts are a {type(pairs).__name__}")
        names = list(_NAMES) + (list(_ODD) if odd is not None else [])
        rs = load_regions(table, h, names, (len(shapes),), (slice(None),))
        data, randoms = norms_of(h["data"]), norms_of(h["randoms"])
        return cls(bins, shapes, counts, pairs, data, randoms, h["boxsize"], rs, odd, chiral)  # type: ignore[arg-type]

    def _summary_line(self) -> str:
        parity = ", parity-odd counts" if self.odd is not None else ""
        box = "" if self.boxsize is None else f", periodic box {self.boxsize:g}"
        regions = "" if self.resampling is None else f", {self.resampling.nregions} regions"
        return (
            f"{'/'.join(self.names)}, {len(self.shapes)} shapes of {self.bins.nbins} "
            f"separation bins{parity}{box}{regions}"
        )

    def save_ascii(self, path: str | Path) -> None:
        """A text table of :meth:`to_arrow`: per shape its six side bins, the
        counts held (DDDD ... RRRR, the parity-odd ones) and with randoms eta,
        the disconnected terms (and zeta_odd), under a header giving the bins
        and their unit, the estimator, every normalisation, the box and the
        package version."""
        t = self.to_arrow()
        e = " ".join(f"{x:.12g}" for x in self.bins.edges)
        est = (
            "eta = (DDDD - 4 DDDR + 6 DDRR - 4 DRRR + RRRR) / RRRR, each count over its "
            "norm; disconnected = xi(r01) xi(r23) + xi(r02) xi(r13) + xi(r03) xi(r12)"
        )
        if self.odd is not None:
            est += "; zeta_odd: eta of the handedness-weighted counts (*_odd)"
        lines = [
            f"astrograph {package_version()} {type(self).__name__}: {self._summary_line()}",
            f"bin edges {e} in {UNITS}; b01 ... b23: the 0-based bins of the sides "
            "between vertices 0-1, 0-2, 0-3, 1-2, 1-3, 2-3",
            f"estimator {est}" if self.randoms is not None else "no randoms: counts only",
            f"boxsize {self.boxsize}",
            "norms " + "  ".join(f"{n} {v:.17g}" for n, v in self.norms().items()),
        ]
        write_ascii(path, t, t.column_names, lines)

    def plot(self, kind: str = "tetrahedra", ax: Any = None, **kwargs: Any) -> Any:
        """Plots ``kind`` in {"tetrahedra", "counts"} (eta and its connected
        part on regular tetrahedra, with jackknife error bars when the counts
        carry regions); returns the axes."""
        return plotting.plot_quads(self, kind=kind, ax=ax, **kwargs)

    @property
    def total(self) -> float:
        """Sum of all counts (every type, every shape)."""
        return float(self.counts.sum())
