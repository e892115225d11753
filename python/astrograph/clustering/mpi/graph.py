"""The distributed neighbour graph: this rank's share, counts reduced over ranks.

:class:`DistributedGraph` overrides only the three hooks of
:class:`~astrograph.clustering.graph.NeighbourGraph` — run locally (under a
collective failure guard), reduce (over the communicator), norms (global) —
so every count is written once, in the graph module.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

import numpy as np

from ...errors import InputError, MemoryBudgetError
from .. import inputs
from ..bins import Bins, as_bins
from ..build import build_core
from ..graph import NeighbourGraph
from ..results import Norms, region_sums
from .collective import agree, mpi, reduce_sum, stage
from .decompose import IDBITS, Order, decompose
from .load import Meta, Points, load


def local_inputs(
    local: Points, flags: np.ndarray, meta: Meta, rmax: float, key_order: Order | None = None
) -> tuple[Any, ...]:
    """Arguments for the core build, and whether data and randoms were swapped.

    The core refuses an empty data catalogue and a single point: a rank whose
    points are all randoms builds them as "data" (counts then reversed by
    type); a rank with fewer than two points builds two far-apart buffer
    points, which form no tuple but give the canonical shape tables.
    """
    isr = (local.key & 1).astype(bool)
    swapped = False
    if len(local) < 2:
        far = meta.boxsize / 2.0 if meta.boxsize else 10.0 * rmax + 1.0
        d = np.array([[0.0, far], [0.0, far], [0.0, far]])
        none = np.zeros(2, np.uint32)
        return d, None, None, None, np.array([0, 1], np.uint64), np.ones(2, np.uint8), none, False
    if not (~isr).any():
        isr = ~isr
        swapped = True
    dsel, rsel = np.flatnonzero(~isr), np.flatnonzero(isr)
    d = np.ascontiguousarray(local.pos[dsel].T)
    r = np.ascontiguousarray(local.pos[rsel].T) if len(rsel) else None
    dweighted = meta.random_weighted if swapped else meta.data_weighted
    rweighted = meta.data_weighted if swapped else meta.random_weighted
    dw = np.ascontiguousarray(local.w[dsel]) if dweighted else None
    rw = np.ascontiguousarray(local.w[rsel]) if (rweighted and r is not None) else None
    sel = np.concatenate([dsel, rsel])
    ids = (
        (local.key[sel] >> 1).astype(np.uint64)
        if key_order is None
        else key_order.ids(local.pos[sel], local.key[sel])
    )
    reg = local.region[sel].astype(np.uint32)
    return d, dw, r, rw, ids, np.ascontiguousarray(flags[sel]), reg, swapped


def owned_norms(
    comm: Any, local: Points, flags: np.ndarray, meta: Meta
) -> tuple[Norms, Norms | None, tuple | None]:
    """Global weight power sums from the owned points of every rank."""
    MPI = mpi()
    owned = flags == 0
    isr = (local.key & 1).astype(bool)
    sums = np.zeros(10)
    counts = np.zeros(2, dtype=np.int64)
    for t, sel in enumerate((owned & ~isr, owned & isr)):
        w = local.w[sel]
        counts[t] = sel.sum()
        sums[5 * t + 1 : 5 * t + 5] = [(w**k).sum() for k in (1, 2, 3, 4)]
    tot, ntot = np.empty(10), np.empty(2, dtype=np.int64)
    comm.Allreduce(sums, tot, op=MPI.SUM)
    comm.Allreduce(counts, ntot, op=MPI.SUM)
    region = None
    if meta.nregions:
        per = np.stack(
            [
                region_sums(local.region[sel], local.w[sel], meta.nregions)
                for sel in (owned & ~isr, owned & isr)
            ]
        )
        comm.Allreduce(MPI.IN_PLACE, per, op=MPI.SUM)
        region = (per[0], per[1] if meta.has_randoms else None, (True, True))
    out = []
    for t, weighted in enumerate((meta.data_weighted, meta.random_weighted)):
        n = int(ntot[t])
        out.append(
            Norms(n, *map(float, tot[5 * t + 1 : 5 * t + 5])) if weighted else Norms.of(n, None)
        )
    return out[0], (out[1] if meta.has_randoms else None), region


class DistributedGraph(NeighbourGraph):
    """This rank's share of a neighbour graph spread over an MPI communicator.

    Nodes are the rank's owned points plus buffer copies (``buffer == 1``)
    of points within rmax of its domain. ``n_nodes``, ``n_edges``,
    :meth:`to_arrow` and :meth:`save` describe the local share; the count
    methods count locally and reduce over the communicator, returning the
    global result on rank 0 (``None`` elsewhere) or on every rank when
    ``allreduce`` is set.

    With more than one rank the node column ``index`` holds the owner key
    ``(q << 36) | row`` (q: position along the first cut axis, see
    :class:`~astrograph.clustering.mpi.decompose.Order`); :meth:`rows` gives
    the input rows. On a rank whose points are all randoms the local graph
    stores them as data nodes (the core needs a data catalogue); counts are
    mapped back.
    """

    def __init__(
        self,
        inner: Any,
        comm: Any,
        meta: Meta,
        norms: tuple[Norms, Norms | None, tuple | None],
        swapped: bool,
        allreduce: bool,
        n_owned: int,
        n_buffer: int,
    ) -> None:
        super().__init__(inner)
        self.comm = comm
        self.allreduce = allreduce
        self.n_owned = n_owned
        self.n_buffer = n_buffer
        self._meta = meta
        self._global_norms = norms
        self._swapped = swapped

    @classmethod
    def build(  # type: ignore[override]
        cls, data: Any, randoms: Any = None, *, comm: Any, allreduce: bool = False, **options: Any
    ) -> DistributedGraph:
        """Builds this rank's share of the neighbour graph (collective over ``comm``).

        ``options`` are those of :meth:`NeighbourGraph.build`; arrays are read
        on rank 0, file paths are read in slices by every rank. ``max_memory``
        is the budget per rank ("auto": half the memory available now, shared
        among the ranks of one node), checked on every rank before any rank
        builds. Counts are reduced to rank 0, or to every rank with ``allreduce``.

        Raises
        ------
        MPIError
            On every rank, when any rank failed (bad input, unreadable file,
            memory budget exceeded); the message names the first failing rank.
        """
        o = inspect.signature(NeighbourGraph.build).bind(data, randoms, **options)
        o.apply_defaults()
        return cls._build(comm, allreduce, **o.arguments)

    @classmethod
    def _build(
        cls,
        comm: Any,
        allreduce: bool,
        data: Any,
        randoms: Any,
        rmax: float,
        rmin: float,
        data_weights: Any,
        random_weights: Any,
        data2: Any,
        randoms2: Any,
        data2_weights: Any,
        random2_weights: Any,
        boxsize: float | None,
        los: str | None,
        regions: Any,
        store_mu: bool,
        max_memory: Any,
        num_threads: int | None,
        progress: bool,
    ) -> DistributedGraph:
        two = any(v is not None for v in (data2, randoms2, data2_weights, random2_weights))
        agree(
            comm,
            InputError(
                "a distributed graph holds one tracer; count cross-correlations over MPI "
                "with astrograph.count_pairs(..., data2=..., comm=comm)"
            )
            if two
            else None,
        )
        pts, meta = load(comm, data, randoms, data_weights, random_weights, boxsize, los, regions)
        local, flags, order = decompose(comm, pts, meta, float(rmax))
        del pts
        norms = owned_norms(comm, local, flags, meta)
        d, dw, r, rw, ids, buf, reg, swapped = local_inputs(local, flags, meta, float(rmax), order)
        n_local, n_owned = len(local), int((flags == 0).sum())
        del local, flags  # the core copies what it needs
        budget = rank_budget(comm, max_memory)
        args = (d, dw, r, rw, meta.boxsize, meta.los)

        def check_memory() -> None:
            if budget is None or n_local < 2:
                return
            est = build_core(
                *args,
                rmin=rmin,
                rmax=rmax,
                store_mu=store_mu,
                num_threads=num_threads,
                estimate_only=True,
            )
            if est["bytes"] > budget:
                raise MemoryBudgetError(
                    f"this rank's neighbour graph needs an estimated {est['bytes']:.3e} bytes, over "
                    f"the budget of {budget:.3e} bytes per rank: use more ranks, a smaller rmax "
                    f"or raise max_memory"
                )

        stage(comm, check_memory)
        show = progress and comm.Get_rank() == 0
        g = stage(
            comm,
            build_core,
            *args,
            rmin=rmin,
            rmax=rmax,
            store_mu=store_mu,
            max_memory="unlimited",
            ids=ids,
            buffer=buf,
            regions=reg if meta.nregions else None,
            nregions=meta.nregions,
            num_threads=num_threads,
            progress=show,
        )
        return cls(g, comm, meta, norms, swapped, allreduce, n_owned, n_local - n_owned)

    def rows(self) -> np.ndarray:
        """Row of each node in its input catalogue (data and randoms numbered apart)."""
        index = self.to_arrow().column("index").to_numpy()
        return index & np.uint64((1 << IDBITS) - 1)

    @property
    def exact(self) -> bool:
        """Unweighted input: counts are reduced as 64-bit integers."""
        return not (self._meta.data_weighted or self._meta.random_weighted)

    @property
    def is_root(self) -> bool:
        """Whether this rank receives the reduced counts."""
        return self.allreduce or self.comm.Get_rank() == 0

    # -- hooks ---------------------------------------------------------------
    def _local(
        self, label: str, num_threads: int | None, progress: bool, fn: Callable[..., Any]
    ) -> Any:
        show = progress and self.comm.Get_rank() == 0
        return stage(self.comm, super()._local, label, num_threads, show, fn)

    def _reduce(
        self, counts: list[np.ndarray], tables: np.ndarray, groups: int = 1
    ) -> list[np.ndarray] | None:
        if self._swapped:  # this rank's randoms were built as data: DD <-> RR, ...
            n = len(counts) // groups
            counts = [c for g in range(groups) for c in counts[g * n : (g + 1) * n][::-1]]
            t = np.asarray(tables).reshape(-1, groups, n, np.size(counts[0]))
            tables = t[:, :, ::-1].ravel()
        arrays = [*counts, tables]
        return reduce_sum(self.comm, arrays, exact=self.exact, allreduce=self.allreduce)

    def _norms(self) -> tuple[Norms, Norms | None, tuple | None]:
        return self._global_norms

    def __repr__(self) -> str:
        return (
            f"DistributedGraph(rank {self.comm.Get_rank()}/{self.comm.Get_size()}: "
            f"{self.n_owned} owned + {self.n_buffer} buffer nodes, {self.n_edges} edges, "
            f"rmax={self.rmax}, boxsize={self.boxsize})"
        )


def rank_budget(comm: Any, max_memory: int | str | None) -> int | None:
    """Bytes allowed per rank; "auto" shares half the free memory among a node's ranks."""
    if max_memory is None or max_memory == "auto":
        node = comm.Split_type(mpi().COMM_TYPE_SHARED)
        try:
            per_node = node.Get_size()
        finally:
            node.Free()
        return int(inputs.budget("auto") / per_node)
    return inputs.budget(max_memory)


