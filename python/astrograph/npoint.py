"""Exact 3- and 4-point counts from the neighbour graph, and their estimators."""

from __future__ import annotations

from dataclasses import dataclass, field
from math import comb
from pathlib import Path
from typing import Any

import numpy as np

from . import _validate
from ._progress import progress_bar
from .bins import Bins, as_bins
from .paircounts import Norms, PairCounts

TRIANGLE_TYPES = ("ddd", "ddr", "drr", "rrr")
QUAD_TYPES = ("dddd", "dddr", "ddrr", "drrr", "rrrr")
#: Edge order of a quad's six side bins: vertex pairs (01, 02, 03, 12, 13, 23).
QUAD_EDGES = ((0, 1), (0, 2), (0, 3), (1, 2), (1, 3), (2, 3))
#: The three ways to split four vertices into two pairs, as slots of QUAD_EDGES.
QUAD_PAIRINGS = ((0, 5), (1, 4), (2, 3))


def _xi_of_bins(pairs: PairCounts) -> np.ndarray:
    return pairs.xi_s()


def _sorted_mask(nb: int) -> np.ndarray:
    b1, b2, b3 = np.indices((nb, nb, nb))
    return (b1 <= b2) & (b2 <= b3)


def _labelled_integral(
    a: tuple[float, float], b: tuple[float, float], c: tuple[float, float]
) -> float:
    """int_a dr1 int_b dr2 int_c dr3 r1 r2 r3 over closed triangles, exactly.

    The r3 integral is analytic; the rest is piecewise polynomial in r2 and
    r1 with breakpoints where r1 +- r2 meets an edge of c, so Gauss-Legendre
    on each piece integrates it to rounding error.
    """
    x, w = np.polynomial.legendre.leggauss(6)

    def pieces(lo: float, hi: float, cuts: list[float]) -> tuple[np.ndarray, np.ndarray]:
        pts = np.unique(np.clip([lo, hi, *cuts], lo, hi))
        a0, a1 = pts[:-1, None], pts[1:, None]
        return (0.5 * (a1 - a0) * x + 0.5 * (a1 + a0)).ravel(), (0.5 * (a1 - a0) * w).ravel()

    r1, w1 = pieces(*a, [bb + cc for bb in b for cc in c] + [abs(bb - cc) for bb in b for cc in c])
    total = 0.0
    for ri, wi in zip(r1, w1, strict=False):
        r2, w2 = pieces(*b, [ri + cc for cc in c] + [ri - cc for cc in c] + [cc - ri for cc in c])
        lo = np.maximum(c[0], np.abs(ri - r2))
        hi = np.minimum(c[1], ri + r2)
        inner = np.where(hi > lo, 0.5 * (hi * hi - lo * lo), 0.0)
        total += wi * ri * float((w2 * r2 * inner).sum())
    return total


def triangle_probability(bins: Bins, box: float) -> np.ndarray:
    """Probability that three uniform points in a periodic box form a triangle
    whose sorted side bins are (b1, b2, b3), shape (nbins,)*3 (sorted entries only).

    For labelled vertices the side lengths (r12, r13, r23) have density
    8 pi^2 r12 r13 r23 / V^2 on the triangle-inequality region (valid while
    the sides are below box/2); the unordered probability sums the distinct
    assignments of the sorted bins to the three labelled sides.
    """
    e = bins.edges
    nb = bins.nbins
    edge = [(e[i], e[i + 1]) for i in range(nb)]
    labelled: dict[tuple[int, int, int], float] = {}
    out = np.zeros((nb, nb, nb))
    for b1, b2, b3 in zip(*np.nonzero(_sorted_mask(nb)), strict=False):
        for p in {
            (b1, b2, b3),
            (b1, b3, b2),
            (b2, b1, b3),
            (b2, b3, b1),
            (b3, b1, b2),
            (b3, b2, b1),
        }:
            if p not in labelled:
                labelled[p] = _labelled_integral(edge[p[0]], edge[p[1]], edge[p[2]])
            out[b1, b2, b3] += labelled[p]
    return out * 8.0 * np.pi**2 / box**6


