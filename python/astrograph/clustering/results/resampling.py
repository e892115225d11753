"""Error bars from regions: the delete-one jackknife and the marked-point
bootstrap, from tables filled in the same pass as the counts.

For every region r the core keeps the counts of the tuples that *touch* r
(have a vertex in r), of the tuples whose *smallest* region label is r and of
the tuples *within* r (every vertex in r). The count with region r deleted is
the total minus its touch table — exactly the count of the catalogue without
region r, no second pass. A bootstrap draws regions with replacement and adds
their smallest-label tables, each tuple once per draw of its region
(TreeCorr's "marked bootstrap"). Norms follow from the per-region weight power
sums.

The delete-one jackknife removes a tuple that crosses a border in every
region it touches, which overstates the variance where many tuples cross
(large separations, many regions). ``correction="mohammad21"`` removes those
tuples with weight alpha = K / (2 + sqrt(2) (K - 1)) instead (Mohammad &
Percival 2022, MNRAS 514, 1289, eq. 27, as pycorr does for pairs; here for
every tuple that spans regions), in the counts and in their norms alike.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from ...errors import InputError
from .norms import Norms
from .table import region_columns, region_tables, sums_array, sums_json

#: How to resample: delete-one jackknife or marked-point bootstrap over regions.
METHODS = ("jackknife", "bootstrap")
#: Corrections of the jackknife: none, or Mohammad & Percival's cross-tuple weight.
CORRECTIONS = (None, "mohammad21")


def cross_weight(nregions: int, correction: str | None) -> float:
    """Weight with which a realisation removes the tuples that cross its
    region's border: 1 (the plain delete-one jackknife) or Mohammad &
    Percival's K / (2 + sqrt(2) (K - 1))."""
    if correction not in CORRECTIONS:
        raise InputError(f"correction must be one of {CORRECTIONS}, got {correction!r}")
    if correction is None:
        return 1.0
    return nregions / (2.0 + np.sqrt(2.0) * (nregions - 1))


def region_sums(labels: np.ndarray, weights: np.ndarray | None, nregions: int) -> np.ndarray:
    """(nregions, 5): points and weight power sums S_1..S_4 of each region."""
    w = np.ones(len(labels)) if weights is None else np.asarray(weights, dtype=np.float64)
    out = np.zeros((nregions, 5))
    out[:, 0] = np.bincount(labels, minlength=nregions)[:nregions]
    for k in (1, 2, 3, 4):
        out[:, k] = np.bincount(labels, weights=w**k, minlength=nregions)[:nregions]
    return out


def _norms(sums: np.ndarray, weighted: bool) -> Norms:
    n = int(round(sums[0]))
    return Norms(n, *map(float, sums[1:])) if weighted else Norms.of(n, None)


