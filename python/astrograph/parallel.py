"""MPI domain decomposition: counts spread over the ranks of an mpi4py communicator.

Every rank ends up holding the points of one domain of a recursive
coordinate bisection (RCB) of data and randoms together, balanced by point
count, plus a *buffer*: copies of points owned elsewhere that lie within
``rmax`` of the bounding box of its owned points (with minimum-image
distances in a periodic box) and that it may need. Buffer copies carry the
node property ``region = 1`` in the local graph.

Counting rule (implemented in the core): a pair, triangle or quad is counted
on the rank that owns its vertex of smallest key ``(id << 1) | is_random``.
Any key order shared by all ranks works; here ``id = (q << 36) | row`` with
``q`` the position along the first RCB cut axis (:class:`_Order`), so that a
rank needs buffer points only on the larger-key side of the faces of that
cut. Every side of a counted tuple is shorter than ``rmax``, so all other
vertices lie within ``rmax`` of the smallest-key vertex *v* and have larger
keys: rank *k* owning *v* receives every point within ``rmax`` of its box
that has a smaller-key owned point of *k* within ``rmax`` (tested
conservatively with a table of occupied key bins), so the tuple is complete
there. On any other rank *v* is absent or a buffer copy, so the tuple is not
counted: each tuple is counted exactly once.

Input: in-memory arrays (or :class:`~astrograph.catalog.Catalog`) are taken
from rank 0 (other ranks may pass ``None``) and scattered; file paths
(Parquet, Arrow IPC/Feather, FITS) are read by every rank as one contiguous
row slice, so no rank holds the whole catalogue (CSV and plain ASCII are read
on rank 0 and scattered). Points are then moved to their owners with
``Alltoallv``.

Errors: each stage runs under a guard; at the end of the stage all ranks
agree, and if any rank failed every rank raises
:class:`~astrograph.errors.MPIError` carrying the first failing rank's
message. mpi4py is imported only here, lazily.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from . import _validate
from .bins import Bins, as_bins
from .errors import InputError, MemoryBudgetError, MPIError
from .graph import NeighbourGraph, _budget
from .paircounts import Norms, PairCounts

#: Total number of points sampled (over all ranks) to place the RCB cuts.
RCB_SAMPLE = 200_000
#: Relative slack on rmax when selecting buffer points (extra copies are harmless).
_BUFFER_SLACK = 1e-6
_FILE_FORMATS = {
    ".parquet": "parquet",
    ".pq": "parquet",
    ".feather": "arrow",
    ".arrow": "arrow",
    ".ipc": "arrow",
    ".fits": "fits",
    ".fit": "fits",
    ".fz": "fits",
}


def _mpi() -> Any:
    try:
        from mpi4py import MPI
    except ImportError:
        raise ImportError("comm= needs mpi4py: pip install 'astrograph[mpi]'") from None
    return MPI


# -- failure handling ---------------------------------------------------------
def _agree(comm: Any, exc: BaseException | None) -> None:
    """Collective: raises MPIError on every rank when any rank passed an exception."""
    msg = None if exc is None else f"{type(exc).__name__}: {exc}"
    msgs = comm.allgather(msg)
    for rank, m in enumerate(msgs):
        if m is not None:
            err = MPIError(f"rank {rank}: {m}")
            err.rank = rank  # type: ignore[attr-defined]
            if exc is not None:
                raise err from exc
            raise err


def _stage(comm: Any, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """Runs ``fn`` on this rank, then agrees with all ranks on success (collective)."""
    try:
        out, err = fn(*args, **kwargs), None
    except Exception as exc:  # reported collectively below
        out, err = None, exc
    _agree(comm, err)
    return out


def abort(comm: Any, exc: BaseException) -> None:
    """CLI error path under MPI: print the message once, make every rank exit.

    An :class:`MPIError` was raised on every rank by the same collective
    agreement, so rank 0 prints it and all ranks return normally (and exit
    non-zero). Any other exception happened on this rank alone, outside a
    guarded stage, and other ranks may be blocked in a collective: the
    message is printed here and ``comm.Abort`` ends the whole job.
    """
    if isinstance(exc, MPIError):
        if comm.Get_rank() == 0:
            print(f"astrograph: error: {exc}", file=sys.stderr, flush=True)
        return
    print(f"astrograph: error on rank {comm.Get_rank()}: {exc}", file=sys.stderr, flush=True)
    comm.Abort(2)


# -- points ---------------------------------------------------------------------
@dataclass
class _Points:
    """Points held by this rank: positions (n, 3), weights (n,), keys (id << 1 | is_random)."""

    pos: np.ndarray
    w: np.ndarray
    key: np.ndarray

    @classmethod
    def empty(cls) -> _Points:
        return cls(np.zeros((0, 3)), np.zeros(0), np.zeros(0, np.int64))

    def __len__(self) -> int:
        return len(self.key)

    def take(self, idx: np.ndarray) -> _Points:
        return _Points(self.pos[idx], self.w[idx], self.key[idx])

    @staticmethod
    def concat(parts: list[_Points]) -> _Points:
        return _Points(
            np.concatenate([p.pos for p in parts]).reshape(-1, 3),
            np.concatenate([p.w for p in parts]),
            np.concatenate([p.key for p in parts]).astype(np.int64),
        )


@dataclass
class _Meta:
    """What every rank knows about the global input."""

    n_data: int
    n_random: int
    has_randoms: bool
    data_weighted: bool
    random_weighted: bool
    box: float | None
    los: str


def _split(n: int, size: int) -> np.ndarray:
    """Row boundaries of ``size`` near-equal contiguous slices of n rows."""
    return (np.arange(size + 1, dtype=np.int64) * n) // size


def _is_path(x: Any) -> bool:
    return isinstance(x, (str, os.PathLike))


def _file_format(path: Path) -> str:
    return _FILE_FORMATS.get(path.suffix.lower(), "text")


def _file_rows(path: Path, fmt: str) -> int:
    if fmt == "parquet":
        import pyarrow.parquet as pq

        return pq.ParquetFile(path).metadata.num_rows
    if fmt == "arrow":
        return _arrow_table(path).num_rows
    from astropy.io import fits

    with fits.open(path, memmap=True) as hdul:
        return int(_fits_hdu(hdul, path).header["NAXIS2"])


def _arrow_table(path: Path) -> Any:
    import pyarrow as pa

    source = pa.memory_map(str(path))
    try:
        return pa.ipc.open_file(source).read_all()
    except pa.ArrowInvalid:
        return pa.ipc.open_stream(pa.memory_map(str(path))).read_all()


def _fits_hdu(hdul: Any, path: Path) -> Any:
    for hdu in hdul:
        if getattr(hdu, "columns", None) is not None and hdu.header.get("NAXIS") == 2:
            return hdu
    raise InputError(f"{path}: no table extension found")


def _columns_slice(path: Path, fmt: str, start: int, stop: int) -> dict[str, np.ndarray]:
    """Numeric columns of rows [start, stop) of a Parquet, Arrow or FITS file."""
    if fmt == "fits":
        from astropy.io import fits

        with fits.open(path, memmap=True) as hdul:
            rec = _fits_hdu(hdul, path).data[start:stop]
            return {
                n: np.asarray(rec[n], dtype=np.float64)
                for n in rec.dtype.names
                if rec[n].ndim == 1 and np.issubdtype(rec[n].dtype, np.number)
            }
    import pyarrow as pa

    if fmt == "parquet":
        import pyarrow.parquet as pq

        pf = pq.ParquetFile(path)
        md = pf.metadata
        bounds = np.cumsum([0] + [md.row_group(i).num_rows for i in range(md.num_row_groups)])
        groups = [i for i in range(md.num_row_groups) if bounds[i] < stop and bounds[i + 1] > start]
        if groups:
            table = pf.read_row_groups(groups)
            first = int(bounds[groups[0]])
            table = table.slice(start - first, stop - start)
        else:
            table = pf.schema_arrow.empty_table()
    else:
        table = _arrow_table(path).slice(start, stop - start)
    return {
        n: table.column(n).to_numpy().astype(np.float64)
        for n in table.column_names
        if pa.types.is_integer(table.schema.field(n).type)
        or pa.types.is_floating(table.schema.field(n).type)
    }


def _catalogue_from_columns(
    cols: dict[str, np.ndarray], path: Path, n: int
) -> tuple[np.ndarray, np.ndarray | None]:
    from .catalog import _WEIGHT_NAMES, _from_columns, _pick

    wname = _pick(list(cols), _WEIGHT_NAMES)
    if n == 0:
        names = list(cols)
        if not (all(_pick(names, (a,)) for a in ("x", "y", "z")) or _pick(names, ("ra",))):
            from .errors import CatalogFormatError

            raise CatalogFormatError(f"{path}: needs columns x, y, z or ra, dec, z; found {names}")
        return np.zeros((0, 3)), (np.zeros(0) if wname else None)
    cat = _from_columns(cols, path, None)
    return cat.positions, cat.weights


def _load_one(comm: Any, src: Any, weights: Any, what: str) -> tuple[_Points | None, int, bool]:
    """This rank's contiguous slice of one catalogue; (points, n_total, weighted)."""
    MPI = _mpi()
    rank, size = comm.Get_rank(), comm.Get_size()
    is_random = what == "random"

    def describe() -> tuple[str, Any]:
        if src is None:
            return "none", None
        if _is_path(src):
            p = Path(src)
            if not p.exists():
                raise FileNotFoundError(f"{what} catalogue file not found: {p}")
            return ("file" if _file_format(p) != "text" else "text"), str(p)
        return "array", None

    kind, path = comm.bcast(_stage(comm, describe if rank == 0 else lambda: None), root=0)
    if kind == "none":
        return None, 0, False

    if kind == "file":
        p = Path(path)

        def read() -> tuple[np.ndarray, np.ndarray | None, int, int]:
            fmt = _file_format(p)
            if not p.exists():
                raise FileNotFoundError(f"{what} catalogue file not found: {p}")
            n = _file_rows(p, fmt)
            b = _split(n, size)
            start, stop = int(b[rank]), int(b[rank + 1])
            pos, w = _catalogue_from_columns(_columns_slice(p, fmt, start, stop), p, stop - start)
            if weights is not None:
                raise InputError(f"with a {what} file the weights come from its weight column")
            return pos, w, start, n

        pos, w, start, n = _stage(comm, read)
        counts = comm.allgather((n, w is not None))
        if len({c[0] for c in counts}) != 1:
            _agree(comm, InputError(f"{what} file {p} has a different length on different ranks"))
        weighted = any(c[1] for c in counts)
        if weighted and w is None:
            w = np.ones(len(pos))
    else:
        # arrays or text files: rank 0 reads / validates, then scatters slices
        def prepare() -> tuple[np.ndarray, np.ndarray | None]:
            if kind == "text":
                from .catalog import read_catalog

                cat = read_catalog(path)
                return cat.positions, _validate.weights(
                    cat.weights if weights is None else weights, len(cat), what
                )
            pos = _validate.positions(src, what).T
            w = _validate.weights(_validate.catalogue_weights(src, weights), len(pos), what)
            return pos, w

        full = _stage(comm, prepare) if rank == 0 else _stage(comm, lambda: None)
        n, weighted = comm.bcast((len(full[0]), full[1] is not None) if rank == 0 else None, root=0)
        b = _split(n, size)
        counts = np.diff(b)
        start = int(b[rank])
        pos = np.empty((int(counts[rank]), 3))
        send = (
            [np.ascontiguousarray(full[0]), (counts * 3, b[:-1] * 3), MPI.DOUBLE]
            if rank == 0
            else None
        )
        comm.Scatterv(send, [pos, MPI.DOUBLE], root=0)
        w = np.empty(int(counts[rank]))
        if weighted:
            sendw = [full[1], (counts, b[:-1]), MPI.DOUBLE] if rank == 0 else None
            comm.Scatterv(sendw, [w, MPI.DOUBLE], root=0)
        else:
            w.fill(1.0)
        del full
    if w is None:
        w = np.ones(len(pos))
    ids = np.arange(start, start + len(pos), dtype=np.int64)
    key = (ids << 1) | np.int64(is_random)
    return (
        _Points(np.ascontiguousarray(pos, dtype=np.float64), np.asarray(w, np.float64), key),
        n,
        weighted,
    )


