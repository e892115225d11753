"""3PCF and 4PCF multipoles over MPI ranks: each rank takes the points of its
domain as vertices and its buffer (every point within rmax of the domain) as
neighbours only, with the random scale of the whole catalogue; the sums and
the jackknife tables add up over ranks."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from ... import _lib
from ..._progress import progress_bar
from ...errors import InputError
from .. import inputs
from ..bins import Bins, as_bins
from ..multipoles import NEEDS_RANDOMS, check_lmax
from ..quad_multipoles import check_disconnected, check_quad_arguments, region_scales
from ..results import QuadMultipoles, TriangleMultipoles
from .collective import reduce_sum, stage
from .decompose import decompose
from .graph import owned_norms, rank_budget
from .load import load


def count_triangle_multipoles(
    data: Any,
    randoms: Any = None,
    *,
    bins: Bins | Any,
    lmax: int = 10,
    comm: Any,
    allreduce: bool = False,
    max_memory: int | str | None = "auto",
    num_threads: int | None = None,
    progress: bool = False,
    **catalogue: Any,
) -> TriangleMultipoles | None:
    """:func:`~astrograph.clustering.count_triangle_multipoles` over the
    ranks of ``comm``; the result on rank 0 (every rank with ``allreduce``).
    ``catalogue`` holds the weights, ``boxsize`` and ``regions`` of the local
    function; ``max_memory`` is per rank."""
    b = Bins(as_bins(bins).edges)
    check_lmax(lmax)
    side = _local_side(comm, data, randoms, b, catalogue)
    if not side.meta.has_randoms and side.meta.boxsize is None:
        raise InputError(NEEDS_RANDOMS)
    meta, scale = side.meta, side.scale
    reg = side.region_args()
    with progress_bar("multipoles", progress and comm.Get_rank() == 0, side.n) as cb:
        raw = stage(
            comm,
            _lib.count_multipoles,
            *side.arrays,
            b.edges.tolist(),
            lmax,
            meta.boxsize,
            max_memory=rank_budget(comm, max_memory),
            **reg,
            primaries=side.primaries,
            random_scale=scale,
            num_threads=inputs.num_threads(num_threads),
            progress=cb,
        )
    field, rand, _, typed, jk = raw
    if meta.has_randoms and not len(rand):
        rand = np.zeros_like(field)
    total = reduce_sum(comm, [field, rand, typed, jk], exact=False, allreduce=allreduce)
    if total is None:
        return None
    field, rand, typed, jk = total
    raw = (field, rand, 0.0 if scale is None else scale, typed, jk)
    return TriangleMultipoles.from_raw(b, lmax, raw, side.dnorm, meta.boxsize, side.sums)


def count_quad_multipoles(
    data: Any,
    randoms: Any = None,
    *,
    bins: Bins | Any,
    lmax: int = 4,
    parity: str = "both",
    comm: Any,
    allreduce: bool = False,
    disconnected: bool = False,
    max_memory: int | str | None = "auto",
    num_threads: int | None = None,
    progress: bool = False,
    **catalogue: Any,
) -> QuadMultipoles | None:
    """:func:`~astrograph.clustering.count_quad_multipoles` over the ranks
    of ``comm``; the result on rank 0 (every rank with ``allreduce``).
    ``catalogue`` holds the weights, ``boxsize`` and ``regions`` of the local
    function; ``max_memory`` is per rank."""
    b = check_quad_arguments(bins, lmax, parity)
    side = _local_side(comm, data, randoms, b, catalogue)
    meta, scale = side.meta, side.scale
    check_disconnected(disconnected, meta.has_randoms, bool(meta.nregions))
    reg = side.region_args()
    if meta.nregions:
        reg["region_scales"] = region_scales(side.sums, meta.has_randoms)
    with progress_bar("4-point multipoles", progress and comm.Get_rank() == 0, side.n) as cb:
        raw = stage(
            comm,
            _lib.count_quad_multipoles,
            *side.arrays,
            b.edges.tolist(),
            lmax,
            parity,
            meta.boxsize,
            max_memory=rank_budget(comm, max_memory),
            **reg,
            primaries=side.primaries,
            random_scale=scale,
            disconnected=bool(disconnected),
            num_threads=inputs.num_threads(num_threads),
            progress=cb,
        )
    field, rand, _, ells, triplets, jk, scales, sums = raw
    if meta.has_randoms and not len(rand):
        rand = np.zeros_like(field)
    total = reduce_sum(comm, [field, rand, jk, sums], exact=False, allreduce=allreduce)
    if total is None:
        return None
    s = 0.0 if scale is None else scale
    raw = (total[0], total[1], s, ells, triplets, total[2], scales, total[3])
    return QuadMultipoles.from_raw(b, lmax, parity, raw, side.dnorm, meta.boxsize, side.sums)


@dataclass
class _Side:
    """A rank's share for a multipole count: the core's arrays (data then
    randoms, (3, N) positions), which of them are its own primaries, their
    region labels, the whole catalogue's random scale and norms."""

    arrays: tuple
    primaries: np.ndarray
    labels: np.ndarray
    scale: float | None
    n: int
    meta: Any
    dnorm: Any
    sums: Any

    def region_args(self) -> dict[str, Any]:
        """The core's region arguments (labels and their number; none
        without regions)."""
        if not self.meta.nregions:
            return {}
        return {"regions": self.labels.astype(np.uint32), "nregions": self.meta.nregions}


