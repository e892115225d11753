"""The public entry points: the one module that picks between this process
(:mod:`~astrograph.clustering.direct`,
:class:`~astrograph.clustering.graph.NeighbourGraph`) and MPI ranks
(:mod:`~astrograph.clustering.mpi`). Each takes the signature of its local
function plus ``comm`` and ``allreduce``."""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from typing import Any

from . import direct, multipoles, quad_multipoles, twopoint
from .graph import NeighbourGraph
from .mpi import graph as mpi_graph
from .mpi import multipoles as mpi_multipoles
from .mpi import twopoint as mpi_twopoint

_COMM_DOC = """
    comm : mpi4py communicator, optional
        Spread the work over the ranks of ``comm`` (see docs/mpi.md): input
        arrays are taken from rank 0 (file paths are read in slices by every
        rank), ``max_memory`` is per rank, and the result is returned on
        rank 0 (None on the other ranks).
    allreduce : bool
        With ``comm``, return the result on every rank.
"""


def _with_comm(local: Callable[..., Any], distributed: Callable[..., Any]) -> Callable[..., Any]:
    """``local``'s signature plus ``comm=None, allreduce=False``; runs
    ``local`` without ``comm`` and ``distributed`` with it."""

    @functools.wraps(local)
    def entry(*args: Any, comm: Any = None, allreduce: bool = False, **kwargs: Any) -> Any:
        if comm is None:
            return local(*args, **kwargs)
        return distributed(*args, comm=comm, allreduce=allreduce, **kwargs)

    sig = inspect.signature(local)
    keyword = inspect.Parameter.KEYWORD_ONLY
    params = [p for p in sig.parameters.values() if p.name != "cls"]
    params += [
        inspect.Parameter("comm", keyword, default=None, annotation="Any"),
        inspect.Parameter("allreduce", keyword, default=False, annotation="bool"),
    ]
    entry.__signature__ = sig.replace(parameters=params)  # type: ignore[attr-defined]
    doc = inspect.getdoc(local) or ""
    head, sep, tail = doc.partition("\nReturns\n")
    entry.__doc__ = head.rstrip() + "\n" + inspect.cleandoc(_COMM_DOC) + "\n" + sep + tail
    return entry


count_pairs = _with_comm(twopoint.count_pairs, mpi_twopoint.counter("smu"))
count_angular = _with_comm(twopoint.count_angular, mpi_twopoint.counter("theta"))
count_triangles = _with_comm(
    direct.count_triangles, functools.partial(mpi_graph.count, "triangles")
)
count_quads = _with_comm(direct.count_quads, functools.partial(mpi_graph.count, "quads"))
count_pairs_rppi = _with_comm(twopoint.count_pairs_rppi, mpi_twopoint.counter("rppi"))
build_graph = _with_comm(NeighbourGraph.build, mpi_graph.DistributedGraph.build)
build_graph.__name__ = build_graph.__qualname__ = "build_graph"


count_triangle_multipoles = _with_comm(
    multipoles.count_triangle_multipoles, mpi_multipoles.count_triangle_multipoles
)

count_quad_multipoles = _with_comm(
    quad_multipoles.count_quad_multipoles, mpi_multipoles.count_quad_multipoles
)