def _load(
    comm: Any,
    data: Any,
    randoms: Any,
    data_weights: Any,
    random_weights: Any,
    box: float | None,
    los: str | None,
) -> tuple[_Points, _Meta]:
    box, los = comm.bcast(
        _stage(comm, _validate.box_and_los, box, los)
        if comm.Get_rank() == 0
        else _stage(comm, lambda: None),
        root=0,
    )
    d, nd, dwt = _load_one(comm, data, data_weights, "data")
    if d is None:
        _agree(comm, InputError("the data catalogue is missing (pass it on rank 0)"))
    r, nr, rwt = _load_one(comm, randoms, random_weights, "random")
    _agree(comm, InputError("the data catalogue is empty") if nd == 0 else None)
    _agree(comm, InputError("the random catalogue is empty") if r is not None and nr == 0 else None)
    pts = _Points.concat([d] if r is None else [d, r])
    return pts, _Meta(nd, nr, r is not None, dwt, rwt, box, los)


# -- decomposition ----------------------------------------------------------------
def _rcb_tree(sample: np.ndarray, first: int, n: int) -> Any:
    """Recursive coordinate bisection of a sample into n domains (ranks first..first+n-1).

    Leaves are rank numbers; nodes are (axis, cut, left, right), points with
    coordinate < cut going left. Non-power-of-two n split proportionally.
    """
    if n == 1:
        return first
    nl = n // 2
    if len(sample) == 0:
        return (0, np.inf, _rcb_tree(sample, first, nl), _rcb_tree(sample, first + nl, n - nl))
    axis = int(np.argmax(sample.max(axis=0) - sample.min(axis=0)))
    cut = float(np.quantile(sample[:, axis], nl / n))
    left = sample[:, axis] < cut
    return (
        axis,
        cut,
        _rcb_tree(sample[left], first, nl),
        _rcb_tree(sample[~left], first + nl, n - nl),
    )