@dataclass
class TriangleCounts:
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
    box : float or None
    """

    bins: Bins
    ddd: np.ndarray
    ddr: np.ndarray
    drr: np.ndarray
    rrr: np.ndarray
    pairs: PairCounts
    data: Norms
    randoms: Norms | None
    box: float | None = None
    _rrr_box: np.ndarray | None = field(default=None, repr=False)

    @property
    def nbins(self) -> int:
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
        if self.box is None:
            raise ValueError("analytic RRR needs a periodic box")
        if self._rrr_box is None:
            self._rrr_box = self.data.triples * triangle_probability(self.bins, self.box)
        return self._rrr_box

    @property
    def valid(self) -> np.ndarray:
        """Configurations that are sorted and can hold triangles (RRR > 0)."""
        ref = self.rrr if self.randoms is not None else self.rrr_analytic()
        return _sorted_mask(self.nbins) & (ref > 0)

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
                xi = _xi_of_bins(self.pairs)
                b1, b2, b3 = np.indices((self.nbins,) * 3)
                z = self.ddd / self.rrr_analytic() - 1.0 - (xi[b1] + xi[b2] + xi[b3])
        return np.ma.masked_array(np.where(valid, z, 0.0), mask=~valid)

    def q(self) -> np.ma.MaskedArray:
        """Reduced 3PCF Q = zeta / (xi1 xi2 + xi2 xi3 + xi3 xi1)."""
        xi = _xi_of_bins(self.pairs)
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
        import pyarrow as pa

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
        if self.randoms is None and self.box is not None:
            cols["rrr"] = self.rrr_analytic()[sel]
        cols["zeta"] = z.filled(np.nan)[sel]
        cols["q"] = q.filled(np.nan)[sel]
        return pa.table(cols)

    def save_parquet(self, path: str | Path) -> None:
        import pyarrow.parquet as pq

        pq.write_table(self.to_arrow(), path)

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
        from . import plotting

        return plotting.plot_triangles(self, kind=kind, ax=ax, **kwargs)

    @property
    def total(self) -> float:
        return float(sum(getattr(self, k).sum() for k in TRIANGLE_TYPES))


@dataclass
class QuadCounts:
    """Weighted counts of unordered quadruples whose six separations are all binned.

    ``shapes[s]`` is a canonical 6-tuple of side bins (in QUAD_EDGES order,
    the lexicographically smallest over relabellings of the four vertices);
    ``counts[t, s]`` sums w_i w_j w_k w_l over quads of shape s with t random
    vertices (t = 0..4: DDDD ... RRRR).
    """

    bins: Bins
    shapes: np.ndarray
    counts: np.ndarray
    pairs: PairCounts
    data: Norms
    randoms: Norms | None

    def __getattr__(self, name: str) -> np.ndarray:
        if name in QUAD_TYPES:
            return self.counts[QUAD_TYPES.index(name)]
        raise AttributeError(name)

    def norm(self, t: int) -> float:
        d = self.data.combinations(4 - t)
        if t == 0:
            return d
        return d * self.randoms.combinations(t) if self.randoms is not None else np.nan

    @property
    def valid(self) -> np.ndarray:
        return self.counts[4] > 0 if self.randoms is not None else np.zeros(len(self.shapes), bool)

    def eta(self) -> np.ma.MaskedArray:
        """Full 4-point function (D - R)^4 / RRRR with normalised counts.

        Its expectation is the connected 4PCF plus the disconnected
        xi xi terms (see :meth:`disconnected`); 2- and 3-point terms cancel.
        """
        if self.randoms is None:
            raise ValueError("the 4-point estimator needs randoms")
        with np.errstate(divide="ignore", invalid="ignore"):
            n = np.array([self.counts[t] / self.norm(t) for t in range(5)])
            full = sum((-1) ** t * comb(4, t) * n[t] for t in range(5)) / n[4]
        v = self.valid
        return np.ma.masked_array(np.where(v, full, 0.0), mask=~v)

    def disconnected(self) -> np.ndarray:
        """xi(r01) xi(r23) + xi(r02) xi(r13) + xi(r03) xi(r12) per shape (bin-averaged xi)."""
        xi = _xi_of_bins(self.pairs)
        s = self.shapes.astype(int)
        return sum(xi[s[:, a]] * xi[s[:, b]] for a, b in QUAD_PAIRINGS)

    def connected(self) -> np.ma.MaskedArray:
        """eta minus the disconnected xi xi terms."""
        return self.eta() - self.disconnected()

    def tetrahedra(self) -> np.ndarray:
        """Indices of regular-tetrahedron shapes (all six sides in one bin)."""
        return np.flatnonzero((self.shapes == self.shapes[:, :1]).all(axis=1))

    def to_arrow(self) -> Any:
        import pyarrow as pa

        cols: dict[str, Any] = {
            f"b{a}{b}": self.shapes[:, s] for s, (a, b) in enumerate(QUAD_EDGES)
        }
        for t, name in enumerate(QUAD_TYPES):
            cols[name] = self.counts[t]
        if self.randoms is not None:
            cols["eta"] = self.eta().filled(np.nan)
            cols["disconnected"] = self.disconnected()
        return pa.table(cols)

    @property
    def total(self) -> float:
        return float(self.counts.sum())


def _triangles_from_graph(
    graph: Any, bins: Bins, num_threads: int | None, progress: bool
) -> TriangleCounts:
    if bins.nmu != 1:
        bins = Bins(bins.edges)
    with progress_bar("triangles", progress) as cb:
        raw = graph._g.count_triangles(
            bins.edges.tolist(), num_threads=_validate.num_threads(num_threads), progress=cb
        )
    nb = bins.nbins
    arrays = [a.reshape(nb, nb, nb) for a in raw]
    pairs = graph.count_pairs(bins, num_threads=num_threads)
    return TriangleCounts(bins, *arrays, pairs, pairs.data, pairs.randoms, graph.box)


def _quads_from_graph(
    graph: Any, bins: Bins, max_memory: Any, num_threads: int | None, progress: bool
) -> QuadCounts:
    from .graph import _budget

    if bins.nmu != 1:
        bins = Bins(bins.edges)
    with progress_bar("quads", progress) as cb:
        shapes, counts = graph._g.count_quads(
            bins.edges.tolist(),
            max_memory=_budget(max_memory),
            num_threads=_validate.num_threads(num_threads),
            progress=cb,
        )
    pairs = graph.count_pairs(bins, num_threads=num_threads)
    return QuadCounts(bins, shapes, np.array(counts), pairs, pairs.data, pairs.randoms)


def _direct(
    kind: str, data, randoms, bins, data_weights, random_weights, box, num_threads, progress, **kw
):
    """Counts straight from the catalogues, plus the pair counts of the same bins."""
    from . import _lib
    from .paircounts import count_pairs

    d, dw, r, rw, box, _ = _validate.catalogues(
        data, randoms, data_weights, random_weights, box, None
    )
    fn = _lib.count_triangles if kind == "triangles" else _lib.count_quads
    with progress_bar(kind, progress) as cb:
        raw = fn(
            d,
            dw,
            r,
            rw,
            bins.edges.tolist(),
            box,
            **kw,
            num_threads=_validate.num_threads(num_threads),
            progress=cb,
        )
    pairs = count_pairs(
        data,
        randoms,
        bins=bins,
        data_weights=data_weights,
        random_weights=random_weights,
        box=box,
        num_threads=num_threads,
    )
    return raw, pairs


def count_triangles(
    data: Any,
    randoms: Any = None,
    *,
    bins: Bins | Any,
    data_weights: Any = None,
    random_weights: Any = None,
    box: float | None = None,
    max_memory: int | str | None = "auto",
    num_threads: int | None = None,
    progress: bool = False,
    comm: Any = None,
    allreduce: bool = False,
) -> TriangleCounts:
    """Exact DDD, DDR, DRR, RRR in one pass over the combined data + random graph.

    Finds the neighbour lists for ``bins`` (no stored graph) and intersects
    them; the counts equal ``NeighbourGraph.build(...).count_triangles(bins)``.
    See :class:`TriangleCounts` for the conventions. In a periodic box no
    randoms are needed (RRR is computed analytically). ``max_memory`` (bytes,
    "auto" = half the free memory) bounds the neighbour lists, checked on a
    sampled estimate before they are built.
    """
    b = as_bins(bins)
    if comm is not None:
        from .parallel import count_mpi

        return count_mpi(
            "triangles",
            data,
            randoms,
            bins=b,
            data_weights=data_weights,
            random_weights=random_weights,
            box=box,
            num_threads=num_threads,
            comm=comm,
            allreduce=allreduce,
        )
    from .graph import _budget

    raw, pairs = _direct(
        "triangles",
        data,
        randoms,
        Bins(b.edges),
        data_weights,
        random_weights,
        box,
        num_threads,
        progress,
        max_memory=_budget(max_memory),
    )
    nb = b.nbins
    arrays = [a.reshape(nb, nb, nb) for a in raw]
    return TriangleCounts(pairs.bins, *arrays, pairs, pairs.data, pairs.randoms, pairs.box)


def count_quads(
    data: Any,
    randoms: Any = None,
    *,
    bins: Bins | Any,
    data_weights: Any = None,
    random_weights: Any = None,
    box: float | None = None,
    max_memory: int | str | None = "auto",
    num_threads: int | None = None,
    progress: bool = False,
    comm: Any = None,
    allreduce: bool = False,
) -> QuadCounts:
    """Exact 4-point counts (DDDD ... RRRR) by canonical shape of the six side bins."""
    b = as_bins(bins)
    if comm is not None:
        from .parallel import count_mpi

        return count_mpi(
            "quads",
            data,
            randoms,
            bins=b,
            data_weights=data_weights,
            random_weights=random_weights,
            box=box,
            max_memory=max_memory,
            num_threads=num_threads,
            comm=comm,
            allreduce=allreduce,
        )
    from .graph import _budget

    (shapes, counts), pairs = _direct(
        "quads",
        data,
        randoms,
        Bins(b.edges),
        data_weights,
        random_weights,
        box,
        num_threads,
        progress,
        max_memory=_budget(max_memory),
    )
    return QuadCounts(pairs.bins, shapes, np.array(counts), pairs, pairs.data, pairs.randoms)
