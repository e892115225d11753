"""Legendre multipoles of the 3-point function (large scales) and their
edge-corrected estimator (Slepian & Eisenstein 2015)."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, replace
from functools import lru_cache
from math import factorial
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import pyarrow as pa

from ...errors import InputError
from .. import plotting
from ..bins import Bins
from .norms import Norms
from .resampling import (
    DeleteOne,
    corrected,
    cross_weight,
    left_norms,
    refuse_analytic_randoms,
)
from .table import (
    UNITS,
    ResultTable,
    column,
    norms_json,
    norms_of,
    package_version,
    region_columns,
    region_tables,
    sums_array,
    sums_json,
    write,
    write_ascii,
)

NORMALISATIONS = ("legendre", "encore")
#: Names of the typed sums (by number of random vertices) in files.
_TYPES = ("N_DDD", "N_DDR", "N_DRR", "N_RRR")
#: File format of :meth:`TriangleMultipoles.save` (key in the Parquet metadata).
FORMAT = "astrograph.multipoles"
FORMAT_VERSION = 1


def wigner3j_zero(l1: int, l2: int, l3: int) -> float:
    """The Wigner 3j symbol (l1 l2 l3; 0 0 0), from its closed form."""
    j = l1 + l2 + l3
    if j % 2 or l3 > l1 + l2 or l3 < abs(l1 - l2):
        return 0.0
    g = j // 2
    root = factorial(j - 2 * l1) * factorial(j - 2 * l2) * factorial(j - 2 * l3) / factorial(j + 1)
    ratio = factorial(g) / (factorial(g - l1) * factorial(g - l2) * factorial(g - l3))
    return (-1) ** g * np.sqrt(root) * ratio


@lru_cache(maxsize=8)
def coupling_terms(lmax: int) -> np.ndarray:
    """(2k + 1) (l l' k; 0 0 0)^2 for l, l', k <= lmax, shape (l, l', k):
    the integral of P_l P_l' P_k over mu in [-1, 1] times (2k + 1) / 2."""
    n = lmax + 1
    t = np.zeros((n, n, n))
    for a in range(n):
        for b in range(n):
            for k in range(n):
                t[a, b, k] = (2 * k + 1) * wigner3j_zero(a, b, k) ** 2
    return t


def encore_factor(lmax: int) -> np.ndarray:
    """ENCORE's basis (-1)^l sqrt(2l + 1) / (4 pi) per l: its raw counts are
    this times N_l, and its zeta_l are the Legendre coefficients over it."""
    ell = np.arange(lmax + 1)
    return (-1.0) ** ell * np.sqrt(2 * ell + 1) / (4 * np.pi)


@dataclass
class TriangleMultipoles(ResultTable, DeleteOne):
    """Legendre multipoles of the weighted triangle counts by two sides.

    For l <= lmax and radial bins b1, b2 (both sides from the same vertex),

        N_l(b1, b2) = sum_i w_i sum_{j != k; r_ij in b1, r_ik in b2} w_j w_k P_l(cos theta_jik),

    summed over every vertex i of the field, without enumerating triangles
    (spherical-harmonic coefficients per vertex, O(N m)). ``field`` is this
    for the data minus the randoms scaled to the data's total weight (the
    estimator's D - R field; the data alone without randoms), ``randoms`` for
    the randoms alone (unscaled). Both are symmetric in (b1, b2); the j = k
    terms are not counted on the diagonal.

    Attributes
    ----------
    bins : Bins
    lmax : int
    field : ndarray, shape (lmax + 1, nbins, nbins)
    randoms : ndarray or None, same shape
    random_scale : float
        Minus the data weight over the random weight: the factor of the
        random weights in ``field`` (0 without randoms).
    data : Norms
    boxsize : float or None
    typed : ndarray or None, shape (4, lmax + 1, nbins, nbins)
        With regions: the sums by number of random vertices (DDD, DDR, DRR,
        RRR types); ``field`` is sum_t random_scale^t typed[t].
    jackknife : ndarray or None, shape (nregions, 4, lmax + 1, nbins, nbins)
        What deleting each region takes from ``typed`` (exact: every
        triplet with a vertex in it).
    region_sums : tuple or None
        Per-region weight sums of the data and of the randoms
        (``results.region_sums``), for the deleted realisations' norms.
    within : ndarray or None, shape (nregions, 4, lmax + 1, nbins, nbins)
        The part of ``typed`` from triplets with all three points in each
        region (for ``correction="mohammad21"``).
    """

    bins: Bins
    lmax: int
    field: np.ndarray
    randoms: np.ndarray | None
    random_scale: float
    data: Norms
    boxsize: float | None = None
    typed: np.ndarray | None = None
    jackknife: np.ndarray | None = None
    region_sums: tuple | None = None
    within: np.ndarray | None = None

    SAVE_FORMAT: ClassVar[str] = FORMAT
    SAVE_VERSION: ClassVar[int] = FORMAT_VERSION

    @classmethod
    def from_raw(
        cls,
        bins: Bins,
        lmax: int,
        raw: tuple,
        data: Norms,
        boxsize: float | None,
        region_sums: tuple | None = None,
    ) -> TriangleMultipoles:
        """From the core's flat arrays (field, randoms, random scale, typed
        sums, delete-one tables) and the data's norms."""
        field, randoms, scale, typed, jk = raw
        shape = (lmax + 1, bins.nbins, bins.nbins)
        r = np.asarray(randoms, dtype=np.float64)
        t = np.asarray(typed, dtype=np.float64)
        j = np.asarray(jk, dtype=np.float64)
        tables = j.reshape((2, -1, 4, *shape)) if j.size else None
        return cls(
            bins,
            lmax,
            np.asarray(field, dtype=np.float64).reshape(shape),
            r.reshape(shape) if r.size else None,
            float(scale),
            data,
            boxsize,
            t.reshape((4, *shape)) if t.size else None,
            None if tables is None else tables[0],
            region_sums if j.size else None,
            None if tables is None else tables[1],
        )

    def realisations(
        self,
        statistic: str | Callable[[Any], Any] = "zeta",
        *,
        method: str = "jackknife",
        correction: str | None = None,
    ) -> np.ndarray:
        """The statistic on each delete-one realisation, stacked (K, ...).

        ``statistic``: "zeta" (edge-corrected, Legendre normalisation) or a
        function of a :class:`TriangleMultipoles`. Each realisation is the
        exact count without one region (every triplet with a vertex in it
        removed), with the random scale and norms of the remaining points.
        ``correction="mohammad21"``: the triplets crossing the region's border
        removed with Mohammad & Percival's weight instead (as for the other
        counts; see "Error bars from regions" in the estimators page).
        """
        self._jackknife_only(method)
        if (
            self.jackknife is None
            or self.typed is None
            or self.region_sums is None
            or self.within is None
        ):
            raise InputError(
                "these multipoles were counted without regions: pass regions= to "
                "count_triangle_multipoles for error bars"
            )
        if isinstance(statistic, str):
            if statistic != "zeta":
                raise InputError(f"unknown statistic {statistic!r}: use 'zeta' or a function")
            fn: Callable[[Any], Any] = TriangleMultipoles.zeta
        else:
            fn = statistic
        refuse_analytic_randoms(self)
        alpha = cross_weight(self.nregions, correction)
        dsum, rsum, weighted = self.region_sums
        dall = dsum.sum(axis=0)
        rall = None if rsum is None else rsum.sum(axis=0)
        out = []
        for k in range(self.nregions):
            if alpha == 1.0:
                typed = self.typed - self.jackknife[k]
            else:
                typed = corrected(
                    self.typed, self.jackknife[k], self.within[k], alpha, 3,
                    (dall, dsum[k]),
                    None if rall is None else (rall, rsum[k]),
                    weighted,
                )  # fmt: skip
            data = left_norms(self.data, dsum[k])
            wr = rsum[:, 1].sum() - rsum[k, 1]
            scale = -data.s1 / wr
            field = sum(scale**t * typed[t] for t in range(4))
            part = replace(self, field=field, randoms=typed[3], random_scale=scale, data=data)
            out.append(np.asarray(fn(part)))
        return np.stack(out)

    @property
    def r0(self) -> np.ndarray:
        """R_0(b1, b2): the ell = 0 counts of the randoms scaled to the data's
        total weight (with randoms), or of a uniform field of the data's
        weights in the periodic box (without): shape (nbins, nbins)."""
        if self.randoms is not None:
            return self.randoms[0] * (-self.random_scale) ** 3
        if self.boxsize is None:
            raise InputError(
                "multipoles without randoms are normalised only in a periodic box: "
                "pass randoms (or boxsize)"
            )
        d = self.data
        shells = 4.0 * np.pi / 3.0 * np.diff(self.bins.edges**3)
        # sum over i and ordered j != k (both != i) of w_i w_j w_k, times the
        # chance that j and k fall in the two shells.
        triples = d.s1**3 - 3.0 * d.s1 * d.s2 + 2.0 * d.s3
        return triples * np.outer(shells, shells) / self.boxsize**6

    def f(self) -> np.ndarray:
        """f_l = R_l / R_0 (zero beyond l = 0 in a periodic box without
        randoms): the edge effects, shape (lmax + 1, nbins, nbins)."""
        if self.randoms is None:
            out = np.zeros_like(self.field)
            out[0] = 1.0
            return out
        with np.errstate(invalid="ignore", divide="ignore"):
            return self.randoms / self.randoms[0]

    def zeta(self, normalisation: str = "legendre", edge_correction: bool = True) -> np.ndarray:
        """The 3PCF multipoles zeta_l(r1, r2), shape (lmax + 1, nbins, nbins).

        With randoms, the connected 3PCF of the D - R field, edge-corrected as
        Slepian & Eisenstein (2015, section 4): per (b1, b2), solve
        N_l / R_0 = sum_l' [sum_k (2k + 1) (l l' k; 0 0 0)^2 f_k] zeta_l' for
        l, l', k <= lmax (multipoles near lmax are the least accurate, as in
        ENCORE). ``edge_correction=False`` gives zeta_l = (2l + 1) N_l / R_0.
        Without randoms (periodic box), the full DDD/RRR - 1 (2-point terms
        included) over the analytic R_0.

        ``normalisation``: "legendre" gives zeta(r1, r2, mu) = sum_l zeta_l
        P_l(mu); "encore" gives ENCORE's coefficients of the basis
        (-1)^l sqrt(2l + 1) / (4 pi) P_l, to compare with its output.
        Bin pairs without random triangles are NaN.
        """
        if normalisation not in NORMALISATIONS:
            raise InputError(
                f"normalisation must be one of {NORMALISATIONS}, got {normalisation!r}"
            )
        r0 = self.r0
        with np.errstate(invalid="ignore", divide="ignore"):
            n = self.field / np.where(r0 > 0, r0, np.nan)
        ell = np.arange(self.lmax + 1)[:, None, None]
        if self.randoms is None:
            z = (2 * ell + 1) * n
            z[0] -= 1.0
        elif not edge_correction:
            z = (2 * ell + 1) * n
        else:
            z = self._edge_corrected(n)
        if normalisation == "encore":
            z = z / encore_factor(self.lmax)[:, None, None]
        return z

    def _edge_corrected(self, n: np.ndarray) -> np.ndarray:
        terms = coupling_terms(self.lmax)
        f = self.f()
        nb = self.bins.nbins
        z = np.full_like(n, np.nan)
        for b1 in range(nb):
            for b2 in range(nb):
                rhs, fk = n[:, b1, b2], f[:, b1, b2]
                if not np.all(np.isfinite(rhs)) or not np.all(np.isfinite(fk)):
                    continue
                m = terms @ fk
                z[:, b1, b2] = np.linalg.solve(m, rhs)
        return z

    def counts(self, normalisation: str = "legendre") -> tuple[np.ndarray, np.ndarray | None]:
        """(field, randoms) multipole counts; "encore" multiplies them by
        ENCORE's (-1)^l sqrt(2l + 1) / (4 pi), the layout of its raw output
        (whose randoms are scaled to the data's total weight)."""
        if normalisation not in NORMALISATIONS:
            raise InputError(
                f"normalisation must be one of {NORMALISATIONS}, got {normalisation!r}"
            )
        if normalisation == "legendre":
            return self.field, self.randoms
        k = encore_factor(self.lmax)[:, None, None]
        r = None if self.randoms is None else k * self.randoms * (-self.random_scale) ** 3
        return k * self.field, r

    # -- outputs ------------------------------------------------------------
    def _columns(self, rows: tuple, save: bool) -> dict[str, Any]:
        e = self.bins.edges
        ell, b1, b2 = rows
        cols: dict[str, Any] = {
            "ell": ell,
            "r1_lo": e[b1],
            "r1_hi": e[b1 + 1],
            "r2_lo": e[b2],
            "r2_hi": e[b2 + 1],
            "N_field": self.field[rows],
        }
        if self.randoms is not None:
            cols["N_randoms"] = self.randoms[rows]
        elif not save:  # the text layout stays that of a result with randoms
            cols["N_randoms"] = np.full(len(ell), np.nan)
        if save and self.typed is not None:
            for t, name in enumerate(_TYPES):
                cols[name] = self.typed[t][rows]
        try:
            cols["zeta"] = self.zeta()[rows]
        except InputError:  # no randoms and no box
            pass
        return cols

    def _header(self, complete: bool) -> dict[str, Any]:
        return {
            **self._identity(complete),
            "lmax": self.lmax,
            "edges": self.bins.edges.tolist(),
            "units": UNITS,
            "estimator": "edge-corrected" if self.randoms is not None else "natural",
            "edge_correction": True,
            "normalisation": "legendre",
            "statistic": "zeta",
            "random_scale": self.random_scale,
            "boxsize": self.boxsize,
            "data": norms_json(self.data),
            "nregions": self.nregions,
        }

    def _upper(self) -> tuple:
        ell, b1, b2 = np.meshgrid(
            np.arange(self.lmax + 1), np.arange(self.bins.nbins), np.arange(self.bins.nbins),
            indexing="ij",
        )  # fmt: skip
        keep = b1 <= b2
        return ell[keep], b1[keep], b2[keep]

    def to_arrow(self) -> Any:
        """One row per (l, b1, b2) with b1 <= b2: ell, the r1 and r2 bin edges,
        N_field (N_l of the D - R field), N_randoms (N_l of the randoms,
        unscaled; NaN without) and zeta (zeta_l, Legendre normalisation); the
        bins, units, random scale, norms and package version in the schema
        metadata (:meth:`save` keeps everything)."""
        header = self._header(complete=False)
        return pa.table(self._columns(self._upper(), False)).replace_schema_metadata(
            {FORMAT: json.dumps(header, allow_nan=True)}
        )

    def save(self, path: str | Path) -> None:
        """Writes everything needed to recompute zeta and its error bars to
        one Parquet file: the rows of :meth:`to_arrow` (every (l, b1, b2) if
        the counts are not symmetric in b1, b2) with N_field, N_randoms, the
        typed sums (N_DDD ... N_RRR) and the delete-one tables
        (``"jackknife:N_DDD"``, ``"within:N_DDD"``, ... one value per region);
        in the metadata lmax, the bins, box, random scale, the data's weight
        sums (in total and per region). :meth:`load` (or
        :func:`~astrograph.clustering.results.load_result`) reads it back."""
        arrays = [a for a in (self.field, self.randoms, self.typed, self.jackknife, self.within)
                  if a is not None]  # fmt: skip
        symmetric = all(np.array_equal(a, np.swapaxes(a, -1, -2)) for a in arrays)
        rows = self._upper() if symmetric else tuple(np.indices(self.field.shape).reshape(3, -1))
        cols = self._columns(rows, True)
        header = self._header(complete=True)
        header["rows"] = "upper" if symmetric else "all"
        header["randoms"] = self.randoms is not None
        header["typed"] = self.typed is not None
        if self.jackknife is not None:
            if self.within is None or self.region_sums is None:
                raise InputError("these multipoles' delete-one tables are incomplete")
            tables = {"jackknife": self.jackknife, "within": self.within}
            cols.update(region_columns(tables, list(_TYPES), rows))
            dsum, rsum, weighted = self.region_sums
            header["region_sums"] = {"data": sums_json(dsum), "randoms": sums_json(rsum)}
            header["weighted"] = [bool(w) for w in weighted]
        write(pa.table(cols), header, path)

    @classmethod
    def _from_saved(cls, table: Any, h: dict[str, Any], path: Any) -> TriangleMultipoles:
        bins = Bins(h["edges"])
        lmax = int(h["lmax"])
        nb = bins.nbins
        shape = (lmax + 1, nb, nb)
        ell = column(table, "ell", path).astype(np.intp)
        b1 = np.searchsorted(bins.edges, column(table, "r1_lo", path))
        b2 = np.searchsorted(bins.edges, column(table, "r2_lo", path))
        rows = (ell, b1, b2)
        mirror = h.get("rows", "upper") == "upper"

        def full(values: np.ndarray) -> np.ndarray:
            out = np.zeros(values.shape[:-1] + shape)
            at: tuple = (Ellipsis, *rows)
            out[at] = values
            if mirror:
                out[Ellipsis, rows[0], rows[2], rows[1]] = values
            return out

        field = full(column(table, "N_field", path))
        randoms = full(column(table, "N_randoms", path)) if h["randoms"] else None
        typed = None
        if h["typed"]:
            typed = full(np.array([column(table, n, path) for n in _TYPES]))
        k = int(h.get("nregions", 0))
        jk = within = region_sums = None
        if k:
            jk, within = (
                full(region_tables(table, kind, list(_TYPES), k, (len(b1),), (slice(None),)))
                for kind in ("jackknife", "within")
            )
            sums = h["region_sums"]
            region_sums = (
                sums_array(sums["data"]),
                sums_array(sums["randoms"]),
                (bool(h["weighted"][0]), bool(h["weighted"][1])),
            )
        return cls(
            bins,
            lmax,
            field,
            randoms,
            float(h["random_scale"]),
            norms_of(h["data"]),  # type: ignore[arg-type]
            h["boxsize"],
            typed,
            jk,
            region_sums,
            within,
        )

    def save_ascii(self, path: str | Path) -> None:
        """Columns ell, r1_lo, r1_hi, r2_lo, r2_hi, N_field, N_randoms, zeta
        (as :meth:`to_arrow`), under a header giving the bins and their unit,
        the estimator and normalisation, the random scale, the data's weight
        sums, the box and the package version."""
        t = self.to_arrow()
        e = " ".join(f"{x:.12g}" for x in self.bins.edges)
        d = self.data
        if self.randoms is not None:
            est = (
                "edge-corrected (Slepian & Eisenstein 2015): N_l / R_0 = sum_l' "
                "[sum_k (2k + 1) (l l' k; 0 0 0)^2 f_k] zeta_l', f_k = N_k[R] / N_0[R]"
            )
        else:
            est = "natural: zeta_l = (2l + 1) N_l / R_0 - delta_l0, R_0 of the periodic box"
        regions = f", {self.nregions} regions" if self.nregions else ""
        lines = [
            f"astrograph {package_version()} {type(self).__name__}: l <= {self.lmax}, "
            f"{self.bins.nbins} radial bins{regions}",
            f"radial bin edges {e} in {UNITS}; one row per (ell, b1 <= b2)",
            "N_field = N_l[D - alpha R] (randoms weighted by random_scale = -W_D / W_R = "
            f"{self.random_scale:.17g}), N_randoms = N_l[R] (unscaled), R_0 = alpha^3 N_0[R]",
            f"estimator {est}; normalisation legendre: zeta(r1, r2, mu) = sum_l zeta_l P_l(mu)",
            f"boxsize {self.boxsize}",
            f"norms data N {d.n} S1 {d.s1:.17g} S2 {d.s2:.17g} S3 {d.s3:.17g} S4 {d.s4:.17g}",
        ]
        write_ascii(path, t, t.column_names, lines, fmt="%.17g")

    def plot(self, kind: str = "r1r2", ell: int = 0, ax: Any = None, **kwargs: Any) -> Any:
        """``kind`` "r1r2": heat map of zeta_ell(r1, r2); "slices": r1 r2
        zeta_l(r1, r2) against r2 at fixed r1 (bin ``b1``) for l = 0 and 1,
        with jackknife error bars when counted with regions."""
        return plotting.plot_multipoles(self, kind=kind, ell=ell, ax=ax, **kwargs)