def _assign(tree: Any, pos: np.ndarray) -> np.ndarray:
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


def _exchange(comm: Any, pts: _Points, idx: np.ndarray, dest: np.ndarray) -> _Points:
    """Alltoallv: sends pts[idx[i]] to rank dest[i]; returns what this rank receives."""
    MPI = _mpi()
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
    out = _Points(np.empty((nrecv, 3)), np.empty(nrecv), np.empty(nrecv, dtype=np.int64))
    comm.Alltoallv(
        [np.ascontiguousarray(sent.pos), (scount * 3, sdisp * 3), MPI.DOUBLE],
        [out.pos, (rcount * 3, rdisp * 3), MPI.DOUBLE],
    )
    comm.Alltoallv(
        [np.ascontiguousarray(sent.w), (scount, sdisp), MPI.DOUBLE],
        [out.w, (rcount, rdisp), MPI.DOUBLE],
    )
    comm.Alltoallv(
        [np.ascontiguousarray(sent.key), (scount, sdisp), MPI.INT64_T],
        [out.key, (rcount, rdisp), MPI.INT64_T],
    )
    return out


def _distance2_to_box(
    pos: np.ndarray, lo: np.ndarray, hi: np.ndarray, box: float | None
) -> np.ndarray:
    """Squared distance from each point to the box [lo, hi] (minimum image with a period)."""
    if box is None:
        d = np.maximum(lo - pos, 0.0) + np.maximum(pos - hi, 0.0)
    else:
        inside = (pos >= lo) & (pos <= hi)
        d = np.where(inside, 0.0, np.minimum(np.mod(lo - pos, box), np.mod(pos - hi, box)))
    return (d * d).sum(axis=1)


