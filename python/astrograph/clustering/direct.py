"""Counts straight from the catalogues in this process (no stored graph, no MPI).

Each function validates its input, calls one core function with the GIL
released and builds its result with the result's one constructor. The
public entry points (:mod:`astrograph.clustering.api`) add ``comm=``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from .. import _lib
from .._progress import progress_bar
from ..errors import InputError
from . import inputs, sanity
from .bins import Bins, as_bins
from .regions import make as make_regions
from .results import Norms, PairCounts, QuadCounts, TriangleCounts, region_sums

PARAMETERS = """
    data, randoms : ndarray (N, 3) or Catalog
        Comoving positions; ``randoms`` is optional (in a periodic box the
        random counts are computed analytically).
    bins : Bins or array_like of edges
    data_weights, random_weights : ndarray, optional
        Per-point weights (taken from a Catalog when not given).
    boxsize : float, optional
        Periodic box size: minimum-image separations; rmax must be < boxsize/2.
    num_threads : int, optional
        Threads to use (None: all cores).
    progress : bool
        Show a progress bar.
    regions : int or (data labels, random labels), optional
        Count in one pass the tables for error bars over these regions: a
        number K (equal sub-cubes of a periodic box, K = n^3; otherwise K
        patches on the sky by k-means on the data's directions, randoms
        taking the nearest patch) or integer labels per point. The result's
        ``cov``, ``std`` and ``realisations`` then give jackknife (delete-one,
        exact) or bootstrap errors of any statistic.
    max_memory : int, str, "auto" or "unlimited"
        Bound on the count tables (and neighbour lists), checked before they
        are allocated; "auto": half the free memory."""


def _norms(d, dw, r, rw) -> tuple[Norms, Norms | None]:
    return Norms.of(d.shape[1], dw), (None if r is None else Norms.of(r.shape[1], rw))


def region_arguments(spec: Any, d, dw, r, rw, boxsize) -> tuple[dict[str, Any], tuple | None]:
    """Core arguments for the regions (labels of data then randoms, their
    number) and the per-region weight sums; nothing without regions."""
    made = make_regions(spec, d, r, boxsize)
    if made is None:
        return {}, None
    dl, rl, k = made
    labels = dl if rl is None else np.concatenate([dl, rl])
    sums = (
        region_sums(dl, dw, k),
        None if rl is None else region_sums(rl, rw, k),
        (dw is not None, rw is not None),
    )
    return {"regions": labels.astype(np.uint32), "nregions": k}, sums


def _npoint(
    kind: str,
    data: Any,
    randoms: Any,
    bins: Bins | Any,
    data_weights: Any,
    random_weights: Any,
    boxsize: float | None,
    regions_spec: Any,
    max_memory: Any,
    num_threads: int | None,
    progress: bool,
    parity: bool = False,
) -> tuple[Any, PairCounts]:
    """The core's raw triangle or quad counts and the pair counts of the same bins."""
    if parity and kind != "quads":
        raise InputError("triangles have no handedness: parity=True applies to count_quads")
    b = Bins(as_bins(bins).edges)  # N-point counts take no mu bins
    d, dw, r, rw, boxsize, _ = inputs.catalogues(
        data, randoms, data_weights, random_weights, boxsize, None
    )
    sanity.check_catalogues({"D1": d, "R1.0": r}, boxsize)
    reg, sums = region_arguments(regions_spec, d, dw, r, rw, boxsize)
    budget = inputs.budget(max_memory)
    fn = _lib.count_triangles if kind == "triangles" else _lib.count_quads
    nt = inputs.num_threads(num_threads)
    n = d.shape[1] + (0 if r is None else r.shape[1])
    with progress_bar(["neighbour lists", kind], progress, n) as cb:
        raw = fn(
            d,
            dw,
            r,
            rw,
            b.edges.tolist(),
            boxsize,
            max_memory=budget,
            **reg,
            parity=bool(parity),
            num_threads=nt,
            progress=cb,
        )
    # The pairs of the same bins (for xi and Q): one tracer, no mu.
    labels = reg.get("regions")
    nd = d.shape[1]
    cat = lambda pos, w, lab: (pos, w, None, None, lab, None, None)  # noqa: E731
    names, tables, jk = _lib.count_two_point(
        cat(d, dw, None if labels is None else labels[:nd]),
        [] if r is None else [cat(r, rw, None if labels is None else labels[nd:])],
        None,
        [],
        ("smu", b.edges.tolist(), 0.0, 1, False),
        boxsize,
        "z" if boxsize else "midpoint",
        nregions=reg.get("nregions", 0),
        max_memory=budget,
        num_threads=nt,
    )
    norms = _norms(d, dw, r, rw)
    sanity.check_counts(names, tables, {"D1": norms[0], "R1.0": norms[1]})
    return raw, PairCounts.from_raw(b, [*tables, jk], *norms, boxsize, sums)


def _npoint_counter(kind: str, summary: str) -> Callable[..., Any]:
    """count_triangles or count_quads: one signature, one body."""

    def count(
        data: Any,
        randoms: Any = None,
        *,
        bins: Bins | Any,
        data_weights: Any = None,
        random_weights: Any = None,
        boxsize: float | None = None,
        regions: Any = None,
        parity: bool = False,
        max_memory: int | str | None = "auto",
        num_threads: int | None = None,
        progress: bool = False,
    ) -> Any:
        raw, pairs = _npoint(
            kind,
            data,
            randoms,
            bins,
            data_weights,
            random_weights,
            boxsize,
            regions,
            max_memory,
            num_threads,
            progress,
            parity,
        )
        if kind == "triangles":
            return TriangleCounts.from_raw(*raw, pairs)
        return QuadCounts.from_raw(*raw, pairs)

    count.__name__ = count.__qualname__ = f"count_{kind}"
    count.__doc__ = f"""{summary}

    Parameters
    ----------{PARAMETERS}
    parity : bool
        Quads only: also sum w times the handedness of every quad of a chiral
        shape (the parity-odd 4-point counts, see ``QuadCounts.zeta_odd``).

    Returns
    -------
    {"TriangleCounts" if kind == "triangles" else "QuadCounts"}
    """
    return count


count_triangles = _npoint_counter(
    "triangles",
    """Exact DDD, DDR, DRR, RRR in one pass over the combined data + random points.

    Finds the neighbour lists for ``bins`` (no stored graph) and intersects
    them; the counts equal ``NeighbourGraph.build(...).count_triangles(bins)``.
    See :class:`~astrograph.clustering.results.TriangleCounts` for the
    conventions. In a periodic box no randoms are needed (RRR is analytic).""",
)
count_quads = _npoint_counter(
    "quads",
    """Exact 4-point counts (DDDD ... RRRR) by canonical shape of the six side bins.

    See :class:`~astrograph.clustering.results.QuadCounts` for the conventions.""",
)