def _local_side(comm: Any, data: Any, randoms: Any, b: Bins, catalogue: dict) -> _Side:
    pts, meta = _load(comm, data, randoms, **catalogue)
    local, flags, _ = decompose(comm, pts, meta, float(b.rmax), symmetric=True)
    del pts
    dnorm, rnorm, sums = owned_norms(comm, local, flags, meta)
    scale = -dnorm.s1 / rnorm.s1 if rnorm is not None else None
    isr = (local.key & 1).astype(bool)
    # Data first, then randoms, as the core numbers them; two zero-weight
    # points far from everything stand in for an empty side (the core refuses
    # an empty data catalogue), adding exactly nothing.
    dsel, rsel = np.flatnonzero(~isr), np.flatnonzero(isr)
    low = local.pos.min(axis=0) if len(local) else np.zeros(3)
    far = low - np.array([[2.0], [4.0]]) * (b.rmax + 1.0)
    if meta.boxsize:
        far = np.array([[0.25, 0.5, 0.75], [0.75, 0.25, 0.5]]) * meta.boxsize + 1e-7
    pad = len(dsel) == 0
    d = np.vstack([local.pos[dsel], far]) if pad else local.pos[dsel]
    dw = np.concatenate([local.w[dsel], np.zeros(2)]) if pad else local.w[dsel]
    primaries = np.concatenate([flags[dsel] == 0, np.zeros(2, bool) if pad else []]).astype(bool)
    labels = np.concatenate([local.region[dsel], np.zeros(2, np.uint32) if pad else []])
    r = rw = None
    if len(rsel):  # without local randoms, the global scale still applies
        r, rw = local.pos[rsel], local.w[rsel]
        primaries = np.concatenate([primaries, flags[rsel] == 0])
        labels = np.concatenate([labels, local.region[rsel]])
    arrays = (
        np.ascontiguousarray(d.T),
        np.ascontiguousarray(dw),
        None if r is None else np.ascontiguousarray(r.T),
        None if rw is None else np.ascontiguousarray(rw),
    )
    return _Side(arrays, primaries, labels, scale, len(local), meta, dnorm, sums)


def _load(
    comm: Any,
    data: Any,
    randoms: Any,
    *,
    data_weights: Any = None,
    random_weights: Any = None,
    boxsize: float | None = None,
    regions: Any = None,
) -> Any:
    """The catalogues spread over the ranks (unknown keywords refused)."""
    return load(comm, data, randoms, data_weights, random_weights, boxsize, None, regions)