_QBITS, _IDBITS, _OCC_BINS = 26, 36, 4096


@dataclass
class _Order:
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
        q = np.floor(self.t(pos) * ((1 << _QBITS) / self.span)).astype(np.int64)
        return np.clip(q, 0, (1 << _QBITS) - 1)

    def ids(self, pos: np.ndarray, key: np.ndarray) -> np.ndarray:
        return ((self.q(pos) << _IDBITS) | (key >> 1)).astype(np.uint64)

    def bins(self, pos: np.ndarray) -> np.ndarray:
        return self.q(pos) >> (_QBITS - 12)


def _order(comm: Any, tree: Any, pts: _Points, meta: _Meta) -> _Order | None:
    """The key order for this decomposition (None: plain row ids, symmetric buffers)."""
    MPI = _mpi()
    if isinstance(tree, int) or not np.isfinite(tree[1]):
        return None
    if max(meta.n_data, meta.n_random) >= 1 << _IDBITS:
        return None
    axis, cut = int(tree[0]), float(tree[1])
    if meta.box is not None:
        return _Order(axis, 0.5 * cut, meta.box, meta.box)
    lo = np.array([pts.pos[:, axis].min() if len(pts) else np.inf])
    hi = np.array([pts.pos[:, axis].max() if len(pts) else -np.inf])
    comm.Allreduce(MPI.IN_PLACE, lo, op=MPI.MIN)
    comm.Allreduce(MPI.IN_PLACE, hi, op=MPI.MAX)
    span = float(hi[0] - lo[0])
    if not span > 0:
        return None
    return _Order(axis, float(lo[0]), span * (1 + 1e-9), None)


