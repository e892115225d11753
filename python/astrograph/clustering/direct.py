"""Counts straight from the catalogues in this process (no stored graph, no MPI).

Each function validates its input, calls one core function with the GIL
released and builds its result with the result's one constructor. The
public entry points (:mod:`astrograph.clustering.api`) add ``comm=``.
"""

from __future__ import annotations

from typing import Any

from .. import _lib
from .._progress import progress_bar
from . import inputs
from .bins import Bins, as_bins
from .results import Norms, PairCounts, QuadCounts, TriangleCounts


def _norms(d, dw, r, rw) -> tuple[Norms, Norms | None]:
    return Norms.of(d.shape[1], dw), (None if r is None else Norms.of(r.shape[1], rw))


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
) -> PairCounts:
    """Exact DD, DR and RR from a cell grid; see :func:`astrograph.count_pairs`."""
    b = as_bins(bins)
    d, dw, r, rw, boxsize, los = inputs.catalogues(
        data, randoms, data_weights, random_weights, boxsize, los
    )
    with progress_bar("pair counts", progress) as cb:
        raw = _lib.count_pairs(
            d,
            dw,
            r,
            rw,
            b.edges.tolist(),
            b.nmu,
            boxsize,
            los,
            num_threads=inputs.num_threads(num_threads),
            progress=cb,
        )
    return PairCounts.from_raw(b, raw, *_norms(d, dw, r, rw), boxsize)


def _npoint(
    kind: str,
    data: Any,
    randoms: Any,
    bins: Bins | Any,
    data_weights: Any,
    random_weights: Any,
    boxsize: float | None,
    max_memory: Any,
    num_threads: int | None,
    progress: bool,
) -> tuple[Any, PairCounts]:
    """The core's raw triangle or quad counts and the pair counts of the same bins."""
    b = Bins(as_bins(bins).edges)  # N-point counts take no mu bins
    d, dw, r, rw, boxsize, _ = inputs.catalogues(
        data, randoms, data_weights, random_weights, boxsize, None
    )
    fn = _lib.count_triangles if kind == "triangles" else _lib.count_quads
    nt = inputs.num_threads(num_threads)
    with progress_bar(kind, progress) as cb:
        raw = fn(
            d,
            dw,
            r,
            rw,
            b.edges.tolist(),
            boxsize,
            max_memory=inputs.budget(max_memory),
            num_threads=nt,
            progress=cb,
        )
    pairs = _lib.count_pairs(d, dw, r, rw, b.edges.tolist(), 1, boxsize, "z", num_threads=nt)
    return raw, PairCounts.from_raw(b, pairs, *_norms(d, dw, r, rw), boxsize)


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
) -> TriangleCounts:
    """Exact DDD, DDR, DRR, RRR; see :func:`astrograph.count_triangles`."""
    raw, pairs = _npoint(
        "triangles",
        data,
        randoms,
        bins,
        data_weights,
        random_weights,
        boxsize,
        max_memory,
        num_threads,
        progress,
    )
    return TriangleCounts.from_raw(raw, pairs)


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
) -> QuadCounts:
    """Exact DDDD ... RRRR by shape; see :func:`astrograph.count_quads`."""
    (shapes, counts), pairs = _npoint(
        "quads",
        data,
        randoms,
        bins,
        data_weights,
        random_weights,
        boxsize,
        max_memory,
        num_threads,
        progress,
    )
    return QuadCounts.from_raw(shapes, counts, pairs)