@dataclass(frozen=True)
class Resampling:
    """The per-region tables of one count and the per-region weight sums.

    Attributes
    ----------
    touch, low, within : ndarray, shape (nregions, *counts)
        Counts of the tuples that touch region r / whose smallest region is r /
        with every vertex in r, in the layout of the result's stacked count
        arrays.
    data_sums, random_sums : ndarray, shape (nregions, 5)
        Points and weight power sums of each region (randoms: None without).
    weighted : (bool, bool)
        Whether data and randoms carry weights (plain counts otherwise).
    """

    touch: np.ndarray
    low: np.ndarray
    within: np.ndarray
    data_sums: np.ndarray
    random_sums: np.ndarray | None
    weighted: tuple[bool, bool] = (False, False)

    @classmethod
    def from_raw(
        cls,
        flat: np.ndarray,
        shape: tuple[int, ...],
        data_sums: np.ndarray,
        random_sums: np.ndarray | None,
        weighted: tuple[bool, bool],
    ) -> Resampling | None:
        """From the core's flat tables (3, nregions, *shape); None if empty."""
        flat = np.asarray(flat, dtype=np.float64)
        if flat.size == 0:
            return None
        k = len(data_sums)
        t = flat.reshape(3, k, *shape)
        return cls(t[0], t[1], t[2], np.asarray(data_sums), random_sums, weighted)

    @classmethod
    def like(cls, other: Resampling | None, flat: np.ndarray, shape: tuple) -> Resampling | None:
        """Tables of another count of the same catalogue (the N-point counts
        of a pair count), sharing ``other``'s region sums; None without."""
        if other is None:
            return None
        return cls.from_raw(flat, shape, other.data_sums, other.random_sums, other.weighted)

    @property
    def nregions(self) -> int:
        """Number of regions."""
        return len(self.touch)

    def jackknife(
        self,
        total: np.ndarray,
        data: Norms,
        randoms: Norms | None,
        vertices: int,
        correction: str | None = None,
    ) -> list[tuple]:
        """(counts, data norms, random norms) with each region deleted in turn.

        ``total`` stacks count arrays of tuples of ``vertices`` points, row t
        (mod vertices + 1) holding those with t random vertices. With a
        correction, the counts are those of ``corrected``, in the norms of the
        catalogue less region r.
        """
        alpha = cross_weight(self.nregions, correction)
        out = []
        dtot = np.array([data.n, data.s1, data.s2, data.s3, data.s4])
        rtot = (
            None
            if randoms is None
            else np.array([randoms.n, randoms.s1, randoms.s2, randoms.s3, randoms.s4])
        )
        for r in range(self.nregions):
            dn = _norms(dtot - self.data_sums[r], self.weighted[0])
            rn = None if rtot is None else _norms(rtot - self.random_sums[r], self.weighted[1])
            if alpha == 1.0:
                out.append((total - self.touch[r], dn, rn))
                continue
            rsums = None if self.random_sums is None else self.random_sums[r]
            counts = corrected(
                total, self.touch[r], self.within[r], alpha, vertices,
                (dtot, self.data_sums[r]), None if rtot is None else (rtot, rsums),
                self.weighted,
            )  # fmt: skip
            out.append((counts, dn, rn))
        return out

    def bootstrap(self, nboot: int, seed: int) -> list[tuple]:
        """(counts, data norms, random norms) of ``nboot`` draws of the regions
        with replacement (seeded)."""
        rng = np.random.default_rng(seed)
        k = self.nregions
        out = []
        for _ in range(nboot):
            m = np.bincount(rng.integers(0, k, k), minlength=k).astype(np.float64)
            counts = np.tensordot(m, self.low, axes=1)
            dn = _norms(m @ self.data_sums, self.weighted[0])
            rn = (
                None if self.random_sums is None else _norms(m @ self.random_sums, self.weighted[1])
            )
            out.append((counts, dn, rn))
        return out


def corrected(
    total: np.ndarray,
    touch: np.ndarray,
    within: np.ndarray,
    alpha: float,
    vertices: int,
    data: tuple[np.ndarray, np.ndarray],
    randoms: tuple[np.ndarray, np.ndarray] | None,
    weighted: tuple[bool, bool],
) -> np.ndarray:
    """Counts of one corrected realisation, in the norms of the catalogue
    less the region: the tuples within it removed, those crossing its border
    with weight ``alpha``; each row (t random vertices, t = row mod
    vertices + 1) scaled by ``N_out / N_w``, where ``N_w = (1 - alpha) (N -
    N_in) + alpha N_out`` is the same weighted sum over all possible tuples
    (N: all, N_in: within the region, N_out: without it). ``data`` and
    ``randoms``: (whole catalogue, region) weight power sums, as in
    :func:`region_sums`.
    """
    counts = total - within - alpha * (touch - within)

    def norms(sums: np.ndarray, which: int) -> Norms:
        return _norms(sums, weighted[which])

    cats = [data] if randoms is None else [data, randoms]
    whole = [norms(c[0], i) for i, c in enumerate(cats)]
    inside = [norms(c[1], i) for i, c in enumerate(cats)]
    outside = [norms(c[0] - c[1], i) for i, c in enumerate(cats)]

    def tuples(n: list[Norms], t: int) -> float:
        return n[0].combinations(vertices - t) * (n[1].combinations(t) if len(n) > 1 else 1.0)

    scale = np.ones(len(counts))
    for row in range(len(counts)):
        t = row % (vertices + 1)
        n_all, n_in, n_out = tuples(whole, t), tuples(inside, t), tuples(outside, t)
        n_w = (1.0 - alpha) * (n_all - n_in) + alpha * n_out
        if n_w > 0:
            scale[row] = n_out / n_w
    return counts * scale.reshape((len(counts),) + (1,) * (counts.ndim - 1))


ANALYTIC_RANDOMS = (
    "error bars in a periodic box need randoms: the analytic random counts are "
    "those of the whole box, not of the box less a region, so every realisation "
    "would be biased (more so at larger separations); pass randoms, e.g. "
    "uniform_randoms(2 * len(data), boxsize), with the same regions"
)


