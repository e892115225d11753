"""The neighbour-graph database: nodes and all pairs closer than rmax, in Arrow.

Each count is written once, over three small hooks — run the core locally,
reduce the raw arrays, and the weight norms — that the distributed graph
(:mod:`astrograph.clustering.mpi.graph`) overrides to count its share and
reduce over an MPI communicator.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa

from .. import _lib
from .._progress import progress_bar
from ..errors import GraphFormatError, InputError
from . import graph_file, inputs, multipoles, quad_multipoles, sanity, twopoint
from .bins import Bins, as_bins
from .build import build_core
from .direct import region_arguments
from .results import (
    Norms,
    PairCounts,
    ProjectedCounts,
    QuadCounts,
    QuadMultipoles,
    TriangleCounts,
    TriangleMultipoles,
    region_sums,
)
from .results.pairs import sums_of
from .twopoint import rppi_bins
from .weights import WeightSums

NODE_COLUMNS = ("x", "y", "z", "weight", "is_random", "index", "buffer", "region", "degree")


class NeighbourGraph:
    """Data and random points with every pair closer than ``rmax`` as edges.

    Each undirected edge is stored once, at its lower-id end (forward
    adjacency), with neighbour ids ascending; edges carry the separation
    (float32) and the line-of-sight cosine mu (float16). Exact counts do not
    depend on that storage precision: a stored value within its rounding
    error of a bin edge is recomputed in float64 from the positions.

    Build with :meth:`build` (or :func:`astrograph.build_graph`, which also
    spreads a catalogue over MPI ranks); read with :meth:`load`.
    """

    def __init__(self, inner: Any) -> None:
        self._g = inner

    # -- construction -----------------------------------------------------
    @classmethod
    def build(
        cls,
        data: Any,
        randoms: Any = None,
        *,
        rmax: float,
        rmin: float = 0.0,
        data_weights: Any = None,
        random_weights: Any = None,
        data2: Any = None,
        randoms2: Any = None,
        data2_weights: Any = None,
        random2_weights: Any = None,
        boxsize: float | None = None,
        los: str | None = None,
        regions: Any = None,
        store_mu: bool = True,
        max_memory: int | str | None = "auto",
        num_threads: int | None = None,
        progress: bool = False,
    ) -> NeighbourGraph:
        """Builds the graph of all pairs with ``rmin <= d < rmax`` in this process.

        Parameters
        ----------
        data, randoms : ndarray (N, 3) or Catalog
        rmax, rmin : float
            Separation range kept as edges.
        data_weights, random_weights : ndarray, optional
        data2, randoms2, data2_weights, random2_weights : optional
            A second tracer: the graph then holds both (node column
            ``tracer``, 0 or 1) and its pair counts are the cross-correlation
            counts D1D2, D1R2, R1D2, R1R2 (N-point counts are refused).
        boxsize : float, optional
            Periodic box size (minimum image; rmax < boxsize/2).
        los : {"midpoint", "z"}, optional
            The line of sight of the stored mu (the counts may use another).
        regions : int or labels per catalogue (data, randoms[, data2, randoms2]), optional
            Regions for error bars, stored as the node column ``region``
            (see :func:`astrograph.count_pairs`); every count of the graph
            then carries its resampling tables.
        store_mu : bool
            Keep mu on the edges (10 bytes per edge); without it 8 bytes per
            edge and mu is recomputed from positions when asked for.
        max_memory : int, "auto" or "unlimited"
            Refuse to build (:class:`~astrograph.errors.MemoryBudgetError`)
            when the sampled estimate exceeds this many bytes. "auto": half the
            memory available now.
        num_threads : int, optional
        progress : bool
        """
        if data2 is None:
            for name, v in (
                ("randoms2", randoms2),
                ("data2_weights", data2_weights),
                ("random2_weights", random2_weights),
            ):
                if v is not None:
                    raise InputError(f"{name} needs data2 (the second tracer)")
            d, dw, r, rw, boxsize, los = inputs.catalogues(
                data, randoms, data_weights, random_weights, boxsize, los
            )
            sanity.check_catalogues({"D1": d, "R1.0": r}, boxsize)
            reg, _ = region_arguments(regions, d, dw, r, rw, boxsize)
            tracer = None
        else:
            d, dw, r, rw, tracer, reg = _two_tracers(
                data, randoms, data2, randoms2,
                (data_weights, random_weights, data2_weights, random2_weights), boxsize, los, regions,
            )  # fmt: skip
            boxsize, los = inputs.boxsize_and_los(boxsize, los)
        g = build_core(
            d,
            dw,
            r,
            rw,
            boxsize,
            los,
            rmin=rmin,
            rmax=rmax,
            store_mu=store_mu,
            max_memory=max_memory,
            **reg,
            tracer=tracer,
            num_threads=num_threads,
            progress=progress,
        )
        return cls(g)

    @staticmethod
    def estimate(
        data: Any,
        randoms: Any = None,
        *,
        rmax: float,
        rmin: float = 0.0,
        boxsize: float | None = None,
        store_mu: bool = True,
        num_threads: int | None = None,
    ) -> dict[str, float]:
        """Sampled estimate of edges, mean degree and bytes, without building."""
        d, dw, r, rw, boxsize, los = inputs.catalogues(data, randoms, None, None, boxsize, None)
        return build_core(
            d,
            dw,
            r,
            rw,
            boxsize,
            los,
            rmin=rmin,
            rmax=rmax,
            store_mu=store_mu,
            num_threads=num_threads,
            estimate_only=True,
        )

    # -- Arrow ---------------------------------------------------------------
    def to_arrow(self) -> Any:
        """The graph as a ``pyarrow.RecordBatch``: one row per node.

        Node columns: x, y, z, weight, is_random, index (row in its input
        catalogue), buffer (0 owned, 1 MPI buffer copy), region (jackknife
        region, 0 without), degree, and for a graph of two tracers tracer
        (0 or 1). Adjacency columns (``large_list``): neighbours (node ids, ascending),
        separation, mu. The arrays share the graph's memory; nothing is
        copied.
        """
        return self._g.to_arrow()

    def nodes(self) -> Any:
        """Node properties as a ``pyarrow.Table`` (no copy), with the column
        ``tracer`` in a graph of two tracers."""
        b = self.to_arrow()
        cols = list(NODE_COLUMNS) + (["tracer"] if "tracer" in b.schema.names else [])
        return pa.Table.from_batches([b.select(cols)])

    def edges(self) -> Any:
        """One row per edge: source, target, separation, mu (targets and values shared)."""
        b = self.to_arrow()
        nbr = b.column("neighbours")
        offsets = nbr.offsets.to_numpy()
        source = np.repeat(np.arange(self.n_nodes, dtype=np.uint32), np.diff(offsets))
        cols = {"source": pa.array(source), "target": nbr.values}
        cols["separation"] = b.column("separation").values
        if "mu" in b.schema.names:
            cols["mu"] = b.column("mu").values
        return pa.table(cols)

    # -- files ---------------------------------------------------------------
    def save(self, path: str | Path) -> None:
        """Writes the graph as an Arrow IPC file (metadata and a CRC-32 in the schema)."""
        graph_file.save(self.to_arrow(), path)

    @classmethod
    def load(
        cls,
        path: str | Path,
        *,
        mmap: bool = False,
        verify: bool = True,
        num_threads: int | None = None,
    ) -> NeighbourGraph:
        """Reads a saved graph, refusing corrupt, edited or foreign files.

        Parameters
        ----------
        path : str or Path
        mmap : bool
            Memory-map the file instead of reading it into memory: no copy,
            but the file must not change while the graph is in use (a
            truncated mapped file ends the process with SIGBUS).
        verify : bool
            Check the stored checksum of the columns, schema and metadata
            (one pass over the file); files without one are refused.

        Raises
        ------
        GraphFormatError
            The file is not an astrograph graph, is truncated or corrupt, or
            its columns do not form a valid forward adjacency.
        """
        batch = graph_file.load(path, mmap=mmap, verify=verify)
        try:
            return cls(_lib.Graph.from_arrow(batch, num_threads=inputs.num_threads(num_threads)))
        except GraphFormatError as exc:
            raise GraphFormatError(f"{path}: {exc}") from None

    # -- hooks (overridden by the distributed graph) ---------------------------
    def _local(
        self, label: str, num_threads: int | None, progress: bool, fn: Callable[..., Any]
    ) -> Any:
        """Runs ``fn(num_threads, progress_callback)`` on this process's graph."""
        with progress_bar(label, progress, self.n_nodes) as cb:
            return fn(inputs.num_threads(num_threads), cb)

    def _reduce(
        self, counts: list[np.ndarray], tables: np.ndarray, groups: int = 1
    ) -> list[np.ndarray] | None:
        """Combines per-process raw count arrays (``groups`` runs of one per
        number of randoms) and resampling tables: the counts then the tables
        (None where no result is returned)."""
        return [*counts, tables]

    def _norms(self) -> tuple[Norms, Norms | None, tuple | None]:
        """Weight norms of the data and random points the counts cover, and
        their per-region sums (None without regions)."""
        b = self.to_arrow()
        w = b.column("weight").to_numpy()
        owned = b.column("buffer").to_numpy() == 0
        rnd = b.column("is_random").to_numpy() == 1
        d, r = owned & ~rnd, owned & rnd
        norms = (
            Norms.of(int(d.sum()), w[d]),
            (Norms.of(int(r.sum()), w[r]) if self.n_random else None),
        )
        sums = None
        if self.n_regions:
            reg = b.column("region").to_numpy().astype(np.int64)
            rs = region_sums(reg[r], w[r], self.n_regions) if self.n_random else None
            sums = (region_sums(reg[d], w[d], self.n_regions), rs, (True, True))
        return (*norms, sums)

    def _weight_sums(self) -> tuple[dict[str, WeightSums], tuple[bool, bool]]:
        """Weight sums of the catalogues the counts cover, keyed as in the
        two-point results, and whether data and randoms are weighted."""
        if self._g.n_tracers == 1:
            dn, rn, sums = self._norms()
            out = {"D1": sums_of(dn, None if sums is None else sums[0])}
            if rn is not None:
                out["R1.0"] = sums_of(rn, None if sums is None else sums[1])
            return out, (True, True)
        b = self.to_arrow()
        w = b.column("weight").to_numpy()
        owned = b.column("buffer").to_numpy() == 0
        rnd = b.column("is_random").to_numpy() == 1
        tr = b.column("tracer").to_numpy()
        reg = b.column("region").to_numpy().astype(np.int64)
        out = {}
        for t in (0, 1):
            for kind, sel in (("D", ~rnd), ("R", rnd)):
                m = owned & sel & (tr == t)
                role = f"{kind}{t + 1}" + (".0" if kind == "R" else "")
                if kind == "R" and not m.any():
                    continue
                out[role] = WeightSums.of(
                    w[m], int(m.sum()), labels=reg[m] if self.n_regions else None,
                    nregions=self.n_regions,
                )  # fmt: skip
        return out, (True, True)

    # -- counting ------------------------------------------------------------
    def _count_kw(self, max_memory: Any) -> dict[str, Any]:
        return {"max_memory": inputs.budget(max_memory), "jackknife": self.n_regions > 0}

    def _two_point(
        self, cls: type, b: Bins, binning: tuple, los: str | None, max_memory: Any,
        num_threads: int | None, progress: bool, **extra: Any,
    ) -> Any:  # fmt: skip
        los = twopoint.resolve_los(los if los is not None else self.los, self.boxsize)
        kw = self._count_kw(max_memory)
        names, tables, regions = self._local(
            "pair counts",
            num_threads,
            progress,
            lambda nt, cb: self._g.count_two_point(binning, los, **kw, num_threads=nt, progress=cb),
        )
        raw = self._reduce(list(tables), regions)
        if raw is None:
            return None
        sums, weighted = self._weight_sums()
        sanity.check_counts(names, raw[:-1], sums)
        return twopoint.build_result(
            cls, b, (names, raw[:-1], raw[-1]), sums, boxsize=self.boxsize, los=los,
            weighted=weighted, **extra,
        )  # fmt: skip

    def count_pairs(
        self,
        bins: Bins | Any,
        *,
        los: str | None = None,
        max_memory: int | str | None = "auto",
        num_threads: int | None = None,
        progress: bool = False,
    ) -> PairCounts:
        """Pair counts from the stored edges (DD, DR, RR; D1D2, D1R2, R1D2,
        R1R2 for a graph of two tracers), identical to
        :func:`astrograph.count_pairs`. ``los``: the line of sight of mu
        (default: the graph's; any other is computed from the positions)."""
        b = as_bins(bins)
        return self._two_point(
            PairCounts, b, twopoint.smu_binning(b), los, max_memory, num_threads, progress
        )

    def count_pairs_rppi(
        self,
        rp_bins: Bins | Any,
        *,
        pimax: float,
        npi: int | None = None,
        signed: bool = False,
        los: str | None = None,
        max_memory: int | str | None = "auto",
        num_threads: int | None = None,
        progress: bool = False,
    ) -> ProjectedCounts:
        """Pair counts in (rp, pi) bins from the stored edges; identical to
        :func:`astrograph.count_pairs_rppi`. The graph must hold every pair
        with s < sqrt(rp_max^2 + pimax^2) (build it with that rmax)."""
        b = rppi_bins(rp_bins, pimax, npi, signed)
        binning = twopoint.rppi_binning(b, pimax)
        return self._two_point(
            ProjectedCounts, b, binning, los, max_memory, num_threads, progress, pimax=float(pimax)
        )

    def count_triangles(
        self,
        bins: Bins | Any,
        *,
        max_memory: int | str | None = "auto",
        num_threads: int | None = None,
        progress: bool = False,
    ) -> TriangleCounts:
        """DDD, DDR, DRR, RRR by sorted-list intersection; see :class:`TriangleCounts`."""
        b = Bins(as_bins(bins).edges)
        kw = self._count_kw(max_memory)
        counts, jk = self._local(
            "triangles",
            num_threads,
            progress,
            lambda nt, cb: self._g.count_triangles(
                b.edges.tolist(), **kw, num_threads=nt, progress=cb
            ),
        )
        raw = self._reduce(list(counts), jk)
        pairs = self.count_pairs(b, max_memory=max_memory, num_threads=num_threads)
        return None if raw is None else TriangleCounts.from_raw(raw[:4], raw[4], pairs)

    def count_triangle_multipoles(
        self,
        bins: Bins | Any,
        *,
        lmax: int = 10,
        max_memory: int | str | None = "auto",
        num_threads: int | None = None,
        progress: bool = False,
    ) -> TriangleMultipoles:
        """3PCF multipoles of the graph's points for bins up to its rmax (see
        :func:`~astrograph.clustering.count_triangle_multipoles`), with the
        graph's weights, box and regions. The edges store separations but not
        directions, so each point's neighbours are found again from the
        stored positions; no triangle is enumerated either way."""
        return multipoles.of_nodes(
            self.to_arrow(),
            (self.rmin, self.rmax),
            self.boxsize,
            self.n_regions,
            bins=bins,
            lmax=lmax,
            max_memory=max_memory,
            num_threads=num_threads,
            progress=progress,
        )

    def count_quad_multipoles(
        self,
        bins: Bins | Any,
        *,
        lmax: int = 4,
        parity: str = "both",
        disconnected: bool = False,
        max_memory: int | str | None = "auto",
        num_threads: int | None = None,
        progress: bool = False,
    ) -> QuadMultipoles:
        """4PCF multipoles in the isotropic basis of the graph's points for
        bins up to its rmax (see
        :func:`~astrograph.clustering.count_quad_multipoles`), with the graph's
        weights, box and regions (exact delete-one jackknife). Each point's
        neighbours are found again from the stored positions."""
        return multipoles.of_nodes(
            self.to_arrow(),
            (self.rmin, self.rmax),
            self.boxsize,
            self.n_regions,
            bins=bins,
            count=quad_multipoles.count_quad_multipoles,
            lmax=lmax,
            parity=parity,
            disconnected=disconnected,
            max_memory=max_memory,
            num_threads=num_threads,
            progress=progress,
        )

    def count_quads(
        self,
        bins: Bins | Any,
        *,
        parity: bool = False,
        max_memory: int | str | None = "auto",
        num_threads: int | None = None,
        progress: bool = False,
    ) -> QuadCounts:
        """4-point counts by canonical shape (with ``parity``, also the
        parity-odd counts); see :class:`QuadCounts`."""
        b = Bins(as_bins(bins).edges)
        kw = self._count_kw(max_memory)
        shapes, counts, jk, odd, chiral = self._local(
            "quads",
            num_threads,
            progress,
            lambda nt, cb: self._g.count_quads(
                b.edges.tolist(), **kw, parity=bool(parity), num_threads=nt, progress=cb
            ),
        )
        n = len(counts)
        if parity:
            counts = [*counts, *np.asarray(odd).reshape(n, -1)]
        raw = self._reduce(list(counts), jk, groups=2 if parity else 1)
        pairs = self.count_pairs(b, max_memory=max_memory, num_threads=num_threads)
        if raw is None:
            return None
        odd = np.concatenate(raw[n:-1]) if parity else np.zeros(0)
        return QuadCounts.from_raw(shapes, raw[:n], raw[-1], odd, chiral, pairs)

    # -- properties ----------------------------------------------------------
    n_nodes = property(lambda self: self._g.n_nodes, doc="Number of nodes.")
    n_edges = property(lambda self: self._g.n_edges, doc="Number of undirected edges.")
    n_data = property(lambda self: self._g.n_data, doc="Number of data nodes.")
    n_random = property(lambda self: self._g.n_random, doc="Number of random nodes.")
    rmin = property(lambda self: self._g.rmin, doc="Smallest separation kept as an edge.")
    rmax = property(lambda self: self._g.rmax, doc="Edges are pairs closer than this.")
    boxsize = property(lambda self: self._g.boxsize, doc="Periodic box size, or None.")
    los = property(
        lambda self: self._g.los, doc='Line of sight of the stored mu: "midpoint" or an axis.'
    )
    n_tracers = property(
        lambda self: self._g.n_tracers,
        doc="1, or 2 for a graph of two tracers (node column tracer).",
    )
    n_regions = property(
        lambda self: self._g.n_regions, doc="Regions in the node column region (0: none)."
    )

    @property
    def bytes_per_edge(self) -> int:
        """Storage per edge: neighbour id (4) + separation (4) [+ mu (2)]."""
        return 10 if self._g.has_mu else 8

    @property
    def nbytes(self) -> int:
        """Bytes held by the graph's columns."""
        return int(self.to_arrow().nbytes)

    def __repr__(self) -> str:
        return (
            f"NeighbourGraph(nodes={self.n_nodes} ({self.n_data} data, {self.n_random} random), "
            f"edges={self.n_edges}, rmin={self.rmin}, rmax={self.rmax}, boxsize={self.boxsize}, "
            f"los={self.los!r})"
        )


