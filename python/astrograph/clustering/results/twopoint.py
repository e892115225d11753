"""The two-point result family: counts of one tracer (DD, DR, RR) or two
(D1D2, D1R2, R1D2, R1R2, pycorr's names), their normalisations, estimators
and error bars, whatever the binning.

A result holds its counts by name, the weight sums of every catalogue (in
total and per region) from which each count's normalisation follows, and
the resampling tables. :class:`~astrograph.clustering.results.PairCounts`
((s, mu)), :class:`~astrograph.clustering.results.ProjectedCounts` ((rp, pi))
and :class:`~astrograph.clustering.results.AngularCounts` (theta) add their
binning's statistics.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import pyarrow as pa

from ...errors import InputError
from ..bins import Bins
from ..weights import PipNorm, WeightSums, pairs_norm, pip_pairs_norm
from .norms import Norms
from .resampling import Resampled, Resampling, cross_weight, refuse_analytic_randoms
from .table import ResultTable, column, list_column, list_values, package_version, write

#: Count names of an auto-correlation and of a cross-correlation, in table order.
AUTO = ("DD", "DR", "RR")
CROSS = ("D1D2", "D1R2", "R1D2", "R1R2")
#: Estimators (pycorr's names in brackets): Landy-Szalay ("landyszalay"),
#: natural, Davis-Peebles ("davispeebles") and Hamilton.
ESTIMATORS = ("landy-szalay", "natural", "davis-peebles", "hamilton")
_ALIASES = {
    "ls": "landy-szalay",
    "landyszalay": "landy-szalay",
    "landy_szalay": "landy-szalay",
    "dp": "davis-peebles",
    "davispeebles": "davis-peebles",
    "davis_peebles": "davis-peebles",
}

#: File format of :meth:`TwoPointCounts.save` (key in the Parquet metadata).
FORMAT = "astrograph.twopoint"
FORMAT_VERSION = 1


def estimator_name(estimator: str) -> str:
    """The canonical name of an estimator (aliases accepted)."""
    e = str(estimator).lower().replace(" ", "-")
    e = _ALIASES.get(e, e)
    if e not in ESTIMATORS:
        raise InputError(f"unknown estimator {estimator!r}: use one of {ESTIMATORS}")
    return e


def _split_names(roles: list[str], prefix: str) -> list[str]:
    return sorted(
        (r for r in roles if r.startswith(prefix + ".")), key=lambda r: int(r.split(".")[1])
    )


def _regions(s: WeightSums) -> np.ndarray:
    """The per-region sums of a catalogue of a result with regions."""
    if s.regions is None:
        raise InputError("this result's weight sums have no per-region sums")
    return s.regions


@dataclass
class TwoPointCounts(ResultTable, Resampled):
    """Weighted pair counts of one or two tracers in one binning.

    Attributes
    ----------
    bins : Bins
        The first binning dimension (s, rp or theta) and the second one's
        number of bins (``nmu``).
    counts : dict of str to ndarray
        The counts by name: "DD", "DR", "RR" (one tracer) or "D1D2", "D1R2",
        "R1D2", "R1R2" (two); each of shape (nbins, nmu). Counts the
        catalogues cannot make (no randoms) are absent.
    sums : dict of str to WeightSums
        Weight sums of each catalogue: "D1", "R1.0", "R1.1", ... (random
        splits), "D2", "R2.0", ...
    boxsize : float or None
        Periodic box: with no randoms the random-random counts are analytic.
    resampling : Resampling or None
        Per-region tables, in the order of ``counts``, for error bars.
    pip : PipNorm or None
        Conventions of PIP weights (galaxy-pair normalisation).
    los : str
        The line of sight the counts were binned with.
    meta : dict
        Everything else a reader needs (package version, cosmology, ...).
    """

    bins: Bins
    counts: dict[str, np.ndarray]
    sums: dict[str, WeightSums]
    boxsize: float | None = None
    resampling: Resampling | None = None
    pip: PipNorm | None = None
    los: str = "midpoint"
    meta: dict[str, Any] = field(default_factory=dict)

    #: Name of the estimated statistic in tables and plots.
    STATISTIC: ClassVar[str] = "xi"
    SAVE_FORMAT: ClassVar[str] = FORMAT
    SAVE_VERSION: ClassVar[int] = FORMAT_VERSION

    # -- what the counts are ----------------------------------------------
    @property
    def names(self) -> tuple[str, ...]:
        """Names of the counts held, in table order."""
        return tuple(self.counts)

    @property
    def is_cross(self) -> bool:
        """Whether this is a cross-correlation of two tracers."""
        return "D1D2" in self.counts

    @property
    def has_randoms(self) -> bool:
        """Whether the counts include randoms (random-random counts)."""
        return ("R1R2" if self.is_cross else "RR") in self.counts

    @property
    def nsplits(self) -> int:
        """Number of random splits of tracer 1 (1: one random catalogue, 0: none)."""
        return len(_split_names(list(self.sums), "R1"))

    def _views(self) -> dict[str, np.ndarray]:
        return {k: s.total for k, s in self.sums.items()}

    # -- normalisations ---------------------------------------------------
    def norm(self, name: str, views: dict[str, np.ndarray] | None = None) -> float:
        """The normalisation of count ``name``: its weighted number of pairs
        over all pairs of its catalogues (unordered within one, all between
        two; random-random within each split only), from ``views`` (weight
        sums by catalogue; default the totals)."""
        v = self._views() if views is None else views
        S = WeightSums
        r1 = [v[k] for k in _split_names(list(v), "R1")]
        r2 = [v[k] for k in _split_names(list(v), "R2")]
        pip = self.pip
        if name == "DD":
            return pip_pairs_norm(v["D1"], None, pip) if pip else pairs_norm(v["D1"])
        if name == "DR":
            return float(v["D1"][S.X1] * sum(r[S.S1] for r in r1))
        if name == "RR":
            return float(sum(pairs_norm(r) for r in r1))
        if name == "D1D2":
            if pip:
                return pip_pairs_norm(v["D1"], v["D2"], pip)
            return float(v["D1"][S.S1] * v["D2"][S.S1])
        if name == "D1R2":
            return float(v["D1"][S.X1] * sum(r[S.S1] for r in r2))
        if name == "R1D2":
            return float(sum(r[S.S1] for r in r1) * v["D2"][S.X1])
        if name == "R1R2":
            return float(sum(a[S.S1] * b[S.S1] for a, b in zip(r1, r2, strict=False)))
        raise InputError(f"no count named {name!r}; this result holds {', '.join(self.names)}")

    def norms(self) -> dict[str, float]:
        """Normalisation of every count held."""
        return {n: self.norm(n) for n in self.names}

    def normalised(self, name: str) -> np.ndarray:
        """Count ``name`` divided by its normalisation."""
        return self.counts[name] / self.norm(name)

    # -- estimators ---------------------------------------------------------
    def analytic_rr(self) -> np.ndarray:
        """Random-random counts of an unclustered catalogue in the periodic
        box, normalised (the fraction of pairs in each bin)."""
        raise InputError(f"{type(self).__name__} has no analytic random counts")

    def default_estimator(self) -> str:
        """Landy-Szalay when every count it needs is held, else Davis-Peebles
        (one tracer's randoms only), else natural (analytic randoms in a box)."""
        if self.has_randoms:
            return "landy-szalay"
        if self.is_cross and ("D1R2" in self.counts or "R1D2" in self.counts):
            return "davis-peebles"
        return "natural"

    def _estimate(
        self,
        counts: dict[str, np.ndarray],
        norm: Callable[[str], float],
        estimator: str | None,
        analytic: np.ndarray | None = None,
    ) -> np.ndarray:
        est = estimator_name(estimator) if estimator else self.default_estimator()
        dd, dr, rd, rr = (
            ("D1D2", "D1R2", "R1D2", "R1R2") if self.is_cross else ("DD", "DR", "DR", "RR")
        )
        d = counts[dd] / norm(dd)
        have = set(counts)
        with np.errstate(divide="ignore", invalid="ignore"):
            if rr not in have:
                if est == "davis-peebles" and (dr in have or rd in have):
                    x = dr if dr in have else rd
                    xn = counts[x] / norm(x)
                    return np.where(counts[x] > 0, d / xn - 1.0, np.nan)
                if analytic is None:
                    raise InputError(
                        f"the {est} estimator needs random-random counts: pass randoms "
                        "(or a periodic box for analytic ones)"
                    )
                return np.where(analytic > 0, d / analytic - 1.0, np.nan)
            r = counts[rr] / norm(rr)
            x1 = counts[dr] / norm(dr) if dr in have else None
            x2 = counts[rd] / norm(rd) if rd in have else None
            if est == "natural":
                out = d / r - 1.0
            elif est == "landy-szalay":
                if x1 is None or x2 is None:
                    raise InputError("the Landy-Szalay estimator needs both data-random counts")
                out = (d - x1 - x2 + r) / r
            elif est == "davis-peebles":
                xr = x1 if x1 is not None else x2
                if xr is None:
                    raise InputError("the Davis-Peebles estimator needs data-random counts")
                out = d / xr - 1.0
            else:  # hamilton
                if x1 is None or x2 is None:
                    raise InputError("the Hamilton estimator needs both data-random counts")
                out = d * r / (x1 * x2) - 1.0
        return np.where(counts[rr] > 0, out, np.nan)

    def xi(self, estimator: str | None = None) -> np.ndarray:
        """The correlation function in every bin, shape (nbins, nmu).

        With only analytic randoms (a periodic box) the natural estimator is
        used whatever is asked.

        Parameters
        ----------
        estimator : {"landy-szalay", "natural", "davis-peebles", "hamilton"}, optional
            Default: Landy-Szalay, (D1D2 - D1R2 - R1D2 + R1R2) / R1R2 with each
            count normalised ((DD - 2 DR + RR) / RR for one tracer);
            Davis-Peebles D1D2 / D1R2 - 1 (D1D2 / R1D2 - 1 with tracer 1's
            randoms only) when only one tracer has randoms;
            natural DD / RR - 1 with analytic randoms in a periodic box.

        Bins with no random-random (or data-random) pairs are NaN.
        """
        return self._estimate(self.counts, self.norm, estimator)

    def _summed(self, axis: int = 1) -> dict[str, np.ndarray]:
        return {k: v.sum(axis=axis) for k, v in self.counts.items()}

    # -- resampling ---------------------------------------------------------
    def _stacked(self) -> np.ndarray:
        return np.stack([self.counts[n] for n in self.names])

    def _with(self, stacked: np.ndarray, views: dict[str, np.ndarray]) -> TwoPointCounts:
        counts = {n: stacked[k] for k, n in enumerate(self.names)}
        sums = {k: WeightSums(v) for k, v in views.items()}
        return replace(self, counts=counts, sums=sums, resampling=None)

    def _realisations(
        self, method: str, nboot: int, seed: int, correction: str | None = None
    ) -> list[Any]:
        t = self._tables()
        refuse_analytic_randoms(self)
        k = t.nregions
        alpha = cross_weight(k, correction)
        if correction is not None and method != "jackknife":
            raise InputError(
                f"correction={correction!r} applies to the jackknife only; "
                "use method='jackknife' or correction=None"
            )
        total = self._stacked()
        regions = {n: _regions(s) for n, s in self.sums.items()}
        out = []
        if method == "jackknife":
            for r in range(k):
                outside = {n: s.total - regions[n][r] for n, s in self.sums.items()}
                if alpha == 1.0:
                    out.append(self._with(total - t.touch[r], outside))
                    continue
                inside = {n: reg[r] for n, reg in regions.items()}
                counts = total - t.within[r] - alpha * (t.touch[r] - t.within[r])
                whole = self._views()
                for row, name in enumerate(self.names):
                    n_all, n_in = self.norm(name, whole), self.norm(name, inside)
                    n_out = self.norm(name, outside)
                    n_w = (1.0 - alpha) * (n_all - n_in) + alpha * n_out
                    if n_w > 0:
                        counts[row] = counts[row] * (n_out / n_w)
                out.append(self._with(counts, outside))
        elif method == "bootstrap":
            if isinstance(nboot, bool) or int(nboot) != nboot or nboot < 2:
                raise InputError(f"nboot must be an integer >= 2, got {nboot!r}")
            rng = np.random.default_rng(seed)
            for _ in range(int(nboot)):
                m = np.bincount(rng.integers(0, k, k), minlength=k).astype(np.float64)
                views = {n: m @ reg for n, reg in regions.items()}
                out.append(self._with(np.tensordot(m, t.low, axes=1), views))
        else:
            raise InputError(f"method must be 'jackknife' or 'bootstrap', got {method!r}")
        return out

    # -- compatibility with the one-tracer attributes ----------------------
    def _norms_of(self, role: str) -> Norms | None:
        s = self.sums.get(role)
        if s is None:
            return None
        v = s.total
        return Norms(int(round(v[0])), *map(float, v[1:5]))

    @property
    def data(self) -> Norms:
        """Weight power sums of (tracer 1's) data."""
        return self._norms_of("D1")  # type: ignore[return-value]

    @property
    def randoms(self) -> Norms | None:
        """Weight power sums of (tracer 1's) randoms, all splits together; None without."""
        splits = _split_names(list(self.sums), "R1")
        if not splits:
            return None
        v = sum((self.sums[k].total for k in splits[1:]), self.sums[splits[0]].total)
        return Norms(int(round(v[0])), *map(float, v[1:5]))

    # -- outputs ------------------------------------------------------------
    def _axes(self) -> dict[str, np.ndarray]:
        """Bin-edge columns of the table (one row per bin)."""
        raise NotImplementedError

    def to_arrow(self) -> Any:
        """One row per bin: the bin edges, every count (named as in
        ``counts``) and the estimate; the normalisations, binning, estimator
        and package version in the schema metadata (:meth:`save` also keeps
        the region tables)."""
        cols = dict(self._axes())
        for n in self.names:
            cols[n] = self.counts[n].ravel()
        stat = self._estimate_or_none()
        if stat is not None:
            cols[self.STATISTIC] = stat
        return pa.table(cols).replace_schema_metadata(
            {FORMAT: json.dumps(self._header(), allow_nan=True)}
        )

    def _estimate_or_none(self) -> np.ndarray | None:
        try:
            return np.asarray(self.xi(), dtype=np.float64).ravel()
        except InputError:
            return None

    def _header(self) -> dict[str, Any]:
        est = self.default_estimator()
        return {
            "format": FORMAT,
            "format_version": FORMAT_VERSION,
            "class": type(self).__name__,
            "astrograph": package_version(),
            "counts": list(self.names),
            "norms": self.norms(),
            "estimator": est,
            "statistic": self.STATISTIC,
            "edges": self.bins.edges.tolist(),
            "nmu": self.bins.nmu,
            "mu_min": self.bins.mu_min,
            "boxsize": self.boxsize,
            "los": self.los,
            "pip": None if self.pip is None else self.pip.__dict__,
            "sums": {k: s.total.tolist() for k, s in self.sums.items()},
            "meta": self.meta,
            **self._extra_header(),
        }

    def _extra_header(self) -> dict[str, Any]:
        return {}

    def save(self, path: str | Path) -> None:
        """Writes everything needed to recompute every estimator and error
        bar — counts, bins, weight sums (per region too), region tables,
        line of sight, PIP conventions, metadata — to one Parquet file;
        :meth:`load` (or :func:`~astrograph.clustering.results.load_result`)
        reads it back."""
        table = self.to_arrow()
        header = self._header()
        if self.resampling is not None:
            t = self.resampling
            k = t.nregions
            for kind in ("touch", "low", "within"):
                arr = getattr(t, kind)  # (K, ntables, nbins, nmu)
                for row, n in enumerate(self.names):
                    vals = arr[:, row].reshape(k, -1).T  # (bins, K)
                    table = table.append_column(f"{kind}:{n}", list_column(vals))
            header["region_sums"] = {n: _regions(s).tolist() for n, s in self.sums.items()}
            header["nregions"] = k
            header["weighted"] = list(t.weighted)
        write(table, header, path)

    @classmethod
    def _from_saved(cls, table: Any, h: dict[str, Any], path: Any) -> TwoPointCounts:
        bins = Bins(h["edges"], h["nmu"], mu_min=h["mu_min"])
        k = h.get("nregions", 0)
        sums = {
            n: WeightSums(
                np.asarray(v, dtype=np.float64),
                np.asarray(h["region_sums"][n], dtype=np.float64) if k else None,
            )
            for n, v in h["sums"].items()
        }
        pip = None if h["pip"] is None else PipNorm(**h["pip"])
        shape = (bins.nbins, bins.nmu)
        counts = {n: column(table, n, path).reshape(shape) for n in h["counts"]}
        rs = None
        if k:
            tabs = []
            for kind_ in ("touch", "low", "within"):
                per = [list_values(table, f"{kind_}:{n}", k).T for n in h["counts"]]
                tabs.append(np.stack(per, axis=1).reshape(k, len(per), *shape))
            touch, low, within = tabs
            d = _regions(sums["D1"])[:, :5]
            rk = _split_names(list(sums), "R1")
            r = (
                sum((_regions(sums[x])[:, :5] for x in rk[1:]), _regions(sums[rk[0]])[:, :5])
                if rk
                else None
            )
            wd, wr = h.get("weighted", (True, True))
            rs = Resampling(touch, low, within, d, r, (wd, wr))
        return cls._from_header(h, bins, counts, sums, rs, pip)

    @classmethod
    def _from_header(cls, h, bins, counts, sums, rs, pip) -> TwoPointCounts:
        return cls(bins, counts, sums, h["boxsize"], rs, pip, h["los"], h.get("meta", {}))

    def save_ascii(self, path: str | Path) -> None:
        """A text table: bin edges, every count (named as in ``counts``) and
        the estimate per bin, with a header giving the binning, line of
        sight, every normalisation, the estimator and the package version."""
        t = self.to_arrow()
        h = self._header()
        names = t.column_names
        lines = [
            f"astrograph {h['astrograph']} {type(self).__name__}: {self.summary_line()}",
            f"estimator {h['estimator']}, los {self.los}, boxsize {self.boxsize}",
            "norms " + "  ".join(f"{n} {v:.17g}" for n, v in h["norms"].items()),
            " ".join(names),
        ]
        cols = np.column_stack([t.column(c).to_numpy() for c in names])
        np.savetxt(path, cols, header="\n".join(lines), fmt="%.12g")

    def summary_line(self) -> str:
        """One line: tracers, counts held, bins."""
        kind = "cross-correlation" if self.is_cross else "auto-correlation"
        splits = f", randoms in {self.nsplits} splits" if self.nsplits > 1 else ""
        regions = f", {self.resampling.nregions} regions" if self.resampling is not None else ""
        return f"{kind} {'/'.join(self.names)}, {self.bins.nbins} x {self.bins.nmu} bins{splits}{regions}"

    def summary(self) -> str:
        """A few lines: what was counted, the normalisations and the estimate."""
        lines = [f"{type(self).__name__}: {self.summary_line()}", f"los: {self.los}"]
        for n, v in self.norms().items():
            lines.append(f"  {n}: {self.counts[n].sum():.6g} pairs in range, norm {v:.6g}")
        try:
            lines.append(f"estimator: {self.default_estimator()}")
        except InputError:
            pass
        return "\n".join(lines)

    def __repr__(self) -> str:
        return f"<{type(self).__name__}: {self.summary_line()}>"