def save_regions(
    rs: Resampling, names: list[str], rows: Any, cols: dict[str, Any], header: dict[str, Any]
) -> None:
    """Adds the region tables of ``rs`` (entries ``rows`` of each) to the
    columns of a saved result, and its per-region weight sums to the header."""
    tables = {"touch": rs.touch, "low": rs.low, "within": rs.within}
    cols.update(region_columns(tables, names, rows))
    header["region_sums"] = {"data": sums_json(rs.data_sums), "randoms": sums_json(rs.random_sums)}
    header["weighted"] = list(rs.weighted)


def load_regions(
    table: Any, h: dict[str, Any], names: list[str], shape: tuple[int, ...], rows: Any
) -> Resampling | None:
    """The :class:`Resampling` that :func:`save_regions` wrote (None without regions)."""
    k = int(h.get("nregions", 0))
    if not k:
        return None
    touch, low, within = (
        region_tables(table, kind, names, k, shape, rows) for kind in ("touch", "low", "within")
    )
    sums = h["region_sums"]
    return Resampling(
        touch,
        low,
        within,
        sums_array(sums["data"]),  # type: ignore[arg-type]
        sums_array(sums["randoms"]),
        (bool(h["weighted"][0]), bool(h["weighted"][1])),
    )


def jackknife_cov(x: np.ndarray) -> np.ndarray:
    """(K-1)/K sum_k (x_k - xbar)(x_k - xbar)^T over K delete-one
    realisations ``x`` (K, ...), flattened."""
    x = x.reshape(len(x), -1)
    d = x - x.mean(axis=0)
    return (len(x) - 1) / len(x) * d.T @ d


class DeleteOne:
    """``cov`` and ``std`` of the multipole counts, which keep their
    delete-one realisations themselves (jackknife only: their counts are not
    split by smallest region, which the bootstrap needs); subclasses give
    ``realisations(statistic, method=, correction=)`` and keep the delete-one
    tables in ``jackknife`` (one per region; None without regions)."""

    jackknife: np.ndarray | None

    @property
    def nregions(self) -> int:
        """Regions counted for error bars (0: none)."""
        return 0 if self.jackknife is None else len(self.jackknife)

    def realisations(
        self,
        statistic: str | Callable[[Any], Any] = "zeta",
        *,
        method: str = "jackknife",
        correction: str | None = None,
    ) -> np.ndarray:
        raise NotImplementedError

    @staticmethod
    def _jackknife_only(method: str) -> None:
        if method != "jackknife":
            raise InputError(
                "multipoles give jackknife errors only (their counts are not split by "
                "smallest region, which the bootstrap needs): use method='jackknife'"
            )

    def cov(
        self,
        statistic: str | Callable[[Any], Any] = "zeta",
        *,
        method: str = "jackknife",
        correction: str | None = None,
    ) -> np.ndarray:
        """Jackknife covariance of the statistic (flattened):
        (K-1)/K sum_k (x_k - xbar)(x_k - xbar)^T."""
        return jackknife_cov(self.realisations(statistic, method=method, correction=correction))

    def std(
        self,
        statistic: str | Callable[[Any], Any] = "zeta",
        *,
        method: str = "jackknife",
        correction: str | None = None,
    ) -> np.ndarray:
        """Jackknife standard error of the statistic, in its shape."""
        x = self.realisations(statistic, method=method, correction=correction)
        return np.sqrt(np.diag(jackknife_cov(x))).reshape(x.shape[1:])


def left_norms(total: Norms, region: np.ndarray) -> Norms:
    """The norms of a catalogue with one region (its row of ``region_sums``)
    deleted."""
    n = total.n - int(round(region[0]))
    return Norms(n, *(float(getattr(total, f"s{p}") - region[p]) for p in (1, 2, 3, 4)))


def refuse_analytic_randoms(result: Any) -> None:
    """Refuses realisations normalised by a full box's analytic randoms."""
    if getattr(result, "randoms", None) is None and getattr(result, "boxsize", None):
        raise InputError(ANALYTIC_RANDOMS)