def _needed_by_order(
    order: _Order, pos: np.ndarray, occ_cum: np.ndarray, rmax: float
) -> np.ndarray:
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


def _decompose(
    comm: Any, pts: _Points, meta: _Meta, rmax: float
) -> tuple[_Points, np.ndarray, _Order | None]:
    """RCB owners + rmax buffers: (local points, buffer flags uint8, key order)."""
    rank, size = comm.Get_rank(), comm.Get_size()
    if size == 1:
        return pts, np.zeros(len(pts), np.uint8), None
    ntot = meta.n_data + meta.n_random
    frac = min(1.0, RCB_SAMPLE / max(ntot, 1))
    rng = np.random.default_rng(12345 + rank)
    k = min(len(pts), int(np.ceil(frac * len(pts))))
    sample = pts.pos[rng.choice(len(pts), size=k, replace=False)] if k else np.zeros((0, 3))
    samples = comm.gather(sample, root=0)
    tree = _rcb_tree(np.concatenate(samples), 0, size) if rank == 0 else None
    tree = comm.bcast(tree, root=0)
    order = _order(comm, tree, pts, meta)
    owners = _assign(tree, pts.pos)
    own = _exchange(comm, pts, np.arange(len(pts)), owners)
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
    reach = rmax * (1.0 + _BUFFER_SLACK)
    idx, dest = [], []
    for k in range(size):
        if k == rank or np.isnan(boxes[k, 0]) or len(own) == 0:
            continue
        near = _distance2_to_box(own.pos, boxes[k, :3], boxes[k, 3:], meta.box) <= reach**2
        if order is not None:
            sel = np.flatnonzero(near)
            sel = sel[_needed_by_order(order, own.pos[sel], occ_cum[k], reach)]
        else:
            sel = np.flatnonzero(near)
        idx.append(sel)
        dest.append(np.full(len(sel), k, dtype=np.int64))
    idx_a = np.concatenate(idx) if idx else np.zeros(0, np.int64)
    dest_a = np.concatenate(dest) if dest else np.zeros(0, np.int64)
    buf = _exchange(comm, own, idx_a, dest_a)
    flags = np.concatenate([np.zeros(len(own), np.uint8), np.ones(len(buf), np.uint8)])
    return _Points.concat([own, buf]), flags, order