def smax(rp_max: float, pimax: float) -> float:
    """The search radius of (rp, pi) counts, as the core computes it."""
    s = float(np.sqrt(rp_max * rp_max + pimax * pimax))
    return float(np.nextafter(np.nextafter(s, np.inf), np.inf))


def count_rppi(
    data: Any,
    randoms: Any = None,
    *,
    rp_bins: Any,
    pimax: float,
    npi: int | None = None,
    comm: Any,
    allreduce: bool = False,
    max_memory: int | str | None = "auto",
    num_threads: int | None = None,
    progress: bool = False,
    **catalogue: Any,
) -> Any:
    """(rp, pi) pair counts over MPI ranks, as :func:`count` does for pairs."""
    rp = as_bins(rp_bins)
    g = DistributedGraph.build(
        data,
        randoms,
        rmax=smax(rp.rmax, pimax),
        store_mu=False,
        max_memory=max_memory,
        num_threads=num_threads,
        progress=progress,
        comm=comm,
        allreduce=allreduce,
        **catalogue,
    )
    return g.count_pairs_rppi(
        rp, pimax=pimax, npi=npi, max_memory=max_memory, num_threads=num_threads, progress=progress
    )


def count(
    kind: str,
    data: Any,
    randoms: Any = None,
    *,
    bins: Bins | Any,
    comm: Any,
    allreduce: bool = False,
    max_memory: int | str | None = "auto",
    num_threads: int | None = None,
    progress: bool = False,
    parity: bool = False,
    **catalogue: Any,
) -> Any:
    """Pair, triangle or quad counts (``kind`` = "pairs", "triangles", "quads")
    over MPI ranks: each rank builds the graph of its domain plus buffer,
    counts the tuples it owns, and the counts are reduced to rank 0 (to every
    rank with ``allreduce``; other ranks get None). ``catalogue`` holds the
    weights, ``boxsize`` and ``los`` of :meth:`NeighbourGraph.build`;
    ``max_memory`` is per rank.
    """
    b = as_bins(bins)
    g = DistributedGraph.build(
        data,
        randoms,
        rmax=b.rmax,
        rmin=b.rmin,
        store_mu=kind == "pairs" and b.nmu > 1,
        max_memory=max_memory,
        num_threads=num_threads,
        progress=progress,
        comm=comm,
        allreduce=allreduce,
        **catalogue,
    )
    if kind == "pairs":
        return g.count_pairs(b, num_threads=num_threads, progress=progress)
    if kind == "triangles":
        return g.count_triangles(b, num_threads=num_threads, progress=progress)
    return g.count_quads(
        b, parity=parity, max_memory=max_memory, num_threads=num_threads, progress=progress
    )