class Resampled:
    """Covariances of any statistic of a result, over its regions.

    Subclasses (the result classes) hold ``resampling`` and give
    ``_stacked()`` (their count arrays as one array) and
    ``_realisation(counts, data, randoms, companion)``, the same result with
    other counts and norms (``companion``: the same realisation of a result it
    depends on, from ``_companions`` — the pair counts of a triangle count).
    """

    resampling: Resampling | None
    #: Vertices of the counted tuples (2: pairs, 3: triangles, 4: quads).
    VERTICES = 2

    def _stacked(self) -> np.ndarray:
        raise NotImplementedError

    def _realisation(
        self, counts: np.ndarray, data: Norms, randoms: Norms | None, companion: Any
    ) -> Any:
        raise NotImplementedError

    def _companions(self, method: str, nboot: int, seed: int, correction: str | None) -> list[Any]:
        """Realisations of results this one depends on (the pair counts of an
        N-point count), in the same order; None by default."""
        n = self._tables().nregions if method == "jackknife" else int(nboot)
        return [None] * n

    def _tables(self) -> Resampling:
        if self.resampling is None:
            raise InputError(
                "this result has no regions: count with regions=K (or region labels) "
                "to get error bars"
            )
        return self.resampling

    def realisations(
        self,
        statistic: str | Callable[[Any], Any] = "xi_s",
        *,
        method: str = "jackknife",
        nboot: int = 200,
        seed: int = 0,
        correction: str | None = None,
    ) -> np.ndarray:
        """The statistic (a method name such as "xi_s", "zeta", "q", or a
        function of a result) on every realisation, shape (nreal, ...);
        masked entries are NaN. ``correction="mohammad21"``: jackknife
        realisations that remove the tuples crossing a region's border with
        Mohammad & Percival's weight (see the module's notes)."""
        stat = self._statistic(statistic)
        reals = self._realisations(method, nboot, seed, correction)
        return np.stack([_filled(stat(r)) for r in reals])

    def _realisations(
        self, method: str, nboot: int, seed: int, correction: str | None = None
    ) -> list[Any]:
        t = self._tables()
        refuse_analytic_randoms(self)
        cross_weight(t.nregions, correction)
        if correction is not None and method != "jackknife":
            raise InputError(
                f"correction={correction!r} applies to the jackknife only; "
                "use method='jackknife' or correction=None"
            )
        if method == "jackknife":
            sets = t.jackknife(
                self._stacked(),
                self.data,  # type: ignore[attr-defined]
                self.randoms,  # type: ignore[attr-defined]
                self.VERTICES,
                correction,
            )
        elif method == "bootstrap":
            if isinstance(nboot, bool) or int(nboot) != nboot or nboot < 2:
                raise InputError(f"nboot must be an integer >= 2, got {nboot!r}")
            sets = t.bootstrap(int(nboot), seed)
        else:
            raise InputError(f"method must be one of {METHODS}, got {method!r}")
        others = self._companions(method, nboot, seed, correction)
        return [self._realisation(c, d, r, o) for (c, d, r), o in zip(sets, others, strict=True)]

    def _statistic(self, statistic: str | Callable[[Any], Any]) -> Callable[[Any], Any]:
        if callable(statistic):
            return statistic
        fn = getattr(type(self), statistic, None)
        if not callable(fn):
            raise InputError(f"{type(self).__name__} has no statistic {statistic!r}")
        return fn

    def cov(
        self,
        statistic: str | Callable[[Any], Any] = "xi_s",
        *,
        method: str = "jackknife",
        nboot: int = 200,
        seed: int = 0,
        correction: str | None = None,
    ) -> np.ndarray:
        """Covariance of the statistic (flattened), over the regions.

        Jackknife: (K-1)/K sum_k (x_k - xbar)(x_k - xbar)^T over the K
        delete-one realisations (``correction="mohammad21"``: with the tuples
        crossing each region's border removed with Mohammad & Percival's
        weight, which the plain jackknife's overestimate at separations
        comparable to the regions calls for); bootstrap: the sample covariance
        of ``nboot`` seeded draws. Entries masked in the full-sample statistic
        are NaN.
        """
        x = self.realisations(
            statistic, method=method, nboot=nboot, seed=seed, correction=correction
        )
        x = x.reshape(len(x), -1)
        d = x - x.mean(axis=0)
        scale = (len(x) - 1) / len(x) if method == "jackknife" else 1 / (len(x) - 1)
        return scale * d.T @ d

    def std(
        self,
        statistic: str | Callable[[Any], Any] = "xi_s",
        *,
        method: str = "jackknife",
        nboot: int = 200,
        seed: int = 0,
        correction: str | None = None,
    ) -> np.ndarray:
        """Standard error of the statistic, in its shape (sqrt of the diagonal of :meth:`cov`)."""
        full = _filled(self._statistic(statistic)(self))
        c = self.cov(statistic, method=method, nboot=nboot, seed=seed, correction=correction)
        return np.sqrt(np.diag(c)).reshape(np.shape(full))


def _filled(x: Any) -> np.ndarray:
    if isinstance(x, np.ma.MaskedArray):
        return np.asarray(x.astype(np.float64).filled(np.nan))
    return np.asarray(x, dtype=np.float64)