def _two_tracers(data, randoms, data2, randoms2, weights, boxsize, los, regions) -> tuple:
    """Both tracers' catalogues merged for one graph: galaxies (tracer 1 then
    2), randoms (likewise), their weights, the tracer of each point (data
    then randoms) and the region arguments."""
    p = twopoint.prepare(
        data, randoms, data2, randoms2,
        data_weights=weights[0], random_weights=weights[1],
        data2_weights=weights[2], random2_weights=weights[3],
        boxsize=boxsize, los=los, regions=regions,
    )  # fmt: skip
    if len(p.roles("R1")) > 1 or len(p.roles("R2")) > 1:
        raise InputError("a graph holds one random catalogue per tracer, not random splits")
    gal = [r for r in ("D1", "D2")]
    ran = [r for r in ("R1.0", "R2.0") if r in p.pos]
    d = np.concatenate([p.pos[r] for r in gal], axis=1)
    r = np.concatenate([p.pos[x] for x in ran], axis=1) if ran else None

    def weights_of(roles: list[str]) -> np.ndarray | None:
        if all(p.w[x] is None for x in roles):
            return None
        return np.concatenate(
            [np.ones(p.pos[x].shape[1]) if p.w[x] is None else p.w[x] for x in roles]
        )

    tracer = np.concatenate(
        [np.full(p.pos[x].shape[1], int(x[1]) - 1, np.uint8) for x in gal + ran]
    ).tolist()
    reg: dict[str, Any] = {}
    if p.nregions:
        labels = np.concatenate([p.labels[x] for x in gal + ran]).astype(np.uint32)
        reg = {"regions": labels, "nregions": p.nregions}
    return d, weights_of(gal), r, weights_of(ran) if ran else None, tracer, reg
