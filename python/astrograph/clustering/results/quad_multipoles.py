"""Multipoles of the 4-point function in the isotropic basis (Cahn & Slepian
2020): the large-scale 4PCF, parity-even and parity-odd."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import pyarrow as pa

from ...errors import InputError
from .. import plotting
from ..bins import Bins
from .coupling import P000, coupling_tensor
from .disconnected import disconnected_zeta
from .norms import Norms
from .resampling import DeleteOne, left_norms
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

PARITIES = ("both", "even", "odd")
NORMALISATIONS = ("isotropic", "encore")
#: The count tables of each delete-one realisation, as saved.
_COUNTS = ("N_field", "N_randoms")
#: File format of :meth:`QuadMultipoles.save` (key in the Parquet metadata).
FORMAT = "astrograph.quad_multipoles"
FORMAT_VERSION = 1


@dataclass
class QuadMultipoles(ResultTable, DeleteOne):
    """Multipoles of the weighted 4-point counts in the isotropic basis.

    For radial bins b1 < b2 < b3 and (l1, l2, l3) with li <= lmax and the
    triangle rule,

        N_l1l2l3(b1, b2, b3) = sum_i w_i sum_{j, k, l} w_j w_k w_l
                               P_l1l2l3(r_ij, r_ik, r_il),

    with r_ij in b1, r_ik in b2, r_il in b3 (so j, k, l are distinct) and

        P_l1l2l3(u1, u2, u3) = (-1)^(l1+l2+l3) sum_m (l1 l2 l3; m1 m2 m3)
                               Y_l1m1(u1) Y_l2m2(u2) Y_l3m3(u3)

    (Cahn & Slepian 2020; Y_lm with the Condon-Shortley phase). P is real for
    even l1 + l2 + l3 (parity-even) and imaginary for odd (parity-odd): for
    odd triples the tables hold the imaginary part. A mirror image flips the
    sign of the odd ones. No quad is enumerated: per point, O(m) harmonic
    coefficients per bin are coupled by Wigner 3j symbols.

    Attributes
    ----------
    bins : Bins
    lmax : int
    parity : str
        "both", "even" or "odd": which triples were counted.
    ells : ndarray, shape (n_ells, 3)
        (l1, l2, l3) of each row, lexicographic.
    triplets : ndarray, shape (n_triplets, 3)
        Bin indices (b1, b2, b3), b1 < b2 < b3, of each column, lexicographic.
    field : ndarray, shape (n_ells, n_triplets)
        Of the data minus the randoms scaled to the data's total weight (the
        data alone without randoms).
    randoms : ndarray or None, same shape
        Of the randoms alone (unscaled).
    random_scale : float
        Minus the data weight over the random weight (0 without randoms).
    data : Norms
    boxsize : float or None
    jackknife : ndarray or None, shape (nregions, 2, n_ells, n_triplets)
        With regions: per region, ``field`` and ``randoms`` with it deleted
        (exact: every quad with a vertex in it removed; the field at the
        random scale of the points left).
    region_scales : ndarray or None, shape (nregions,)
        The random scale of each deleted realisation.
    region_sums : tuple or None
        Per-region weight sums of the data and of the randoms
        (``results.region_sums``), for the deleted realisations' norms.
    disconnected : ndarray or None, shape (n_ells, n_triplets)
        With ``count_quad_multipoles(..., disconnected=True)``: the
        disconnected (Gaussian) zeta_L estimated from the same pass
        (``results.disconnected``); ``zeta(connected=True)`` subtracts it.
    """

    bins: Bins
    lmax: int
    parity: str
    ells: np.ndarray
    triplets: np.ndarray
    field: np.ndarray
    randoms: np.ndarray | None
    random_scale: float
    data: Norms
    boxsize: float | None = None
    jackknife: np.ndarray | None = None
    region_scales: np.ndarray | None = None
    region_sums: tuple | None = None
    disconnected: np.ndarray | None = None

    SAVE_FORMAT: ClassVar[str] = FORMAT
    SAVE_VERSION: ClassVar[int] = FORMAT_VERSION

    @classmethod
    def from_raw(
        cls,
        bins: Bins,
        lmax: int,
        parity: str,
        raw: tuple,
        data: Norms,
        boxsize: float | None,
        region_sums: tuple | None = None,
    ) -> QuadMultipoles:
        """From the core's arrays (field, randoms, random scale, triples,
        triplets, delete-one counts, their random scales) and the data's
        norms."""
        field, randoms, scale, ells, triplets, jk, scales, sums = raw
        ells = np.asarray(ells, dtype=np.int64).reshape(-1, 3)
        triplets = np.asarray(triplets, dtype=np.int64).reshape(-1, 3)
        shape = (len(ells), len(triplets))
        r = np.asarray(randoms, dtype=np.float64)
        j = np.asarray(jk, dtype=np.float64)
        disc = None
        if len(sums):
            disc = disconnected_zeta(sums, lmax, bins.nbins, float(scale), ells, triplets)
        return cls(
            bins,
            lmax,
            parity,
            ells,
            triplets,
            np.asarray(field, dtype=np.float64).reshape(shape),
            r.reshape(shape) if r.size else None,
            float(scale),
            data,
            boxsize,
            j.reshape((-1, 2, *shape)) if j.size else None,
            np.asarray(scales, dtype=np.float64) if j.size else None,
            region_sums if j.size else None,
            disc,
        )

    def realisations(
        self,
        statistic: str | Callable[[Any], Any] = "zeta",
        *,
        method: str = "jackknife",
        correction: str | None = None,
    ) -> np.ndarray:
        """The statistic on each delete-one realisation, stacked (K, ...).

        ``statistic``: "zeta", "odd_vector" or a function of a
        :class:`QuadMultipoles`. Each realisation is the exact count without
        one region (every quad with a vertex in it removed), with the random
        scale and norms of the points left. (No ``correction``: the quads
        crossing a region's border are not counted apart.)
        """
        if correction is not None:
            raise InputError(
                f"correction={correction!r} is not available for the 4-point multipoles "
                "(their quads are not split by border): use correction=None"
            )
        self._jackknife_only(method)
        if self.jackknife is None or self.region_scales is None or self.region_sums is None:
            raise InputError(
                "these multipoles were counted without regions: pass regions= to "
                "count_quad_multipoles for error bars, or give mocks"
            )
        if isinstance(statistic, str):
            if statistic not in ("zeta", "odd_vector"):
                raise InputError(
                    f"unknown statistic {statistic!r}: use 'zeta', 'odd_vector' or a function"
                )
            fn: Callable[[Any], Any] = getattr(QuadMultipoles, statistic)
        else:
            fn = statistic
        out = []
        for k in range(self.nregions):
            part = replace(
                self,
                field=self.jackknife[k, 0],
                randoms=None if self.randoms is None else self.jackknife[k, 1],
                random_scale=float(self.region_scales[k]),
                data=left_norms(self.data, self.region_sums[0][k]),
                jackknife=None,
                region_scales=None,
                region_sums=None,
                disconnected=None,
            )
            out.append(np.asarray(fn(part), dtype=np.float64))
        return np.stack(out)

    @property
    def odd(self) -> np.ndarray:
        """Per row: is l1 + l2 + l3 odd (a parity-odd multipole)?"""
        return self.ells.sum(axis=1) % 2 == 1

    def index(self, l1: int, l2: int, l3: int) -> int:
        """The row of (l1, l2, l3)."""
        hit = np.flatnonzero((self.ells == (l1, l2, l3)).all(axis=1))
        if not hit.size:
            raise InputError(
                f"({l1}, {l2}, {l3}) is not counted here: lmax {self.lmax}, "
                f"parity {self.parity!r}, and l3 must lie in [|l1 - l2|, l1 + l2]"
            )
        return int(hit[0])

    @property
    def r000(self) -> np.ndarray:
        """R_000 per triplet, shape (n_triplets,): the (0, 0, 0) counts of the
        randoms scaled to the data's total weight (with randoms), or of a
        uniform field of the data's weights in the periodic box (without)."""
        if self.randoms is not None:
            if not (self.ells == 0).all(axis=1).any():
                raise InputError(
                    "R_000 needs the (0, 0, 0) multipole: count with parity 'even' or 'both'"
                )
            return self.randoms[self.index(0, 0, 0)] * self.random_scale**4
        if self.boxsize is None:
            raise InputError(
                "4-point multipoles without randoms are normalised only in a periodic box: "
                "pass randoms (or boxsize)"
            )
        shells = 4.0 * np.pi / 3.0 * np.diff(self.bins.edges**3)
        # sum over i and ordered distinct j, k, l of w_i w_j w_k w_l, times
        # the chance that j, k and l fall in the three shells.
        quads = 24.0 * self.data.quadruples
        return P000 * quads * shells[self.triplets].prod(axis=1) / self.boxsize**9

    def zeta(
        self,
        normalisation: str = "isotropic",
        edge_correction: bool = True,
        connected: bool = False,
    ) -> np.ndarray:
        """The 4PCF coefficients zeta_L(r1, r2, r3), shape (n_ells, n_triplets):
        zeta = sum over even triples of zeta_L P_L + sum over odd triples of
        zeta_L Im P_L (real coefficients for both parities).

        With randoms, edge-corrected: per triplet, solve

            N_a / R_000 = sum_c [sum_b T(a, b, c) f_b] zeta_c,   f_b = R_b / R_000,

        with T = s G, G(a, b, c) the integral of three basis functions
        (a 9j symbol times three Gaunt factors, ``results.coupling``) and s = -1
        where two of a, b, c are odd: the coupling of the window R's
        multipoles, both parities (so it needs ``parity="both"``). As in
        ENCORE, the window is cut at the counted lmax, so the multipoles
        near lmax are the least accurate. ``edge_correction=False`` (or a
        periodic box without randoms) gives (4 pi)^(3/2) N_L / R_000, exact
        for a uniform window.

        ``connected=True`` subtracts the disconnected (Gaussian) part
        estimated from the same pass (count with ``disconnected=True``;
        parity-even triples only, as in Philcox et al. 2021).

        ``normalisation="encore"`` gives ENCORE's signs: its raw odd counts
        are minus these (it stores -i zeta of the coefficient of P_L). Its
        own edge correction couples the window's odd multipoles with the
        other sign (docs/estimators.md), so where the randoms have odd
        multipoles its edge-corrected odd values differ from these.
        """
        if normalisation not in NORMALISATIONS:
            raise InputError(
                f"normalisation must be one of {NORMALISATIONS}, got {normalisation!r}"
            )
        r000 = self.r000
        with np.errstate(invalid="ignore", divide="ignore"):
            ratio = self.field / r000
        if edge_correction and self.randoms is not None:
            if self.parity != "both":
                raise InputError(
                    "the edge correction couples both parities: count with parity='both', "
                    "or use zeta(edge_correction=False)"
                )
            ells = tuple(tuple(int(x) for x in e) for e in self.ells)
            with np.errstate(invalid="ignore", divide="ignore"):
                f = self.randoms / self.randoms[self.index(0, 0, 0)]
            m = np.einsum("abc,bt->tac", coupling_tensor(ells), f)
            ok = np.isfinite(m).all(axis=(1, 2))
            out = np.full_like(ratio, np.nan)
            if ok.any():
                out[:, ok] = np.linalg.solve(m[ok], ratio.T[ok][..., None])[..., 0].T
        else:
            out = ratio / P000
        if self.randoms is None and (self.ells == 0).all(axis=1).any():
            # Data alone: DDDD / RRRR - 1, whose 1 is (4 pi)^(3/2) P_000.
            out[self.index(0, 0, 0)] -= 1.0 / P000
        if connected:
            if self.disconnected is None:
                raise InputError("no disconnected part was estimated: count with disconnected=True")
            out = out - self.disconnected
        return np.where(self.odd[:, None], -out, out) if normalisation == "encore" else out

    def odd_vector(self, edge_correction: bool = True) -> np.ndarray:
        """The parity-odd coefficients zeta_L, L odd, flattened over (odd
        triple, triplet): the data vector of :meth:`chi2_odd`."""
        if not self.odd.any():
            raise InputError("no parity-odd multipole was counted: count with parity 'both'")
        ec = edge_correction and self.parity == "both" and self.randoms is not None
        if self.parity == "odd":
            raise InputError("zeta needs R_000 from the even multipoles: count with parity 'both'")
        return self.zeta(edge_correction=ec)[self.odd].ravel()

    def chi2_odd(
        self,
        mocks: Any = None,
        modes: int | None = None,
        edge_correction: bool = True,
    ) -> tuple[float, int, float]:
        """chi^2 of the parity-odd 4PCF against zero, its degrees of freedom
        and p-value, with the covariance of ``mocks`` or of the jackknife.

        ``mocks``: parity-symmetric realisations of the same measurement
        (``QuadMultipoles`` with the same bins and triples, or their
        :meth:`odd_vector` rows). Without mocks (counted with regions), the
        K delete-one realisations stand in for them as pseudo-samples
        xbar + (K - 1) / sqrt(K) (x_k - xbar), whose sample covariance is the
        jackknife covariance; the Hartlap factor and the p-value then treat
        the K regions as K mocks, an approximation (the jackknife covariance
        is not Wishart-distributed) that the docs discuss. The covariance has
        far more entries than
        mocks can fix, so, as in the BOSS parity analyses (Philcox 2022; Hou
        et al. 2023), the data vector is compressed onto the ``modes``
        leading eigenvectors of the covariance (default: the whole vector
        when half the mocks number at least twice its length, else a quarter
        of the mocks). The leading eigenvectors carry most of the noise: a
        signal along quieter directions is seen only with more modes, so
        use as many as the mocks allow. The eigenvectors come from the
        even-numbered mocks and the covariance of the compressed vector from
        the odd-numbered ones: leading eigenvalues of a noisy covariance are
        biased high, and taken from the same mocks they would make chi^2 too
        small. chi^2 = y' C^-1 y on the compressed vector y, times Hartlap's
        factor (n - modes - 2) / (n - 1) for the n odd-numbered mocks (so its
        mean under no parity violation is ``modes``); the p-value is that of
        y' C^-1 y under its exact law for Gaussian data and a covariance
        from n mocks, Hotelling's T^2 = (n - 1) k / (n - k) F(k, n - k),
        whose tails are wider than chi^2's when k is not small next to n
        (checked on mocks in the tests).
        """
        from scipy.stats import f  # lazy: scipy only for this p-value

        x = self.odd_vector(edge_correction)
        if mocks is None:
            reals = self.realisations(lambda q: q.odd_vector(edge_correction))
            k = len(reals)
            mean = reals.mean(axis=0)
            sims = mean + (k - 1) / np.sqrt(k) * (reals - mean)
        else:
            rows = [
                m.odd_vector(edge_correction) if isinstance(m, QuadMultipoles) else np.asarray(m)
                for m in mocks
            ]
            sims = np.asarray(rows, dtype=np.float64)
        if sims.ndim != 2 or sims.shape[1] != len(x):
            raise InputError(
                f"the mocks' parity-odd vectors must have {len(x)} entries like this "
                f"measurement's (same bins, lmax and triples), got shape {sims.shape}"
            )
        pick, fit = sims[0::2], sims[1::2]
        k = min(len(x), max(len(fit) // 2, len(sims) // 4)) if modes is None else modes
        if not 1 <= k <= len(x) or len(fit) < k + 3 or len(pick) < 2:
            raise InputError(
                f"compressing onto {k} eigenvectors needs 1 <= modes <= {len(x)} and at "
                f"least 2 (modes + 3) mocks or regions; got {len(sims)}"
            )
        lam, vec = np.linalg.eigh(np.atleast_2d(np.cov(pick, rowvar=False)))
        basis = vec[:, np.argsort(lam)[::-1][:k]]
        cov = np.atleast_2d(np.cov(fit @ basis, rowvar=False))
        y = basis.T @ x
        n = len(fit)
        t2 = float(y @ np.linalg.solve(cov, y))
        p = float(f.sf(t2 * (n - k) / ((n - 1) * k), k, n - k))
        return (n - k - 2) / (n - 1) * t2, k, p

    def _zeta_or_nan(self) -> np.ndarray:
        """zeta() where it can be given (edge-corrected with both parities),
        else without edge correction, else NaN (odd triples alone have no
        R_000)."""
        try:
            return self.zeta(edge_correction=self.parity == "both")
        except InputError:
            return np.full(self.field.shape, np.nan)

    def _columns(self) -> dict[str, Any]:
        ell = np.repeat(self.ells, len(self.triplets), axis=0)
        trip = np.tile(self.triplets, (len(self.ells), 1))
        e = self.bins.edges
        cols: dict[str, Any] = {"l1": ell[:, 0], "l2": ell[:, 1], "l3": ell[:, 2]}
        cols["odd"] = ell.sum(axis=1) % 2 == 1
        for i in range(3):
            cols[f"r{i + 1}_lo"] = e[trip[:, i]]
            cols[f"r{i + 1}_hi"] = e[trip[:, i] + 1]
        cols["N_field"] = self.field.ravel()
        nan = np.full(self.field.size, np.nan)
        cols["N_randoms"] = nan if self.randoms is None else self.randoms.ravel()
        cols["zeta"] = self._zeta_or_nan().ravel()
        if self.disconnected is not None:
            cols["zeta_disconnected"] = self.disconnected.ravel()
        return cols

    def _header(self, complete: bool) -> dict[str, Any]:
        return {
            **self._identity(complete),
            "units": UNITS,
            "edges": self.bins.edges.tolist(),
            "lmax": self.lmax,
            "parity": self.parity,
            "random_scale": self.random_scale,
            "randoms": self.randoms is not None,
            "boxsize": self.boxsize,
            "data": norms_json(self.data),
            "nregions": self.nregions,
        }

    def to_arrow(self) -> Any:
        """One row per ((l1, l2, l3), (b1, b2, b3)): l1, l2, l3, odd, the
        edges of the three radial bins, N_field, N_randoms (unscaled; NaN
        without) and zeta (edge-corrected with both parities, else without
        edge correction; NaN for odd triples alone); the bins, units, parity,
        random scale, norms and package version in the schema metadata."""
        header = self._header(complete=False)
        return pa.table(self._columns()).replace_schema_metadata(
            {FORMAT: json.dumps(header, allow_nan=True)}
        )

    def save(self, path: str | Path) -> None:
        """Writes the rows of :meth:`to_arrow` and everything needed to
        recompute zeta and its error bars to one Parquet file (with regions,
        the delete-one counts as ``"jackknife:N_field"`` and
        ``"jackknife:N_randoms"``, one value per region, and the regions'
        weight sums and random scales in the metadata); :meth:`load` (or
        :func:`~astrograph.clustering.results.load_result`) reads it back."""
        cols = self._columns()
        header = self._header(complete=True)
        if self.jackknife is not None:
            if self.region_sums is None or self.region_scales is None:
                raise InputError("these multipoles' delete-one counts are incomplete")
            rows = tuple(np.indices(self.field.shape).reshape(2, -1))
            cols.update(region_columns({"jackknife": self.jackknife}, list(_COUNTS), rows))
            dsum, rsum, weighted = self.region_sums
            header["region_sums"] = {"data": sums_json(dsum), "randoms": sums_json(rsum)}
            header["weighted"] = [bool(w) for w in weighted]
            header["region_scales"] = self.region_scales.tolist()
        write(pa.table(cols), header, path)

    @classmethod
    def _from_saved(cls, table: Any, h: dict[str, Any], path: Any) -> QuadMultipoles:
        bins = Bins(h["edges"])
        ells = np.column_stack([column(table, f"l{i}", path) for i in (1, 2, 3)]).astype(np.int64)
        trip = np.column_stack(
            [np.searchsorted(bins.edges, column(table, f"r{i}_lo", path)) for i in (1, 2, 3)]
        )
        rows = np.unique(ells, axis=0, return_index=True)[1]
        ell_rows = ells[np.sort(rows)]
        ntrip = len(trip) // len(ell_rows)
        shape = (len(ell_rows), ntrip)
        field = column(table, "N_field", path).reshape(shape)
        randoms = column(table, "N_randoms", path).reshape(shape) if h["randoms"] else None
        disc = None
        if "zeta_disconnected" in table.column_names:
            disc = np.asarray(column(table, "zeta_disconnected", path), dtype=np.float64)
            disc = disc.reshape(shape)
        k = int(h.get("nregions", 0))
        jk = scales = sums = None
        if k:
            at = tuple(np.indices(shape).reshape(2, -1))
            jk = region_tables(table, "jackknife", list(_COUNTS), k, shape, at)
            scales = np.asarray(h["region_scales"], dtype=np.float64)
            rs = h["region_sums"]
            sums = (sums_array(rs["data"]), sums_array(rs["randoms"]), tuple(h["weighted"]))
        return cls(
            bins,
            int(h["lmax"]),
            str(h["parity"]),
            ell_rows,
            trip[:ntrip].astype(np.int64),
            np.asarray(field, dtype=np.float64),
            None if randoms is None else np.asarray(randoms, dtype=np.float64),
            float(h["random_scale"]),
            norms_of(h["data"]),  # type: ignore[arg-type]
            h["boxsize"],
            jk,
            scales,
            sums,
            disc,
        )

    def save_ascii(self, path: str | Path) -> None:
        """The columns of :meth:`to_arrow` under a header giving the bins and
        their unit, the basis and estimator, the random scale, the data's
        weight sums, the box and the package version."""
        t = self.to_arrow()
        e = " ".join(f"{x:.12g}" for x in self.bins.edges)
        d = self.data
        est = (
            "edge-corrected: N_a / R_000 = sum_c [sum_b s G(a, b, c) f_b] zeta_c, "
            "f_b = N_b[R] / N_000[R] (docs/fourpcf.md)"
            if self.randoms is not None and self.parity == "both"
            else "without edge correction: zeta_L = (4 pi)^(3/2) N_L / R_000"
        )
        lines = [
            f"astrograph {package_version()} {type(self).__name__}: l <= {self.lmax}, "
            f"parity {self.parity}, {self.bins.nbins} radial bins",
            f"radial bin edges {e} in {UNITS}; one row per ((l1, l2, l3), (b1 < b2 < b3))",
            "basis P_l1l2l3 of Cahn & Slepian (2020); odd l1 + l2 + l3: imaginary parts",
            "N_field = N_L[D - alpha R] (randoms weighted by random_scale = -W_D / W_R = "
            f"{self.random_scale:.17g}), N_randoms = N_L[R] (unscaled), R_000 = alpha^4 N_000[R]",
            f"zeta {est}",
            f"boxsize {self.boxsize}",
            f"norms data N {d.n} S1 {d.s1:.17g} S2 {d.s2:.17g} S3 {d.s3:.17g} S4 {d.s4:.17g}",
        ]
        write_ascii(path, t, t.column_names, lines, fmt="%.17g")

    def plot(self, ells: Any = None, ax: Any = None, **kwargs: Any) -> Any:
        """r1 r2 r3 zeta_L over the bin triplets for the triples ``ells``
        (default (0, 0, 0) and (1, 1, 1)); parity-odd ones dashed."""
        return plotting.plot_quad_multipoles(self, ells=ells, ax=ax, **kwargs)
