"""The public count entry points: the one module that picks between counting
in this process (:mod:`~astrograph.clustering.direct`,
:class:`~astrograph.clustering.graph.NeighbourGraph`) and over MPI ranks
(:mod:`~astrograph.clustering.mpi`)."""

from __future__ import annotations

from typing import Any

from . import direct
from .bins import Bins
from .graph import NeighbourGraph
from .mpi import graph as mpi_graph
from .results import PairCounts, QuadCounts, TriangleCounts

_COMMON = """
    data, randoms : ndarray (N, 3), Catalog or (with ``comm``) a file path
        Comoving positions; ``randoms`` is optional (in a periodic box the
        random counts are computed analytically).
    bins : Bins or array_like of edges
    data_weights, random_weights : ndarray, optional
        Per-point weights (taken from a Catalog when not given).
    boxsize : float, optional
        Periodic box size: minimum-image separations; rmax must be < boxsize/2.
    num_threads : int, optional
        Threads per process (None: all cores).
    progress : bool
        Show a progress bar.
    comm : mpi4py communicator, optional
        Spread the work over MPI ranks (see docs/mpi.md): the result is
        returned on rank 0 (None on the other ranks).
    allreduce : bool
        With ``comm``, return the result on every rank."""


def count_pairs(
    data: Any,
    randoms: Any = None,
    *,
    bins: Bins | Any,
    data_weights: Any = None,
    random_weights: Any = None,
    boxsize: float | None = None,
    los: str | None = None,
    num_threads: int | None = None,
    progress: bool = False,
    comm: Any = None,
    allreduce: bool = False,
) -> PairCounts:
    kw = dict(
        bins=bins,
        data_weights=data_weights,
        random_weights=random_weights,
        boxsize=boxsize,
        los=los,
        num_threads=num_threads,
        progress=progress,
    )
    if comm is None:
        return direct.count_pairs(data, randoms, **kw)
    return mpi_graph.count("pairs", data, randoms, **kw, comm=comm, allreduce=allreduce)


count_pairs.__doc__ = f"""Exact DD, DR and RR pair counts straight from a cell grid (no stored graph).

    Parameters
    ----------{_COMMON}
    los : {{"midpoint", "z"}}, optional
        Line of sight for mu; "midpoint" for surveys, "z" (default) in a box.

    Returns
    -------
    PairCounts
    """


def _npoint(kind: str, data: Any, randoms: Any, comm: Any, allreduce: bool, **kw: Any) -> Any:
    if comm is None:
        fn = direct.count_triangles if kind == "triangles" else direct.count_quads
        return fn(data, randoms, **kw)
    return mpi_graph.count(kind, data, randoms, **kw, comm=comm, allreduce=allreduce)


def count_triangles(
    data: Any,
    randoms: Any = None,
    *,
    bins: Bins | Any,
    data_weights: Any = None,
    random_weights: Any = None,
    boxsize: float | None = None,
    max_memory: int | str | None = "auto",
    num_threads: int | None = None,
    progress: bool = False,
    comm: Any = None,
    allreduce: bool = False,
) -> TriangleCounts:
    return _npoint(
        "triangles",
        data,
        randoms,
        comm,
        allreduce,
        bins=bins,
        data_weights=data_weights,
        random_weights=random_weights,
        boxsize=boxsize,
        max_memory=max_memory,
        num_threads=num_threads,
        progress=progress,
    )


count_triangles.__doc__ = f"""Exact DDD, DDR, DRR, RRR in one pass over the combined data + random points.

    Finds the neighbour lists for ``bins`` (no stored graph) and intersects
    them; the counts equal ``NeighbourGraph.build(...).count_triangles(bins)``.
    See :class:`TriangleCounts` for the conventions.

    Parameters
    ----------{_COMMON}
    max_memory : int, "auto" or "unlimited"
        Bound on the neighbour lists (per rank with ``comm``), checked on a
        sampled estimate before they are built; "auto": half the free memory.

    Returns
    -------
    TriangleCounts
    """


def count_quads(
    data: Any,
    randoms: Any = None,
    *,
    bins: Bins | Any,
    data_weights: Any = None,
    random_weights: Any = None,
    boxsize: float | None = None,
    max_memory: int | str | None = "auto",
    num_threads: int | None = None,
    progress: bool = False,
    comm: Any = None,
    allreduce: bool = False,
) -> QuadCounts:
    return _npoint(
        "quads",
        data,
        randoms,
        comm,
        allreduce,
        bins=bins,
        data_weights=data_weights,
        random_weights=random_weights,
        boxsize=boxsize,
        max_memory=max_memory,
        num_threads=num_threads,
        progress=progress,
    )


count_quads.__doc__ = f"""Exact 4-point counts (DDDD ... RRRR) by canonical shape of the six side bins.

    Parameters
    ----------{_COMMON}
    max_memory : int, "auto" or "unlimited"
        Bound on the neighbour lists and count tables (per rank with ``comm``).

    Returns
    -------
    QuadCounts
    """


def build_graph(
    data: Any,
    randoms: Any = None,
    *,
    rmax: float,
    rmin: float = 0.0,
    data_weights: Any = None,
    random_weights: Any = None,
    boxsize: float | None = None,
    los: str | None = None,
    store_mu: bool = True,
    max_memory: int | str | None = "auto",
    num_threads: int | None = None,
    progress: bool = False,
    comm: Any = None,
    allreduce: bool = False,
) -> NeighbourGraph:
    """Builds the neighbour graph in this process (:meth:`NeighbourGraph.build`)
    or, with ``comm``, this rank's share of it
    (:meth:`~astrograph.clustering.mpi.graph.DistributedGraph.build`), whose
    counts are reduced over ``comm`` (to rank 0, or to every rank with
    ``allreduce``). The other parameters are those of
    :meth:`NeighbourGraph.build`."""
    kw = dict(
        rmax=rmax,
        rmin=rmin,
        data_weights=data_weights,
        random_weights=random_weights,
        boxsize=boxsize,
        los=los,
        store_mu=store_mu,
        max_memory=max_memory,
        num_threads=num_threads,
        progress=progress,
    )
    if comm is None:
        return NeighbourGraph.build(data, randoms, **kw)
    return mpi_graph.DistributedGraph.build(data, randoms, **kw, comm=comm, allreduce=allreduce)
