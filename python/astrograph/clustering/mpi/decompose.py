"""Domain decomposition: owners by recursive coordinate bisection, rmax buffers.

Every rank ends up holding the points of one domain of a recursive
coordinate bisection (RCB) of data and randoms together, balanced by point
count, plus a *buffer*: copies of points owned elsewhere that lie within
``rmax`` of the bounding box of its owned points (with minimum-image
distances in a periodic box) and that it may need. Buffer copies carry the
node property ``buffer = 1`` in the local graph.

Counting rule (implemented in the core): a pair, triangle or quad is counted
on the rank that owns its vertex of smallest key ``(id << 1) | is_random``.
Any key order shared by all ranks works; here ``id = (q << 36) | row`` with
``q`` the position along the first RCB cut axis (:class:`Order`), so that a
rank needs buffer points only on the larger-key side of the faces of that
cut. Every side of a counted tuple is shorter than ``rmax``, so all other
vertices lie within ``rmax`` of the smallest-key vertex *v* and have larger
keys: rank *k* owning *v* receives every point within ``rmax`` of its box
that has a smaller-key owned point of *k* within ``rmax`` (tested
conservatively with a table of occupied key bins), so the tuple is complete
there. On any other rank *v* is absent or a buffer copy, so the tuple is not
counted: each tuple is counted exactly once.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from .collective import mpi
from .load import Meta, Points

#: Total number of points sampled (over all ranks) to place the RCB cuts.
RCB_SAMPLE = 200_000
#: Relative slack on rmax when selecting buffer points (extra copies are harmless).
BUFFER_SLACK = 1e-6


def rcb_tree(sample: np.ndarray, first: int, n: int, weight: np.ndarray | None = None) -> Any:
    """Recursive coordinate bisection of a sample into n domains (ranks first..first+n-1).

    Leaves are rank numbers; nodes are (axis, cut, left, right), points with
    coordinate < cut going left. Non-power-of-two n split proportionally, by
    the sample's ``weight`` (the work of each point) when given, else by
    its count.
    """
    if n == 1:
        return first
    nl = n // 2
    if len(sample) == 0:
        return (0, np.inf, rcb_tree(sample, first, nl), rcb_tree(sample, first + nl, n - nl))
    axis = int(np.argmax(sample.max(axis=0) - sample.min(axis=0)))
    if weight is None:
        cut = float(np.quantile(sample[:, axis], nl / n))
    else:
        order = np.argsort(sample[:, axis], kind="stable")
        cum = np.cumsum(weight[order])
        at = min(int(np.searchsorted(cum, cum[-1] * nl / n)), len(order) - 1)
        cut = float(sample[order[at], axis])
    left = sample[:, axis] < cut
    sub = (None, None) if weight is None else (weight[left], weight[~left])
    return (
        axis,
        cut,
        rcb_tree(sample[left], first, nl, sub[0]),
        rcb_tree(sample[~left], first + nl, n - nl, sub[1]),
    )


def forward_work(sample: np.ndarray, rmax: float) -> np.ndarray:
    """The work of each sample point when tuples belong to their smallest-key
    vertex and keys increase along the first cut's axis (open space): the
    part of the half ball of radius rmax ahead of the point, along that axis,
    that lies inside the catalogue's extent. Points within rmax of the far
    end have fewer pairs to count; balancing by count alone gave the rank at
    the near end ~40 % more work (BAO workload, 2 ranks)."""
    axis = int(np.argmax(sample.max(axis=0) - sample.min(axis=0)))
    h = np.clip(rmax - (sample[:, axis].max() - sample[:, axis]), 0.0, rmax)
    cap = np.pi * h * h * (3.0 * rmax - h) / 3.0
    return np.maximum(1.0 - cap / (2.0 * np.pi * rmax**3 / 3.0), 1e-3)


def assign(tree: Any, pos: np.ndarray) -> np.ndarray:
    out = np.zeros(len(pos), dtype=np.int64)

    def walk(node: Any, idx: np.ndarray) -> None:
        if isinstance(node, int):
            out[idx] = node
            return
        axis, cut, left, right = node
        m = pos[idx, axis] < cut
        walk(left, idx[m])
        walk(right, idx[~m])

    walk(tree, np.arange(len(pos)))
    return out


def exchange(comm: Any, pts: Points, idx: np.ndarray, dest: np.ndarray) -> Points:
    """Alltoallv: sends pts[idx[i]] to rank dest[i]; returns what this rank receives."""
    MPI = mpi()
    size = comm.Get_size()
    order = np.argsort(dest, kind="stable")
    idx, dest = idx[order], dest[order]
    scount = np.bincount(dest, minlength=size).astype(np.int64)
    rcount = np.empty(size, dtype=np.int64)
    comm.Alltoall(scount, rcount)
    sdisp = np.concatenate([[0], np.cumsum(scount)[:-1]])
    rdisp = np.concatenate([[0], np.cumsum(rcount)[:-1]])
    nrecv = int(rcount.sum())
    sent = pts.take(idx)
    out = Points(
        np.empty((nrecv, 3)),
        np.empty(nrecv),
        np.empty(nrecv, dtype=np.int64),
        np.empty(nrecv, dtype=np.int64),
        {k: np.empty((nrecv, *v.shape[1:]), dtype=v.dtype) for k, v in sorted(pts.extra.items())},
    )
    comm.Alltoallv(
        [np.ascontiguousarray(sent.pos), (scount * 3, sdisp * 3), MPI.DOUBLE],
        [out.pos, (rcount * 3, rdisp * 3), MPI.DOUBLE],
    )
    comm.Alltoallv(
        [np.ascontiguousarray(sent.w), (scount, sdisp), MPI.DOUBLE],
        [out.w, (rcount, rdisp), MPI.DOUBLE],
    )
    for name in ("key", "region"):
        comm.Alltoallv(
            [np.ascontiguousarray(getattr(sent, name)), (scount, sdisp), MPI.INT64_T],
            [getattr(out, name), (rcount, rdisp), MPI.INT64_T],
        )
    types = {"f": MPI.DOUBLE, "i": MPI.INT64_T, "u": MPI.UINT64_T}
    for name, arr in sorted(sent.extra.items()):
        row = int(np.prod(arr.shape[1:], dtype=np.int64))
        kind = types[arr.dtype.kind]
        comm.Alltoallv(
            [np.ascontiguousarray(arr), (scount * row, sdisp * row), kind],
            [out.extra[name], (rcount * row, rdisp * row), kind],
        )
    return out


def distance2_to_box(
    pos: np.ndarray, lo: np.ndarray, hi: np.ndarray, box: float | None
) -> np.ndarray:
    """Squared distance from each point to the box [lo, hi] (minimum image with a period)."""
    if box is None:
        d = np.maximum(lo - pos, 0.0) + np.maximum(pos - hi, 0.0)
    else:
        inside = (pos >= lo) & (pos <= hi)
        d = np.where(inside, 0.0, np.minimum(np.mod(lo - pos, box), np.mod(pos - hi, box)))
    return (d * d).sum(axis=1)


QBITS, IDBITS, OCC_BINS = 26, 36, 4096


@dataclass
class Order:
    """A global order of the points along the first RCB axis, for the owner keys.

    The core counts a tuple on the rank owning its smallest-key vertex, for
    any key order shared by all ranks. With keys increasing along the axis of
    the first cut (starting, in a periodic box, from the middle of the lower
    half), each rank needs buffer points only on the side of larger keys
    across those faces: half the buffer there, the same on every rank.
    Key = (q << 36) | row, q the position along the axis quantised to 26 bits.
    """

    axis: int
    start: float
    span: float
    period: float | None

    def t(self, pos: np.ndarray) -> np.ndarray:
        x = pos[:, self.axis] - self.start
        return np.mod(x, self.period) if self.period else x

    def q(self, pos: np.ndarray) -> np.ndarray:
        q = np.floor(self.t(pos) * ((1 << QBITS) / self.span)).astype(np.int64)
        return np.clip(q, 0, (1 << QBITS) - 1)

    def ids(self, pos: np.ndarray, key: np.ndarray) -> np.ndarray:
        return ((self.q(pos) << IDBITS) | (key >> 1)).astype(np.uint64)

    def bins(self, pos: np.ndarray) -> np.ndarray:
        return self.q(pos) >> (QBITS - 12)


def key_order(comm: Any, tree: Any, pts: Points, meta: Meta) -> Order | None:
    """The key order for this decomposition (None: plain row ids, symmetric buffers)."""
    MPI = mpi()
    if isinstance(tree, int) or not np.isfinite(tree[1]):
        return None
    if max(meta.n_data, meta.n_random) >= 1 << IDBITS:
        return None
    axis, cut = int(tree[0]), float(tree[1])
    if meta.boxsize is not None:
        return Order(axis, 0.5 * cut, meta.boxsize, meta.boxsize)
    lo = np.array([pts.pos[:, axis].min() if len(pts) else np.inf])
    hi = np.array([pts.pos[:, axis].max() if len(pts) else -np.inf])
    comm.Allreduce(MPI.IN_PLACE, lo, op=MPI.MIN)
    comm.Allreduce(MPI.IN_PLACE, hi, op=MPI.MAX)
    span = float(hi[0] - lo[0])
    if not span > 0:
        return None
    return Order(axis, float(lo[0]), span * (1 + 1e-9), None)


def needed_by_order(order: Order, pos: np.ndarray, occ_cum: np.ndarray, rmax: float) -> np.ndarray:
    """Points that may have a smaller-key point of the target rank within rmax.

    ``occ_cum`` is the cumulative occupancy of the target rank's owned points
    over the 4096 key bins: a point is needed when that rank owns a point in
    a bin from (t - rmax) to t (and across the period's seam), one bin of
    slack on each side.
    """
    nb = len(occ_cum) - 1
    t = order.t(pos)
    per_bin = order.span / nb
    b_hi = order.bins(pos)
    b_lo = np.clip(np.floor((t - rmax) / per_bin).astype(np.int64) - 1, 0, nb - 1)
    need = occ_cum[b_hi + 1] - occ_cum[b_lo] > 0
    if order.period:
        wrap = t - order.period + rmax
        w = wrap >= -per_bin
        w_hi = np.clip(np.floor(wrap[w] / per_bin).astype(np.int64) + 1, 0, nb - 1)
        need[w] |= occ_cum[w_hi + 1] - occ_cum[0] > 0
    return need


def decompose(
    comm: Any, pts: Points, meta: Meta, rmax: float, symmetric: bool = False
) -> tuple[Points, np.ndarray, Order | None]:
    """RCB owners + rmax buffers: (local points, buffer flags uint8, key order).

    Buffers hold the points a rank's tuples may reach in key order (a tuple
    belongs to its smallest-key vertex); ``symmetric``: every point within
    rmax of the domain (vertex-centred sums such as the multipoles)."""
    rank, size = comm.Get_rank(), comm.Get_size()
    if size == 1:
        return pts, np.zeros(len(pts), np.uint8), None
    ntot = meta.n_data + meta.n_random
    frac = min(1.0, RCB_SAMPLE / max(ntot, 1))
    rng = np.random.default_rng(12345 + rank)
    k = min(len(pts), int(np.ceil(frac * len(pts))))
    sample = pts.pos[rng.choice(len(pts), size=k, replace=False)] if k else np.zeros((0, 3))
    samples = comm.gather(sample, root=0)
    tree = None
    if rank == 0:
        every = np.concatenate(samples)
        by_work = meta.boxsize is None and not symmetric and len(every) > 0
        tree = rcb_tree(every, 0, size, forward_work(every, rmax) if by_work else None)
    tree = comm.bcast(tree, root=0)
    order = key_order(comm, tree, pts, meta)
    owners = assign(tree, pts.pos)
    own = exchange(comm, pts, np.arange(len(pts)), owners)
    # tight bounding boxes of the owned points, shared by all ranks
    bb = np.concatenate([own.pos.min(0), own.pos.max(0)]) if len(own) else np.full(6, np.nan)
    boxes = np.empty((size, 6))
    comm.Allgather(bb, boxes)
    occ_cum = None
    if order is not None:
        occ = np.zeros(1 << 12, np.int64)
        occ[np.unique(order.bins(own.pos))] = 1
        occ_all = np.empty((size, len(occ)), np.int64)
        comm.Allgather(occ, occ_all)
        occ_cum = np.concatenate([np.zeros((size, 1), np.int64), np.cumsum(occ_all, axis=1)], 1)
    reach = rmax * (1.0 + BUFFER_SLACK)
    idx, dest = [], []
    for k in range(size):
        if k == rank or np.isnan(boxes[k, 0]) or len(own) == 0:
            continue
        near = distance2_to_box(own.pos, boxes[k, :3], boxes[k, 3:], meta.boxsize) <= reach**2
        if order is not None and not symmetric:
            sel = np.flatnonzero(near)
            sel = sel[needed_by_order(order, own.pos[sel], occ_cum[k], reach)]
        else:
            sel = np.flatnonzero(near)
        idx.append(sel)
        dest.append(np.full(len(sel), k, dtype=np.int64))
    idx_a = np.concatenate(idx) if idx else np.zeros(0, np.int64)
    dest_a = np.concatenate(dest) if dest else np.zeros(0, np.int64)
    buf = exchange(comm, own, idx_a, dest_a)
    flags = np.concatenate([np.zeros(len(own), np.uint8), np.ones(len(buf), np.uint8)])
    return Points.concat([own, buf]), flags, order