# -- local graph --------------------------------------------------------------------
def _local_inputs(
    local: _Points, flags: np.ndarray, meta: _Meta, rmax: float, key_order: _Order | None = None
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
        far = meta.box / 2.0 if meta.box else 10.0 * rmax + 1.0
        d = np.array([[0.0, far], [0.0, far], [0.0, far]])
        return d, None, None, None, np.array([0, 1], np.uint64), np.ones(2, np.uint8), False
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
    return d, dw, r, rw, ids, np.ascontiguousarray(flags[sel]), swapped


def _owned_norms(
    comm: Any, local: _Points, flags: np.ndarray, meta: _Meta
) -> tuple[Norms, Norms | None]:
    """Global weight power sums from the owned points of every rank."""
    MPI = _mpi()
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
    out = []
    for t, weighted in enumerate((meta.data_weighted, meta.random_weighted)):
        n = int(ntot[t])
        out.append(
            Norms(n, *map(float, tot[5 * t + 1 : 5 * t + 5])) if weighted else Norms.of(n, None)
        )
    return out[0], (out[1] if meta.has_randoms else None)


class DistributedGraph(NeighbourGraph):
    """This rank's share of a neighbour graph spread over an MPI communicator.

    Nodes are the rank's owned points plus buffer copies (``region == 1``)
    of points within rmax of its domain. ``n_nodes``, ``n_edges``,
    :meth:`to_arrow` and :meth:`save` describe the local share; the count
    methods count locally and reduce over the communicator, returning the
    global result on rank 0 (``None`` elsewhere) or on every rank when
    ``allreduce`` is set.

    With more than one rank the node column ``index`` holds the owner key
    ``(q << 36) | row`` (q: position along the first cut axis, see
    :class:`_Order`); :meth:`rows` gives the input rows. On a rank whose points
    are all randoms the local graph stores them as data nodes (the core needs
    a data catalogue); counts are mapped back.
    """

    def __init__(
        self,
        inner: Any,
        comm: Any,
        meta: _Meta,
        norms: tuple[Norms, Norms | None],
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

    def rows(self) -> np.ndarray:
        """Row of each node in its input catalogue (data and randoms numbered apart)."""
        index = self.to_arrow().column("index").to_numpy()
        return index & np.uint64((1 << _IDBITS) - 1)

    @property
    def exact(self) -> bool:
        """Unweighted input: counts are reduced as 64-bit integers."""
        return not (self._meta.data_weighted or self._meta.random_weighted)

    @property
    def is_root(self) -> bool:
        return self.allreduce or self.comm.Get_rank() == 0

    def _reduce(self, arrays: list[np.ndarray]) -> list[np.ndarray] | None:
        """Sums same-shaped arrays over ranks (int64 when unweighted, else float64)."""
        MPI = _mpi()
        if self._swapped:
            arrays = arrays[::-1]
        shapes = [a.shape for a in arrays]
        flat = np.concatenate([np.asarray(a, np.float64).ravel() for a in arrays])
        send = flat
        if self.exact:
            as_int = np.rint(flat).astype(np.int64)
            # integers below 2**53 are exact in float64; agree before choosing the type
            if self.comm.allreduce(bool(np.array_equal(as_int, flat)), op=MPI.LAND):
                send = as_int
        recv = np.empty_like(send)
        if self.allreduce:
            self.comm.Allreduce(send, recv, op=MPI.SUM)
        else:
            self.comm.Reduce(send, recv, op=MPI.SUM, root=0)
        if not self.is_root:
            return None
        recv = recv.astype(np.float64)
        out, at = [], 0
        for s in shapes:
            k = int(np.prod(s))
            out.append(recv[at : at + k].reshape(s))
            at += k
        return out

    def _count(self, fn: Callable[[], Any]) -> Any:
        return _stage(self.comm, fn)

    def count_pairs(
        self, bins: Bins | Any, *, num_threads: int | None = None, progress: bool = False
    ) -> PairCounts | None:
        """Global DD, DR, RR (rank 0, or all ranks with ``allreduce``)."""
        from . import _validate as v
        from .paircounts import _reshape

        b = as_bins(bins)

        def local() -> tuple[np.ndarray, ...]:
            raw = self._g.count_pairs(
                b.edges.tolist(), b.nmu, num_threads=v.num_threads(num_threads), progress=None
            )
            return _reshape(raw, b)

        red = self._reduce(list(self._count(local)))
        if red is None:
            return None
        dn, rn = self._global_norms
        return PairCounts(b, *red, dn, rn, self._meta.box)

    def count_triangles(
        self, bins: Bins | Any, *, num_threads: int | None = None, progress: bool = False
    ) -> Any:
        """Global DDD, DDR, DRR, RRR with their pair counts; see :class:`TriangleCounts`."""
        from .npoint import TriangleCounts

        b = as_bins(bins)
        if b.nmu != 1:
            b = Bins(b.edges)
        nb = b.nbins

        def local() -> list[np.ndarray]:
            raw = self._g.count_triangles(
                b.edges.tolist(), num_threads=_validate.num_threads(num_threads), progress=None
            )
            return [np.asarray(a).reshape(nb, nb, nb) for a in raw]

        red = self._reduce(self._count(local))
        pairs = self.count_pairs(b, num_threads=num_threads)
        if red is None:
            return None
        dn, rn = self._global_norms
        return TriangleCounts(b, *red, pairs, dn, rn, self._meta.box)

    def count_quads(
        self,
        bins: Bins | Any,
        *,
        max_memory: int | str | None = "auto",
        num_threads: int | None = None,
        progress: bool = False,
    ) -> Any:
        """Global 4-point counts by canonical shape; see :class:`QuadCounts`."""
        from .npoint import QuadCounts

        b = as_bins(bins)
        if b.nmu != 1:
            b = Bins(b.edges)

        def local() -> tuple[np.ndarray, np.ndarray]:
            shapes, counts = self._g.count_quads(
                b.edges.tolist(),
                max_memory=_budget(max_memory),
                num_threads=_validate.num_threads(num_threads),
                progress=None,
            )
            return np.asarray(shapes), np.asarray(counts)

        shapes, counts = self._count(local)
        red = self._reduce(list(counts))
        pairs = self.count_pairs(b, num_threads=num_threads)
        if red is None:
            return None
        dn, rn = self._global_norms
        return QuadCounts(b, shapes, np.array(red), pairs, dn, rn)

    def __repr__(self) -> str:
        return (
            f"DistributedGraph(rank {self.comm.Get_rank()}/{self.comm.Get_size()}: "
            f"{self.n_owned} owned + {self.n_buffer} buffer nodes, {self.n_edges} edges, "
            f"rmax={self.rmax}, box={self.box})"
        )


def _rank_budget(comm: Any, max_memory: int | str | None) -> int | None:
    """Bytes allowed per rank; "auto" shares half the free memory among a node's ranks."""
    if max_memory is None or max_memory == "auto":
        node = comm.Split_type(_mpi().COMM_TYPE_SHARED)
        try:
            per_node = node.Get_size()
        finally:
            node.Free()
        return int(_budget("auto") / per_node)
    return _budget(max_memory)


def build_graph_mpi(
    data: Any,
    randoms: Any = None,
    *,
    rmax: float,
    rmin: float = 0.0,
    data_weights: Any = None,
    random_weights: Any = None,
    box: float | None = None,
    los: str | None = None,
    store_mu: bool = True,
    max_memory: int | str | None = "auto",
    num_threads: int | None = None,
    comm: Any,
    allreduce: bool = False,
) -> DistributedGraph:
    """Builds this rank's share of the neighbour graph (collective over ``comm``).

    Parameters are those of :meth:`NeighbourGraph.build`; arrays are read on
    rank 0, file paths are read in slices by every rank. ``max_memory`` is
    the budget per rank ("auto": half the memory available now, shared among
    the ranks of one node); it is checked on every rank before any rank
    builds. Returns a :class:`DistributedGraph` whose count
    methods reduce over ``comm``.

    Raises
    ------
    MPIError
        On every rank, when any rank failed (bad input, unreadable file,
        memory budget exceeded); the message names the first failing rank.
    """
    pts, meta = _load(comm, data, randoms, data_weights, random_weights, box, los)
    local, flags, order = _decompose(comm, pts, meta, float(rmax))
    del pts
    norms = _owned_norms(comm, local, flags, meta)
    d, dw, r, rw, ids, buf, swapped = _local_inputs(local, flags, meta, float(rmax), order)
    n_local, n_owned = len(local), int((flags == 0).sum())
    del local, flags  # the core copies what it needs
    from . import _lib

    budget = _rank_budget(comm, max_memory)

    def check_memory() -> None:
        if budget is None or n_local < 2:
            return
        est = _lib.Graph.build(
            d,
            dw,
            r,
            rw,
            float(rmin),
            float(rmax),
            meta.box,
            meta.los,
            store_mu=store_mu,
            num_threads=_validate.num_threads(num_threads),
            estimate_only=True,
        )
        if est["bytes"] > budget:
            raise MemoryBudgetError(
                f"this rank's neighbour graph needs an estimated {est['bytes']:.3e} bytes, over "
                f"the budget of {budget:.3e} bytes per rank: use more ranks, a smaller rmax "
                f"or raise max_memory"
            )

    _stage(comm, check_memory)
    g = _stage(
        comm,
        NeighbourGraph._build_raw,
        d,
        dw,
        r,
        rw,
        meta.box,
        meta.los,
        rmin=rmin,
        rmax=rmax,
        store_mu=store_mu,
        max_memory="unlimited",
        ids=ids,
        buffer=buf,
        num_threads=num_threads,
    )
    return DistributedGraph(g._g, comm, meta, norms, swapped, allreduce, n_owned, n_local - n_owned)


def count_mpi(
    kind: str,
    data: Any,
    randoms: Any = None,
    *,
    bins: Bins | Any,
    data_weights: Any = None,
    random_weights: Any = None,
    box: float | None = None,
    los: str | None = None,
    max_memory: int | str | None = "auto",
    num_threads: int | None = None,
    comm: Any,
    allreduce: bool = False,
) -> Any:
    """:func:`astrograph.count_pairs`, ``count_triangles`` or ``count_quads``
    (``kind`` = "pairs", "triangles", "quads") over MPI ranks.

    Each rank builds the graph of its domain plus buffer, counts the tuples it
    owns, and the counts are reduced to rank 0 (to every rank with
    ``allreduce``; other ranks get None). ``max_memory`` is per rank.
    """
    b = as_bins(bins)
    g = build_graph_mpi(
        data,
        randoms,
        rmax=b.rmax,
        rmin=b.rmin,
        data_weights=data_weights,
        random_weights=random_weights,
        box=box,
        los=los,
        store_mu=kind == "pairs" and b.nmu > 1,
        max_memory=max_memory,
        num_threads=num_threads,
        comm=comm,
        allreduce=allreduce,
    )
    if kind == "pairs":
        return g.count_pairs(b, num_threads=num_threads)
    if kind == "triangles":
        return g.count_triangles(b, num_threads=num_threads)
    return g.count_quads(b, max_memory=max_memory, num_threads=num_threads)
